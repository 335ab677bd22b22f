import { describe, expect, it } from 'vitest';
import { counted, difference, reduceDayClose, startDayClose } from '../../src/flows/day-close.ts';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { reduceReversal, startReversal, type ReversalKind } from '../../src/flows/reversal.ts';
import { reduceStatement, startStatement } from '../../src/flows/statement.ts';
import { SYP, testPorts, type TestPorts } from './helpers.ts';

function buy(ports: TestPorts, requestId: string, minor: number) {
  const r = ports.bank.authorizePurchase({ requestId, kind: 'purchase', personId: 'ahmad', amount: SYP(minor), operatorId: 'cashier-1', overrideBy: null, pinVerified: false });
  if (!r.ok) throw new Error(r.reason);
  return r.receipt;
}

function reversalDriver(ports: TestPorts, kind: ReversalKind) {
  return new FlowDriver(reduceReversal, startReversal({ operatorId: 'cashier-1', kind }), createPerformers(ports).reversal);
}

async function approve(d: ReturnType<typeof reversalDriver>, ports: TestPorts) {
  d.dispatch({ type: 'confirm' });
  ports.palm.present('op-sara');
  await d.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
  d.dispatch({ type: 'auth.submit', pin: '9999' });
}

describe('refund and void', () => {
  it('a void needs the supervisor and happens once', async () => {
    const ports = testPorts();
    const sale = buy(ports, 'r1', 5000);
    const d = reversalDriver(ports, 'void');
    d.dispatch({ type: 'reference.set', reference: String(sale.seq) });
    await d.waitFor((s) => s.step === 'found');
    await approve(d, ports);
    const done = await d.waitFor((s) => s.step === 'done');
    expect(done.step === 'done' && done.receipt).toMatchObject({ kind: 'void', total: SYP(5000) });
    const again = reversalDriver(ports, 'refund');
    again.dispatch({ type: 'reference.set', reference: String(sale.seq) });
    await again.waitFor((s) => s.step === 'found');
    await approve(again, ports);
    expect(await again.waitFor((s) => s.step === 'refused')).toMatchObject({ reason: 'already-reversed' });
  });

  it('a payout cannot be refunded, an unknown number is said so', async () => {
    const ports = testPorts();
    const p = ports.bank.recordPayout({ personId: 'ahmad', voucherIds: ['v-ahmad-10'], operatorId: 'cashier-1' });
    const d = reversalDriver(ports, 'refund');
    d.dispatch({ type: 'reference.set', reference: '٩٩' });
    expect(await d.waitFor((s) => s.step === 'lookup' && s.error !== null)).toMatchObject({ error: 'not-found' });
    d.dispatch({ type: 'reference.set', reference: String(p.ok && p.receipt.seq) });
    expect(await d.waitFor((s) => s.step === 'refused')).toMatchObject({ reason: 'not-reversible' });
  });

  it('the operator asking cannot be the approving supervisor', () => {
    const s = startReversal({ operatorId: 'super-1', kind: 'refund' });
    const found = reduceReversal({ step: 'found', original: { recordId: 'x', seq: 1, kind: 'purchase', at: '', amount: SYP(1), personName: null }, ...{ operatorId: 'super-1', kind: 'refund' } }, { type: 'confirm' });
    expect(found.state.step === 'override' && found.state.auth).toMatchObject({ need: 'supervisor', exclude: 'super-1' });
    expect(s.state.step).toBe('lookup');
  });
});

