// Rule 3 under concurrency: two terminals' batches, each with an enrolment binding the same account, run at once on
// PostgreSQL (READ COMMITTED). Each looks for the account's owner before the other has committed; without a lock on
// the account both find none, and the account ends with two owners who may both spend it. One must be refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';
import { PG_URL } from '../server/helpers.ts';
import { openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const ROUNDS = 6;

describe.each(backends)('two enrolments binding one account at once (%s)', (kind) => {
  let c: Centre;
  let t1: TestTerminal;
  let t2: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    t1 = await registeredTerminal(c.central, 'T1', { branch: 'B1', region: 'R1' });
    t2 = await registeredTerminal(c.central, 'T2', { branch: 'B2', region: 'R1' });
  });
  afterEach(async () => c.close());

  /** A batch: the enrolment first, then records that keep its transaction open a while (unknown customers: review). */
  function batch(t: TestTerminal, personId: string, accountId: string | undefined, n: number) {
    const template = enrolmentBytes(personId);
    const enrolment = t.chain.next({
      type: 'enrolment', operatorId: 'op-1', enrolmentId: `E-${personId}`, personId,
      person: { name: 'Test Person', idNumber: 'X123', ...(accountId ? { accountId } : {}) }, templateDigests: [createHash('sha256').update(template).digest('hex')],
      hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
    });
    return [enrolment, ...Array.from({ length: 40 }, (_, i) => t.chain.next(purchaseDraft(t.id, n * 1000 + i, 'P404', 'A404', 1)))];
  }

  it(`binds each account to one person, however the batches interleave (${ROUNDS} rounds, named and by person id)`, async () => {
    for (let n = 0; n < ROUNDS; n++) {
      // Even rounds: both name account ACC-n. Odd rounds: one is person ACC-n without an account, the other names ACC-n.
      await Promise.all([
        c.central.ingest('T1', n % 2 === 0 ? batch(t1, `X${n}`, `ACC-${n}`, n) : batch(t1, `ACC-${n}`, undefined, n)),
        c.central.ingest('T2', batch(t2, `Y${n}`, `ACC-${n}`, n)),
      ]);
    }
    const rows = await c.central.repo.tx((r) => r.conn.all<{ acct: string; n: number }>(sql`SELECT COALESCE(account_id, id) AS acct, COUNT(*) AS n FROM persons WHERE status <> 'revoked' GROUP BY COALESCE(account_id, id) HAVING COUNT(*) > 1`));
    expect(rows).toEqual([]);
    const refusals = await c.central.reviewList();
    expect(refusals.filter((x) => refusalCodeOf(x.reason) === 'ACCOUNT_ALREADY_OWNED')).toHaveLength(ROUNDS);
  });
});
