// Attacks on the centre's money rules by a registered terminal that signs whatever it likes with its own key
// (issue 13, items 1, 2, 4 and 9). Each attack must end in review with its typed reason, and no balance may move.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import type { RecordDraft, SignedRecord } from '../../src/protocol/record.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { PG_URL } from '../server/helpers.ts';
import { balanceOf, balances, enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

const voidDraft = (target: SignedRecord, over: Partial<Record<string, unknown>> = {}): RecordDraft => {
  const t = target as SignedRecord & { purchaseId?: string; voucherId?: string; voidId?: string; amountMinor?: number; currency?: 'SYP' };
  return {
    type: 'void', operatorId: 'op-cashier', voidId: `VOID-${randomBytes(4).toString('hex')}`, targetTerminalId: target.terminalId, targetSeq: target.seq,
    targetType: target.type === 'salary_payout' ? 'salary_payout' : 'purchase', targetId: t.purchaseId ?? t.voucherId ?? t.voidId ?? 'x',
    amountMinor: t.amountMinor ?? 1, currency: t.currency ?? 'SYP', approvedBy: 'op-super', reason: 'customer changed mind', ...over,
  } as RecordDraft;
};
const refundDraft = (p: SignedRecord & { type: 'purchase' }, amount: number, over: Partial<Record<string, unknown>> = {}): RecordDraft => ({
  type: 'refund', operatorId: 'op-cashier', refundId: `R-${randomBytes(4).toString('hex')}`, originalPurchaseId: p.purchaseId, originalTerminalId: p.terminalId,
  originalSeq: p.seq, customerId: p.customerId, accountId: p.accountId, amountMinor: amount, currency: p.currency, approvedBy: 'op-super', reason: 'returned goods', ...over,
} as RecordDraft);

describe.each(backends)('money attacks on the centre (%s)', (kind) => {
  let c: Centre;
  let t1: TestTerminal;
  let t2: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    const operators = { 'op-1': 'supervisor', 'op-cashier': 'cashier', op: 'paymaster' } as const;
    t1 = await registeredTerminal(c.central, 'T1', { branch: 'B1', region: 'R1', supervisors: ['op-super'], operators });
    t2 = await registeredTerminal(c.central, 'T2', { branch: 'B2', region: 'R1', supervisors: ['op-super'], operators });
    expect((await enrolCustomer(c.central, t1, 'P1', 'A1')).registry.status).toBe('confirmed');
    await c.central.creditAccount('A1', 1_000_000, 'SYP');
  });
  afterEach(async () => c.close());

  /** Ingests one record and returns its result, expecting review with `code`. */
  async function refused(t: TestTerminal, rec: SignedRecord, code: string) {
    const [res] = await c.central.ingest(t.id, [rec]);
    expect(res).toMatchObject({ seq: rec.seq, status: 'review' });
    expect(refusalCodeOf(res!.reason)).toBe(code);
    return res!;
  }
  const accepted = async (t: TestTerminal, rec: SignedRecord) => expect((await c.central.ingest(t.id, [rec]))[0]).toEqual({ seq: rec.seq, status: 'accepted' });

  it('1. an enrolment naming another person’s account is refused and never binds it', async () => {
    const before = await balances(c.central);
    // another palm, the victim's account; its templates then have no enrolment to go to
    const err = await enrolCustomer(c.central, t2, 'MALLORY', 'A1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PERSON_UNKNOWN' });
    const stored = await c.central.repo.tx((r) => r.getRecord('T2', 1));
    expect(stored).toMatchObject({ status: 'review' });
    expect(refusalCodeOf(stored!.reason)).toBe('ACCOUNT_ALREADY_OWNED');
    expect(await c.central.repo.tx((r) => r.getPerson('MALLORY'))).toBeUndefined();
    expect((await c.central.repo.tx((r) => r.personByAccount('A1')))!.id).toBe('P1');
    // Mallory then tries to spend the victim's money: unknown customer, nothing moves.
    await refused(t2, t2.chain.next(purchaseDraft('T2', 1, 'MALLORY', 'A1', 500_000)), 'CUSTOMER_UNKNOWN');
    expect(await balances(c.central)).toEqual(before);
    // and no terminal is ever told to bind A1 to Mallory
    const terminal = (await c.central.repo.tx((r) => r.getTerminal('T1')))!;
    const feed = await c.central.feed(terminal, 0);
    expect(feed.events.filter((e) => e.kind === 'person').map((e) => e.key)).toEqual(['P1']);
  });

  it('2a. a purchase fully refunded, then voided, is not paid back twice', async () => {
    const p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100_000)) as SignedRecord & { type: 'purchase' };
    await accepted(t1, p);
    await accepted(t1, t1.chain.next(refundDraft(p, 100_000)));
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(voidDraft(p)), 'VOID_EXCEEDS_REMAINING');
    expect(await balances(c.central)).toEqual(before);
    expect(await balanceOf(c.central, 'acct:A1')).toBe(1_000_000);
  });

  it('2e. a purchase voided, then refunded (whole or in part), is not paid back twice', async () => {
    const p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100_000)) as SignedRecord & { type: 'purchase' };
    await accepted(t1, p);
    await accepted(t1, t1.chain.next(voidDraft(p)));
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(refundDraft(p, 100_000)), 'REFUND_EXCEEDS_ORIGINAL');
    await refused(t1, t1.chain.next(refundDraft(p, 1)), 'REFUND_EXCEEDS_ORIGINAL');
    expect(await balances(c.central)).toEqual(before);
    expect(await balanceOf(c.central, 'acct:A1')).toBe(1_000_000);
  });

  it('2b. a void of a void is refused', async () => {
    const p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100_000));
    await accepted(t1, p);
    const v = t1.chain.next(voidDraft(p));
    await accepted(t1, v);
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(voidDraft(v, { targetType: 'purchase', amountMinor: 100_000 })), 'VOID_TARGET_NOT_PURCHASE');
    expect(await balances(c.central)).toEqual(before);
    // and voiding the purchase a second time is refused as well
    await refused(t1, t1.chain.next(voidDraft(p)), 'VOID_ALREADY');
    expect(await balances(c.central)).toEqual(before);
  });

  it('2c. payout → void → void of the void → payout again cannot pay a salary twice', async () => {
    await c.central.importPayroll('period,person,amount,currency,branch\n2026-11,E1,5000000,SYP,B1');
    const v = (await c.central.repo.tx((r) => r.getVoucher('V-2026-11-E1')))!;
    const payout = () => t1.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: 'E1', accountId: 'E1', period: '2026-11', amountMinor: 5_000_000, currency: 'SYP' });
    const first = payout();
    await accepted(t1, first);
    const afterFirst = await balances(c.central);
    const void1 = t1.chain.next(voidDraft(first));
    await refused(t1, void1, 'VOID_TARGET_NOT_PURCHASE');
    await refused(t1, t1.chain.next(voidDraft(void1, { targetType: 'purchase', amountMinor: 5_000_000 })), 'VOID_TARGET_UNKNOWN');
    await refused(t1, payout(), 'VOUCHER_ALREADY_PAID');
    expect(await balances(c.central)).toEqual(afterFirst);
    expect(await balanceOf(c.central, 'salary:E1')).toBe(0);
  });

  it('2d. a void that names another amount, id or currency than its target is refused', async () => {
    const p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100_000));
    await accepted(t1, p);
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(voidDraft(p, { amountMinor: 1 })), 'VOID_MISMATCH');
    await refused(t1, t1.chain.next(voidDraft(p, { targetId: 'T1-p2' })), 'VOID_MISMATCH');
    await refused(t1, t1.chain.next(voidDraft(p, { currency: 'USD' })), 'VOID_MISMATCH');
    expect(await balances(c.central)).toEqual(before);
  });

  it('4a. a confirmed customer’s purchase charged to someone else’s account is refused', async () => {
    await enrolCustomer(c.central, t1, 'P2', 'A2');
    await c.central.creditAccount('A2', 1_000_000, 'SYP');
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(purchaseDraft('T1', 9, 'P1', 'A2', 50_000)), 'ACCOUNT_NOT_CUSTOMERS');
    expect(await balances(c.central)).toEqual(before);
  });

  it('4b. a refund of another terminal’s purchase, of an unknown original, or for another customer is refused', async () => {
    await enrolCustomer(c.central, t1, 'P2', 'A2');
    const p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100_000)) as SignedRecord & { type: 'purchase' };
    await accepted(t1, p);
    const before = await balances(c.central);
    // the attack: another terminal, original seq 999, another customer
    await refused(t2, t2.chain.next(refundDraft(p, 100_000, { originalSeq: 999, customerId: 'P2', accountId: 'A2' })), 'REFUND_MISMATCH');
    await refused(t2, t2.chain.next(refundDraft(p, 100_000)), 'REFUND_OTHER_TERMINAL');
    await refused(t1, t1.chain.next(refundDraft(p, 100_000, { customerId: 'P2', accountId: 'A2' })), 'REFUND_MISMATCH');
    await refused(t1, t1.chain.next(refundDraft(p, 100_000, { originalPurchaseId: 'NO-SUCH' })), 'REFUND_ORIGINAL_UNKNOWN');
    await refused(t1, t1.chain.next(refundDraft(p, 100_001)), 'REFUND_EXCEEDS_ORIGINAL');
    expect(await balances(c.central)).toEqual(before);
    // two partial refunds up to the purchase are fine, a third is not
    await accepted(t1, t1.chain.next(refundDraft(p, 60_000)));
    await accepted(t1, t1.chain.next(refundDraft(p, 40_000)));
    const after = await balances(c.central);
    await refused(t1, t1.chain.next(refundDraft(p, 1)), 'REFUND_EXCEEDS_ORIGINAL');
    expect(await balances(c.central)).toEqual(after);
  });

  it('9. record times of 0 or 8.64e15 and a serverTime.ref that is no signature are refused', async () => {
    const before = await balances(c.central);
    await refused(t1, t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 10), 0, { hlc: { ms: 0, c: 0 } }), 'RECORD_TIME_IMPLAUSIBLE');
    await refused(t1, t1.chain.next(purchaseDraft('T1', 2, 'P1', 'A1', 10), 0, { hlc: { ms: 8.64e15, c: 0 } }), 'RECORD_TIME_IMPLAUSIBLE');
    await refused(t1, t1.chain.next(purchaseDraft('T1', 3, 'P1', 'A1', 10), Date.now(), { serverTime: { ms: Date.now(), ref: 'not-a-signature' } }), 'SERVER_TIME_FORGED');
    // a real signed time replayed with another ms is forged too
    const real = c.central.signedTime();
    await refused(t1, t1.chain.next(purchaseDraft('T1', 4, 'P1', 'A1', 10), Date.now(), { serverTime: { ms: real.ms + 1, ref: real.sig } }), 'SERVER_TIME_FORGED');
    expect(await balances(c.central)).toEqual(before);
    await accepted(t1, t1.chain.next(purchaseDraft('T1', 5, 'P1', 'A1', 10), Date.now(), { serverTime: { ms: real.ms, ref: real.sig } }));
  });
});

