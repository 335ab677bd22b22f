// "One active mandate per subscriber" (rule 10) under concurrency: two counters each sign a mandate for the same
// electricity subscriber (two people of the household, both linked to it) and upload at the same moment. On
// PostgreSQL (READ COMMITTED) each looked for the subscriber's active mandate before the other committed, found none,
// and both became active: then a cancellation finds the other person's mandate (MANDATE_NOT_OWNER) and one person
// cannot stop their account paying. One of the two must be refused (MANDATE_EXISTS).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { sql } from '../../src/server/sql.ts';
import { PG_URL } from '../server/helpers.ts';
import { enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const ROUNDS = 6;

describe.each(backends)('two mandates for one subscriber at once (%s)', (kind) => {
  let c: Centre;
  let t1: TestTerminal;
  let t2: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    const operators = { 'op-1': 'supervisor', 'op-cashier': 'cashier' } as const;
    t1 = await registeredTerminal(c.central, 'T1', { branch: 'B1', region: 'R1', operators });
    t2 = await registeredTerminal(c.central, 'T2', { branch: 'B2', region: 'R1', operators });
    await enrolCustomer(c.central, t1, 'P1', 'A1');
    await enrolCustomer(c.central, t1, 'P2', 'A2');
    const billing = c.central.billing();
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    for (let n = 0; n < ROUNDS; n++) {
      for (const p of ['P1', 'P2']) await billing.link({ billerId: 'elec', subscriber: `0012345${n}`, payerKind: 'person', payerId: p });
    }
  });
  afterEach(async () => c.close());

  /** A batch: the mandate first, then records that keep its transaction open a while (unknown customers: review). */
  const batch = (t: TestTerminal, personId: string, accountId: string, n: number) => [
    t.chain.next({ type: 'mandate', operatorId: 'op-cashier', mandateId: `M-${t.id}-${n}`, personId, accountId, billerId: 'elec', subscriber: `0012345${n}`, maxMinor: 50_000, currency: 'SYP', pinVerified: true }),
    ...Array.from({ length: 40 }, (_, i) => t.chain.next(purchaseDraft(t.id, n * 1000 + i, 'P404', 'A404', 1))),
  ];

  it(`leaves each subscriber one active mandate, however the batches interleave (${ROUNDS} rounds)`, async () => {
    for (let n = 0; n < ROUNDS; n++) await Promise.all([c.central.ingest('T1', batch(t1, 'P1', 'A1', n)), c.central.ingest('T2', batch(t2, 'P2', 'A2', n))]);
    const twice = await c.central.repo.tx((r) => r.conn.all<{ subscriber: string }>(sql`SELECT subscriber FROM mandates WHERE status = 'active' GROUP BY biller_id, subscriber HAVING COUNT(*) > 1`));
    expect(twice).toEqual([]);
    const refused = (await c.central.reviewList()).filter((x) => refusalCodeOf(x.reason) === 'MANDATE_EXISTS');
    expect(refused).toHaveLength(ROUNDS);
  });
});
