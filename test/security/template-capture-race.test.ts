// One palm capture offered as a template update by two counters at the same moment (PostgreSQL, READ COMMITTED):
// a capture is used once (invariants rule 12, `template_updates.capture_digest` unique). Both uploads read "not
// used yet"; without a lock the second then broke on the unique index and its whole batch failed (every other
// record in it with it) instead of the update going to review as a replay. Each capture must end in exactly one
// kept update, and the other counter's record in review as TEMPLATE_UPDATE_REPLAYED, its batch applied.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

const ROUNDS = 12;

describe.skipIf(!PG_URL)('one capture offered by two counters at once (postgres)', () => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;
  let enrolledDigest: string;
  beforeEach(async () => {
    const db = await tempDb('postgres');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t1 = await registeredTerminal(central, 'T1', { region: 'R1' });
    t2 = await registeredTerminal(central, 'T2', { region: 'R1' });
    const e = await enrolCustomer(central, t1, 'P1', 'A1');
    enrolledDigest = createHash('sha256').update(e.template).digest('hex');
    await enrolCustomer(central, t1, 'P2', 'A2');
    await central.creditAccount('A1', 1_000_000, 'SYP');
    await central.creditAccount('A2', 1_000_000, 'SYP');
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  const update = (t: TestTerminal, k: number, captureDigest: string) =>
    t.chain.next({ type: 'template_update', operatorId: 'op-1', updateId: `U-${t.id}-${k}`, personId: 'P1', hand: 'left', enrolledDigest, captureDigest, anchorScore: 1200, pinVerified: false });

  it('keeps one update per capture and sends the other to review, the rest of its batch applied', async () => {
    for (let k = 0; k < ROUNDS; k++) {
      const capture = createHash('sha256').update(`capture ${k}`).digest('hex');
      // each batch also carries a purchase (of another customer each: a shared balance row would queue the batches)
      const b1 = [update(t1, k, capture), t1.chain.next(purchaseDraft('T1', k, 'P1', 'A1', 10))];
      const b2 = [update(t2, k, capture), t2.chain.next(purchaseDraft('T2', k, 'P2', 'A2', 10))];
      const [r1, r2] = await Promise.allSettled([central.ingest('T1', b1), central.ingest('T2', b2)]);
      expect({ round: k, t1: r1.status, t2: r2.status }).toEqual({ round: k, t1: 'fulfilled', t2: 'fulfilled' });
      const results = [(r1 as PromiseFulfilledResult<Awaited<ReturnType<Central['ingest']>>>).value, (r2 as PromiseFulfilledResult<Awaited<ReturnType<Central['ingest']>>>).value];
      expect(results.map((r) => r[1]!.status)).toEqual(['accepted', 'accepted']);
      const updates = results.map((r) => r[0]!);
      expect(updates.filter((u) => u.status === 'accepted')).toHaveLength(1);
      expect(updates.filter((u) => u.status === 'review').map((u) => refusalCodeOf(u.reason))).toEqual(['TEMPLATE_UPDATE_REPLAYED']);
      const kept = await central.repo.tx((r) => r.conn.all(sql`SELECT update_id FROM template_updates WHERE capture_digest = ${capture}`));
      expect(kept).toHaveLength(1);
    }
  }, 120_000);
});
