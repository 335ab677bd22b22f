// Offline purchase limits (DESIGN §5), pure (the in-memory bank's model of src/ledger/limits.ts). Which limits a
// supervisor may raise is policy, the same as the ledger's SUPERVISOR_OVERRIDABLE: the per-transaction cap and the
// customer's offline allowance can be raised for one purchase; the terminal's unsynced total and the age limits
// cannot (they protect the centre, and only the link clears them).
import type { LimitReason } from './purchase.ts';

export interface OfflineLimits {
  /** Largest single purchase (minor units). */
  transactionCap: number;
  /** Largest total of unsynced purchase value this terminal may hold (minor units). */
  terminalTotal: number;
  /** Oldest unsent record allowed before the terminal insists on the link. */
  maxRecordAgeMs: number;
  /** Longest time without a successful sync. */
  maxSyncAgeMs: number;
}

export interface LimitInput {
  amount: number;
  /** What is left of the customer's offline allowance (minor units). */
  allowanceLeft: number;
  /** Unsynced purchase value already held by the terminal (minor units). */
  terminalUnsynced: number;
  oldestUnsentAt: number | null;
  lastSyncAt: number | null;
  now: number;
  /** A supervisor approved this purchase above the overridable limits. */
  override: boolean;
}

export const OVERRIDABLE: ReadonlySet<LimitReason> = new Set(['limit-transaction-cap', 'limit-customer-allowance']);

export function checkOfflineLimits(l: OfflineLimits, i: LimitInput): { ok: true } | { ok: false; reason: LimitReason; overridable: boolean } {
  const refuse = (reason: LimitReason) => ({ ok: false as const, reason, overridable: OVERRIDABLE.has(reason) });
  if (i.lastSyncAt === null || i.now - i.lastSyncAt > l.maxSyncAgeMs) return refuse('limit-sync-age');
  if (i.oldestUnsentAt !== null && i.now - i.oldestUnsentAt > l.maxRecordAgeMs) return refuse('limit-record-age');
  if (!i.override && i.amount > l.transactionCap) return refuse('limit-transaction-cap');
  if (i.terminalUnsynced + i.amount > l.terminalTotal) return refuse('limit-terminal-total');
  if (!i.override && i.amount > i.allowanceLeft) return refuse('limit-customer-allowance');
  return { ok: true };
}

/** The most the customer can pay offline now without a supervisor: 0 when the link is needed first (the ledger's spendableOffline). */
export function spendableOffline(l: OfflineLimits, i: Omit<LimitInput, 'amount' | 'override'>): number {
  if (i.lastSyncAt === null || i.now - i.lastSyncAt > l.maxSyncAgeMs) return 0;
  if (i.oldestUnsentAt !== null && i.now - i.oldestUnsentAt > l.maxRecordAgeMs) return 0;
  return Math.max(0, Math.min(l.transactionCap, l.terminalTotal - i.terminalUnsynced, i.allowanceLeft));
}
