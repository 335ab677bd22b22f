// Bills at the centre, on both backends: the biller registry, bill imports (all or nothing, by line), subscriber
// links, and bill payments as signed records — paid once, exactly, by a linked payer, undone only by a void.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBillsCsv } from '../../src/server/billing/bills-csv.ts';
import { Billing } from '../../src/server/billing/billing.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';

describe('bill CSV (pure)', () => {
  it('validates every row and reports errors by line', () => {
    const csv = [
      HEADER,
      'elec-hasakah,00123456,B-1,2026-11,"1,250,000",SYP,2026-12-15,1200,1450',
      'elec-hasakah,00123456,B-2,2026-11,0,SYP,2026-12-15,1200,1450',
      'elec-hasakah,00123456,B-3,2026-11,100,SYP,2026-02-30,1200,1450',
      'elec-hasakah,00123456,B-4,2026-11,100,SYP,2026-12-15,1450,1200',
      'elec-hasakah,0012 3456,B-5,2026-11,100,EUR,2026-12-15,x,1',
      'elec-hasakah,00123456,B-1,2026-11,100,SYP,2026-12-15,1,2',
      'elec-hasakah,00123456,B-7',
    ].join('\r\n');
    const { rows, errors } = parseBillsCsv(csv);
    expect(rows).toEqual([{ line: 2, billerId: 'elec-hasakah', subscriber: '00123456', billId: 'B-1', cycle: '2026-11', amount: 1_250_000, currency: 'SYP', due: '2026-12-15', previousReading: 1200, currentReading: 1450 }]);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(errors[0]!.message).toMatch(/amount "0"/);
    expect(errors[1]!.message).toMatch(/due date "2026-02-30"/);
    expect(errors[2]!.message).toMatch(/below the previous reading/);
    expect(errors[3]!.message).toMatch(/subscriber .*currency "EUR".*previous reading "x"/);
    expect(errors[4]!.message).toMatch(/repeats line 2/);
    expect(errors[5]!.message).toMatch(/expected 9 fields/);
  });
  it('refuses a wrong header and a file with no rows', () => {
    expect(parseBillsCsv('biller,subscriber\nx,y').errors).toEqual([{ line: 1, message: expect.stringMatching(/header must be/) }]);
    expect(parseBillsCsv(`${HEADER}\n`).errors).toEqual([{ line: 2, message: 'no rows' }]);
  });
});

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('bills at the centre on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let billing: Billing;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;

  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    billing = central.billing();
    t1 = await registeredTerminal(central, 'T1', { branch: 'B1', region: 'hasakah', operators: { 'op-1': 'supervisor', op: 'cashier' }, supervisors: ['sup'] });
    t2 = await registeredTerminal(central, 'T2', { branch: 'B2', region: 'hasakah', operators: { 'op-1': 'supervisor', op: 'cashier' } });
    await enrolCustomer(central, t1, 'P1', 'A1');
    await enrolCustomer(central, t1, 'P2', 'A2');
    await central.creditAccount('A1', 5_000_000, 'SYP');
    await central.creditAccount('A2', 5_000_000, 'SYP');
    await billing.addBiller({ id: 'elec-hasakah', name: 'Electricity, Hasakah', region: 'hasakah' });
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  const bills = [HEADER, 'elec-hasakah,00123456,B-1,2026-11,250000,SYP,2026-12-15,1200,1450', 'elec-hasakah,00123456,B-2,2026-10,180000,SYP,2026-11-15,1000,1200'].join('\n');
  const payBill = (t: TestTerminal, billRef: string, amountMinor: number, who: { customerId: string; accountId: string } = { customerId: 'P1', accountId: 'A1' }, purchaseId = `PUR-${t.id}-${billRef}-${Math.random().toString(36).slice(2, 8)}`) =>
    t.chain.next({ type: 'purchase', operatorId: 'op', purchaseId, ...who, amountMinor, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec-hasakah', billRef } });
  const balance = (acct: string) => central.repo.tx((r) => r.balance(acct, 'SYP'));

  it.skipIf(skip)('registers billers once and lists them', async () => {
    await expect(billing.addBiller({ id: 'elec-hasakah', name: 'again', region: 'hasakah' })).rejects.toMatchObject({ code: 'BILLER_EXISTS' });
    await expect(billing.addBiller({ id: 'bad id', name: 'x', region: 'r' })).rejects.toMatchObject({ code: 'BILLING_INVALID' });
    expect(await billing.listBillers()).toEqual([expect.objectContaining({ id: 'elec-hasakah', name: 'Electricity, Hasakah', region: 'hasakah' })]);
  });

  it.skipIf(skip)('imports bills all or nothing; the same bill imported twice is refused whole and nothing changes', async () => {
    expect(await billing.importBills(bills)).toMatchObject({ bills: 2, byBiller: { 'elec-hasakah': 2 } });
    const again = [HEADER, 'elec-hasakah,00999999,B-9,2026-11,1000,SYP,2026-12-15,1,2', 'elec-hasakah,00123456,B-1,2026-11,250000,SYP,2026-12-15,1200,1450', 'water-x,1,W-1,2026-11,5,SYP,2026-12-15,1,2'].join('\n');
    const err = await billing.importBills(again).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BILLS_INVALID', errors: [{ line: 3, message: expect.stringMatching(/already imported/) }, { line: 4, message: expect.stringMatching(/not registered/) }] });
    expect((await billing.listBills()).map((b) => b.bill_id)).toEqual(['B-2', 'B-1']); // B-9 was not imported either
    // Importing moves no money: the biller is credited only when a bill is paid.
    expect(await balance('biller:elec-hasakah')).toBe(0);
    // The region's terminals see the bills due in their signed feed.
    const feed = await central.feed((await central.repo.tx((r) => r.getTerminal('T2')))!, 0);
    expect(feed.events.filter((e) => e.kind === 'bill').map((e) => e.data)).toEqual(expect.arrayContaining([expect.objectContaining({ billId: 'B-1', amountMinor: 250000, status: 'open', previousReading: 1200, currentReading: 1450 })]));
  });

  it.skipIf(skip)('a linked payer pays a bill exactly once: the second payment, from another counter, goes to review and moves no money', async () => {
    await billing.importBills(bills);
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    const [first] = await central.ingest('T1', [payBill(t1, 'B-1', 250000)]);
    expect(first).toMatchObject({ status: 'accepted' });
    expect(await balance('acct:A1')).toBe(5_000_000 - 250000);
    expect(await balance('biller:elec-hasakah')).toBe(250000);
    expect(await balance('merchant:T1')).toBe(0); // a bill's money goes to the biller, not to the shop
    expect((await billing.listBills({ status: 'paid' })).map((b) => [b.bill_id, b.paid_by])).toEqual([['B-1', 'T1#3']]);
    // The same bill paid again at another counter (it was offline and did not know): review, no money moved.
    const [second] = await central.ingest('T2', [payBill(t2, 'B-1', 250000)]);
    expect(second).toMatchObject({ status: 'review', reason: expect.stringMatching(/^BILL_ALREADY_PAID: .*T1#3/) });
    expect(await balance('acct:A1')).toBe(5_000_000 - 250000);
    expect(await balance('biller:elec-hasakah')).toBe(250000);
    expect(await central.repo.tx((r) => r.ledgerTotals())).toMatchObject({ unbalanced: 0 });
  });

  it.skipIf(skip)('two counters paying the same bill at the same moment: exactly one is applied (the bill row is locked)', async () => {
    const many = [HEADER, ...Array.from({ length: 12 }, (_, i) => `elec-hasakah,00123456,R-${i},c${i},1000,SYP,2026-12-15,${i},${i + 1}`)].join('\n');
    await billing.importBills(many);
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P2' });
    // Each counter's batch pays all twelve (in opposite orders); the batches run at once.
    const ids = Array.from({ length: 12 }, (_, i) => `R-${i}`);
    const outcomes = (await Promise.all([
      central.ingest('T1', ids.map((id) => payBill(t1, id, 1000))),
      central.ingest('T2', [...ids].reverse().map((id) => payBill(t2, id, 1000, { customerId: 'P2', accountId: 'A2' }))),
    ])).flat();
    expect(outcomes.filter((r) => r.status === 'accepted')).toHaveLength(12);
    expect(outcomes.filter((r) => r.status === 'review').every((r) => r.reason!.startsWith('BILL_ALREADY_PAID'))).toBe(true);
    expect(await balance('biller:elec-hasakah')).toBe(12_000);
    expect((await balance('acct:A1')) + (await balance('acct:A2'))).toBe(10_000_000 - 12_000);
  });

  it.skipIf(skip)('refuses a typed amount, an unknown bill or biller, and a payer not linked to the subscriber', async () => {
    await billing.importBills(bills);
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'account', payerId: 'A1' });
    const out = await central.ingest('T1', [
      payBill(t1, 'B-1', 1000), // less than the bill
      payBill(t1, 'B-1', 250001), // more than the bill
      payBill(t1, 'B-404', 1000),
      payBill(t1, 'B-1', 250000, { customerId: 'P2', accountId: 'A2' }), // P2 is not linked to 00123456
      t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: 'PUR-x', customerId: 'P1', accountId: 'A1', amountMinor: 5, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'water-x', billRef: 'B-1' } }),
    ]);
    expect(out.map((r) => r.reason?.split(':')[0])).toEqual(['BILL_AMOUNT_MISMATCH', 'BILL_AMOUNT_MISMATCH', 'BILL_UNKNOWN', 'BILL_PAYER_NOT_LINKED', 'BILLER_UNKNOWN']);
    expect(await balance('biller:elec-hasakah')).toBe(0);
    expect(await balance('acct:A1')).toBe(5_000_000);
    // Linked by account: the account's owner pays.
    expect(await central.ingest('T1', [payBill(t1, 'B-1', 250000)])).toMatchObject([{ status: 'accepted' }]);
  });

  it.skipIf(skip)('a bill payment is undone only by a void, which reopens the bill; a refund of it is refused', async () => {
    await billing.importBills(bills);
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    const pay = payBill(t1, 'B-2', 180000, undefined, 'PUR-B2');
    await central.ingest('T1', [pay]);
    const refund = t1.chain.next({ type: 'refund', operatorId: 'op', refundId: 'R-1', originalPurchaseId: 'PUR-B2', originalTerminalId: 'T1', originalSeq: pay.seq, customerId: 'P1', accountId: 'A1', amountMinor: 180000, currency: 'SYP', approvedBy: 'sup', reason: 'wrong bill' });
    expect(await central.ingest('T1', [refund])).toMatchObject([{ status: 'review', reason: expect.stringMatching(/^REFUND_OF_BILL/) }]);
    const voided = t1.chain.next({ type: 'void', operatorId: 'op', voidId: 'VD-1', targetTerminalId: 'T1', targetSeq: pay.seq, targetType: 'purchase', targetId: 'PUR-B2', amountMinor: 180000, currency: 'SYP', approvedBy: 'sup', reason: 'wrong bill' });
    expect(await central.ingest('T1', [voided])).toMatchObject([{ status: 'accepted' }]);
    expect(await balance('biller:elec-hasakah')).toBe(0);
    expect(await balance('acct:A1')).toBe(5_000_000);
    expect((await billing.listBills({ status: 'open' })).map((b) => b.bill_id)).toContain('B-2');
    // Due again: it can be paid again (once).
    expect(await central.ingest('T1', [payBill(t1, 'B-2', 180000)])).toMatchObject([{ status: 'accepted' }]);
  });

  it.skipIf(skip)('links: a person must be enrolled, the biller registered; unlink removes the right to pay', async () => {
    await expect(billing.link({ billerId: 'elec-hasakah', subscriber: '001', payerKind: 'person', payerId: 'P404' })).rejects.toMatchObject({ code: 'PERSON_UNKNOWN' });
    await expect(billing.link({ billerId: 'nope', subscriber: '001', payerKind: 'account', payerId: 'A1' })).rejects.toMatchObject({ code: 'BILLER_UNKNOWN' });
    expect(await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' })).toBe(true);
    expect(await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' })).toBe(false);
    expect(await billing.listLinks()).toEqual([expect.objectContaining({ subscriber: '00123456', payer_kind: 'person', payer_id: 'P1' })]);
    expect(await billing.unlink({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' })).toBe(true);
    await billing.importBills(bills);
    expect(await central.ingest('T1', [payBill(t1, 'B-1', 250000)])).toMatchObject([{ status: 'review', reason: expect.stringMatching(/^BILL_PAYER_NOT_LINKED/) }]);
  });
});