describe('statement', () => {
  it('shows the identified person their payouts and purchases, newest first', async () => {
    const ports = testPorts();
    ports.bank.recordPayout({ personId: 'ahmad', voucherIds: ['v-ahmad-09'], operatorId: 'cashier-1' });
    buy(ports, 'r1', 700);
    const d = new FlowDriver(reduceStatement, startStatement('cashier-1'), createPerformers(ports).statement);
    ports.palm.present('ahmad');
    const s = await d.waitFor((x) => x.step === 'shown');
    expect(s.step === 'shown' && s.entries.map((e) => [e.kind, e.amount.minor])).toEqual([['purchase', 700], ['payout', 150_000]]);
  });
  it('a voided purchase is marked, the void is its own row with its sign, and the allowance left is carried', async () => {
    const ports = testPorts();
    const sale = buy(ports, 'r1', 700);
    const v = reversalDriver(ports, 'void');
    v.dispatch({ type: 'reference.set', reference: String(sale.seq) });
    await v.waitFor((s) => s.step === 'found');
    await approve(v, ports);
    await v.waitFor((s) => s.step === 'done');
    const d = new FlowDriver(reduceStatement, startStatement('cashier-1'), createPerformers(ports).statement);
    ports.palm.present('ahmad');
    const s = await d.waitFor((x) => x.step === 'shown');
    if (s.step !== 'shown') throw new Error(s.step);
    expect(s.entries.map((e) => [e.kind, e.sign, e.voided ?? false, e.voidOf ?? null])).toEqual([['void', 1, false, String(sale.seq)], ['purchase', -1, true, null]]);
    // expiresAt is computed from the clock at each call, so compare what is left and whether it expired.
    const left = ports.bank.allowanceLeft('ahmad');
    expect(s.allowance && { left: s.allowance.left, expired: s.allowance.expired }).toEqual(left && { left: left.left, expired: left.expired });
  });
  it('refuses an unknown palm and a revoked person', async () => {
    const ports = testPorts();
    for (const [who, reason] of [['stranger', 'unknown-palm'], ['omar', 'person-revoked'], ['twin', 'ambiguous']]) {
      const d = new FlowDriver(reduceStatement, startStatement('c'), createPerformers(ports).statement);
      ports.palm.present(who!);
      expect(await d.waitFor((x) => x.step === 'refused')).toMatchObject({ reason });
    }
  });
});

describe('day close', () => {
  const denominations = [{ currency: 'SYP', value: 500_000 }, { currency: 'SYP', value: 100_000 }, { currency: 'SYP', value: 5_000 }];
  it('computes counted cash and the difference per currency', () => {
    const c = counted([SYP(1000)], [{ currency: 'SYP', value: 500, count: 1 }, { currency: 'USD', value: 100, count: 2 }]);
    expect(c).toEqual([SYP(500), { currency: 'USD', minor: 200 }]);
    expect(difference([SYP(1000)], c)).toEqual([SYP(-500), { currency: 'USD', minor: 200 }]);
  });

  it('a difference needs a reason; the Z-report is a record with totals by type', async () => {
    const ports = testPorts();
    ports.bank.recordPayout({ personId: 'ahmad', voucherIds: ['v-ahmad-09', 'v-ahmad-10'], operatorId: 'cashier-1' });
    buy(ports, 'r1', 700);
    const d = new FlowDriver(reduceDayClose, startDayClose({ operatorId: 'cashier-1', denominations }), createPerformers(ports).dayClose);
    const s = await d.waitFor((x) => x.step === 'count');
    // 10,000,000 float − 300,000 paid out.
    expect(s.step === 'count' && s.totals.expectedCash).toEqual([SYP(9_700_000)]);
    expect(s.step === 'count' && s.totals.byType.find((t) => t.kind === 'payout')).toEqual({ kind: 'payout', count: 1, totals: [SYP(300_000)] });
    d.dispatch({ type: 'count.set', currency: 'SYP', value: 500_000, count: 19 });
    d.dispatch({ type: 'count.set', currency: 'SYP', value: 100_000, count: 1 });
    d.dispatch({ type: 'count.set', currency: 'SYP', value: 5_000, count: 19 }); // 9,695,000: 5,000 short
    d.dispatch({ type: 'close.confirm' });
    expect(d.state).toMatchObject({ step: 'count', error: 'reason-required' });
    d.dispatch({ type: 'reason.set', reason: 'one note torn, returned to branch' });
    d.dispatch({ type: 'close.confirm' });
    const closed = await d.waitFor((x) => x.step === 'closed');
    expect(closed.step === 'closed' && closed.difference).toEqual([SYP(-5000)]);
    expect(ports.bank.records.at(-1)?.kind).toBe('day-close');
    // After the close, the next report starts empty.
    expect(ports.bank.dayTotals().byType.every((t) => t.count === 0)).toBe(true);
  });

  it('no difference, no reason needed; a negative count is ignored', () => {
    const start = startDayClose({ operatorId: 'c', denominations: [{ currency: 'SYP', value: 100 }] });
    let s = reduceDayClose(start.state, { type: 'totals.loaded', totals: { fromSeq: 1, toSeq: 1, byType: [], expectedCash: [SYP(300)] } }).state;
    s = reduceDayClose(s, { type: 'count.set', currency: 'SYP', value: 100, count: -3 }).state;
    s = reduceDayClose(s, { type: 'count.set', currency: 'SYP', value: 100, count: 3 }).state;
    const r = reduceDayClose(s, { type: 'close.confirm' });
    expect(r.state.step).toBe('recording');
    expect(r.effects[0]).toMatchObject({ type: 'recordDayClose', difference: [SYP(0)], reason: '' });
  });
});
