/**
 * The module's user table against the table the terminal's store expects (pure planning). The host's
 * user-table sync for modules that match on their own (src/host/module-sync.ts) plans its start-up reconcile
 * with it; ScannerClient.reconcileUsers() is the same plan for a technician's tools.
 */
import type { ModuleUser } from './serial-driver.ts';

export interface ExpectedUser {
  /** The pseudonymous id the store put in user_name. */
  name: string;
  /** The module id the store recorded, if any. */
  userId?: number;
}

export interface ReconcilePlan {
  /** In both, same id. */
  matched: Array<{ name: string; userId: number }>;
  /** On the module under an id the store does not have (or has otherwise): the store adopts this id. */
  adopt: Array<{ name: string; userId: number; storeHad?: number }>;
  /** On the module but not expected (revoked, or left by a lost enrolment), or a second id for one name. */
  orphans: ModuleUser[];
  /** Expected but not on the module: enrol again (with the person, or by feature transfer where offered). */
  missing: ExpectedUser[];
}

export function planReconcile(moduleUsers: readonly ModuleUser[], expected: readonly ExpectedUser[]): ReconcilePlan {
  const plan: ReconcilePlan = { matched: [], adopt: [], orphans: [], missing: [] };
  const byName = new Map<string, ModuleUser[]>();
  for (const u of moduleUsers) byName.set(u.name, [...(byName.get(u.name) ?? []), u]);
  const wanted = new Set<string>();
  for (const e of expected) {
    wanted.add(e.name);
    const onModule = (byName.get(e.name) ?? []).slice().sort((a, b) => a.userId - b.userId);
    if (onModule.length === 0) {
      plan.missing.push(e);
      continue;
    }
    // Keep the id the store knows if the module has it; else the lowest.
    const keep = onModule.find((u) => u.userId === e.userId) ?? onModule[0]!;
    if (keep.userId === e.userId) plan.matched.push({ name: e.name, userId: keep.userId });
    else plan.adopt.push({ name: e.name, userId: keep.userId, ...(e.userId !== undefined ? { storeHad: e.userId } : {}) });
    for (const u of onModule) if (u !== keep) plan.orphans.push(u);
  }
  for (const u of moduleUsers) if (!wanted.has(u.name)) plan.orphans.push(u);
  return plan;
}
