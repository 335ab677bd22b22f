/**
 * A terminal data folder with N people enrolled, for `palmpay bench terminal`: the demo branch (its people,
 * vouchers and operators, their palms enrolled from synthetic images through the real extractor, sealed in the
 * store), plus N − (demo palms) further people whose templates come from the fitted synthetic model (the
 * identify bench's), sealed in the same table. Ends with the sealed palm-index snapshot the kiosk loads at start,
 * registered with a centre when one is given (so a terminal can start on it as a provisioned counter).
 */
import { createHash } from 'node:crypto';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { DEMO_OPERATORS, DEMO_PEOPLE, seedDemo, seedDemoPalms } from '../../src/host/demo/seed.ts';
import { syntheticPalms } from '../../src/host/demo/palm-images.ts';
import { encodePalm, PalmIdentifier } from '../../src/host/adapters/palm.ts';
import { loadPalmIndex, writePalmSnapshot, PALM_SNAPSHOT_FILE } from '../../src/host/adapters/palm-index.ts';
import { capture, defaultModel, FieldPool, modelTemplate } from '../../src/biometrics/identify/synthetic.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { join } from 'node:path';

export interface BenchFolder {
  dataDir: string;
  /** People enrolled (templates in the store and in the snapshot). */
  enrolled: number;
  /** The person whose palm the bench lays on the glass (a demo customer with an allowance). */
  customer: string;
  operator: string;
  /** An open terminal on the folder (the caller closes it before another process opens the folder). */
  terminal: Terminal;
  identifier: PalmIdentifier;
  snapshotBytes: number;
}

export const BENCH_CUSTOMER = 'cust-zin';

export async function prepareFolder(
  dataDir: string,
  o: { n: number; frame: { width: number; height: number }; register?: (t: Terminal) => Promise<void>; progress: (phase: string, done: number, total: number) => void },
): Promise<BenchFolder> {
  provisionTerminal(dataDir, 'T-BENCH', { protector: filePermissionsProtector() });
  const terminal = openTerminal(dataDir, { protector: filePermissionsProtector() });
  await seedDemo(terminal, { openingFloat: 200_000_000, pinCost: { N: 1024, r: 8, p: 1 } });
  const demo = [...DEMO_PEOPLE, ...DEMO_OPERATORS].map((p) => ({ personId: p.id, palm: p.id }));
  o.progress('enrol demo palms (extractor)', 0, demo.length);
  await seedDemoPalms(terminal, demo, syntheticPalms(o.frame));
  o.progress('enrol demo palms (extractor)', demo.length, demo.length);

  // The rest of the N from the synthetic model: one person row, one account and one sealed template each.
  const { store, keys } = terminal;
  const model = defaultModel();
  const r = rng(1414);
  const pool = new FieldPool(model, r);
  const fillers = Math.max(0, o.n - demo.length);
  const now = Date.now();
  const batch = 5000;
  for (let start = 0; start < fillers; start += batch) {
    const rows: Array<{ personId: string; templateId: string; sealed: Uint8Array; digest: string }> = [];
    const end = Math.min(fillers, start + batch);
    for (let i = start; i < end; i++) {
      const personId = `bench-${i}`;
      const templateId = `bench-t-${i}`;
      const bytes = encodePalm({ ...modelTemplate(model, [capture(model, pool.person(model, r), r, { exact: true })]), hand: 'left' });
      rows.push({ personId, templateId, sealed: keys.sealer.seal(bytes, templateId), digest: createHash('sha256').update(bytes).digest('hex') });
    }
    store.transaction(() => {
      for (const x of rows) {
        store.people.upsert({ personId: x.personId, name: `Bench ${x.personId}`, idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
        store.people.upsertAccountRow({ accountId: `acc-${x.personId}`, personId: x.personId, currency: 'SYP', status: 'active', updatedAtMs: now });
      }
      store.templates.addMany(rows.map((x) => ({ templateId: x.templateId, personId: x.personId, hand: 'left' as const, sealed: x.sealed, digest: x.digest, provisional: false, createdAtMs: now })));
    });
    o.progress('enrol synthetic people', end, fillers);
  }
  if (o.register) await o.register(terminal);

  // The kiosk's own start-up path builds the index (rebuilt from the rows: no snapshot yet) and writes the snapshot.
  o.progress('palm index snapshot', 0, 1);
  const identifier = new PalmIdentifier();
  const deps = { store, sealer: keys.sealer, file: join(dataDir, PALM_SNAPSHOT_FILE) };
  loadPalmIndex(identifier, deps);
  const w = writePalmSnapshot(identifier, deps);
  o.progress('palm index snapshot', 1, 1);
  const operator = DEMO_OPERATORS.find((x) => x.role === 'cashier')?.id ?? DEMO_OPERATORS[0]!.id;
  return { dataDir, enrolled: identifier.size, customer: BENCH_CUSTOMER, operator, terminal, identifier, snapshotBytes: w.bytes };
}