// Statements (item 8): test/security/statement-scope.test.ts (the person present, at the counter; none by a typed id at the centre).

// A purchase id is booked once. Two terminals uploading the same purchase id at the same moment each look it up
// before the other has committed; the row written second must not silently drop its purchase while its money moves.
describe.runIf(PG_URL)('a purchase id reused by two terminals at the same time (postgres)', () => {
  it('books it once: the second goes to review as PURCHASE_ID_USED and moves nothing', async () => {
    const { default: pg } = await import('pg');
    const c = await openCentre('postgres');
    const hold = new pg.Client({ connectionString: c.url });
    // Its own session: pg_stat_activity is one snapshot per transaction, and `hold` stays in one.
    const probe = new pg.Client({ connectionString: c.url });
    try {
      const t1 = await registeredTerminal(c.central, 'T1', { branch: 'B1', region: 'R1' });
      const t2 = await registeredTerminal(c.central, 'T2', { branch: 'B2', region: 'R1' });
      await enrolCustomer(c.central, t1, 'P1', 'A1');
      await enrolCustomer(c.central, t2, 'P2', 'A2');
      await c.central.creditAccount('A1', 100_000, 'SYP');
      await c.central.creditAccount('A2', 100_000, 'SYP');
      // A first purchase on A1 publishes A1's allowance row, which T1's next batch will replace.
      await accepted(c, t1, t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 10)));
      const before = await balances(c.central);

      // T1's batch is held after it wrote its purchase row and before it commits: a lock on A1's allowance row.
      await hold.connect();
      await probe.connect();
      await hold.query('BEGIN');
      await hold.query(`SELECT 1 FROM feed WHERE audience = 'region:R1' AND kind = 'allowance' AND key = 'A1:SYP' FOR UPDATE`);
      const shared = { purchaseId: 'SHARED-1' };
      const first = c.central.ingest('T1', [t1.chain.next({ ...purchaseDraft('T1', 2, 'P1', 'A1', 1_000), ...shared } as RecordDraft)]);
      await waitingOn(probe, '%DELETE FROM feed%');
      // T2 books the same id while T1 has not committed: its lookup cannot see T1's row yet.
      const second = c.central.ingest('T2', [t2.chain.next({ ...purchaseDraft('T2', 1, 'P2', 'A2', 1_000), ...shared } as RecordDraft)]);
      await waitingOn(probe, '%INSERT INTO purchases%');
      await hold.query('COMMIT');
      const [a, b] = await Promise.all([first, second]);
      expect(a![0]).toMatchObject({ status: 'accepted' });
      expect(b![0]).toMatchObject({ status: 'review' });
      expect(refusalCodeOf(b![0]!.reason)).toBe('PURCHASE_ID_USED');
      const after = await balances(c.central);
      expect(after['acct:A2 SYP']).toBe(before['acct:A2 SYP']);
      expect(after['merchant:T2 SYP'] ?? 0).toBe(before['merchant:T2 SYP'] ?? 0);
      expect(after['acct:A1 SYP']).toBe(before['acct:A1 SYP']! - 1_000);
      expect(await c.central.repo.tx((r) => r.txnOfRecord('T2', 2))).toBeUndefined();
      expect((await c.central.repo.tx((r) => r.ledgerTotals())).unbalanced).toBe(0);
    } finally {
      await hold.end().catch(() => undefined);
      await probe.end().catch(() => undefined);
      await c.close();
    }
  });
});

const accepted = async (c: Centre, t: TestTerminal, rec: SignedRecord) => expect((await c.central.ingest(t.id, [rec]))[0]).toEqual({ seq: rec.seq, status: 'accepted' });

/** Waits until some other session of this database waits on a lock in a statement like `pattern`. */
async function waitingOn(probe: { query: (q: string, v: unknown[]) => Promise<{ rows: unknown[] }> }, pattern: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await probe.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 AND datname = current_database()`, [pattern]);
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  const { rows } = await probe.query(`SELECT wait_event_type, state, left(query, 80) AS q FROM pg_stat_activity WHERE datname = current_database()`, []);
  throw new Error(`no session came to wait in ${pattern}: ${JSON.stringify(rows)}`);
}
