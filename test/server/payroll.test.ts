// Payroll: CSV validation by line, all-or-nothing import, one voucher per person and period, leases per branch,
// redemption only by the lease holder, lease moves completed by the holder's release (test/security/lease-handover.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaseMove, parsePayrollCsv, PayrollImportError, pickLeaseHolder } from '../../src/server/payroll.ts';
import { Central } from '../../src/server/service.ts';
import { registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

describe('payroll CSV (pure)', () => {
  it('validates every row and reports errors by line', () => {
    const csv = ['period,person,amount,currency,branch', '2026-11,P1,150000,SYP,B1', '2026-13,P2,10,SYP,B1', '2026-11,P3,-5,SYP,B1', '2026-11,P4,10,EUR,B1', '2026-11,P1,9,SYP,B1', '2026-11,P5,10', ''].join('\n');
    const { rows, errors } = parsePayrollCsv(csv);
    expect(rows.map((r) => r.personId)).toEqual(['P1']);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7]);
    expect(errors[0]!.message).toMatch(/period "2026-13"/);
    expect(errors[1]!.message).toMatch(/amount "-5"/);
    expect(errors[2]!.message).toMatch(/currency "EUR"/);
    expect(errors[3]!.message).toMatch(/repeat line 2/);
    expect(errors[4]!.message).toMatch(/expected 5 fields/);
  });
  it('reads a file saved by Excel: BOM, CRLF, quoted cells with commas (grouped amounts), quotes and line breaks', () => {
    const csv = '\uFEFFperiod,person,amount,currency,branch\r\n2026-11,P1,"1,500,000",SYP,B1\r\n"2026-11","P2",250000,"USD","B1"\r\n   \r\n2026-11,"P3, Jr",10,SYP,B1\r\n2026-11,"P4\nX",10,SYP,B1\r\n2026-11,P5,"1,50",SYP,B1\r\n2026-11,P6,"10,SYP,B1\r\n';
    const { rows, errors } = parsePayrollCsv(csv.slice(0, csv.lastIndexOf('2026-11,P6')));
    expect(rows).toEqual([
      { line: 2, period: '2026-11', personId: 'P1', amount: 1_500_000, currency: 'SYP', branch: 'B1' },
      { line: 3, period: '2026-11', personId: 'P2', amount: 250_000, currency: 'USD', branch: 'B1' },
    ]);
    // A comma inside quotes stays in its cell: the columns do not shift; the id itself is then refused, by line.
    expect(errors.map((e) => e.line)).toEqual([5, 6, 8]);
    expect(errors[0]!.message).toMatch(/person id is not a valid id/);
    expect(errors[1]!.message).toMatch(/person id is not a valid id/);
    expect(errors[2]!.message).toMatch(/amount "1,50"/);
    // An unclosed quote is one clear error, not a misread row.
    expect(parsePayrollCsv(csv).errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/not a CSV file: .*[Qq]uote/) })]);
    expect(parsePayrollCsv(csv).rows).toEqual([]);
  });
  it('refuses a wrong header and an empty file', () => {
    expect(parsePayrollCsv('a,b\n1,2').errors[0]).toMatchObject({ line: 1 });
    expect(parsePayrollCsv('period,person,amount,currency,branch\n').errors[0]!.message).toBe('no rows');
  });
  it('spreads leases over the branch terminals', () => {
    expect(pickLeaseHolder(['T2', 'T1'], new Map([['T1', 3], ['T2', 1]]))).toBe('T2');
    expect(pickLeaseHolder(['T2', 'T1'], new Map())).toBe('T1');
  });
  it('moves a lease within the branch: withdrawn from an active holder, at once from one no longer active', () => {
    const v = { status: 'open', branch: 'B1', lease_terminal: 'T1', lease_pending: null };
    const target = { id: 'T2', branch: 'B1', status: 'active' };
    expect(leaseMove(v, { status: 'active' }, target)).toEqual({ kind: 'pending' });
    expect(leaseMove(v, { status: 'revoked' }, target)).toEqual({ kind: 'now' });
    expect(leaseMove(v, { status: 'active' }, { ...target, branch: 'B2' })).toMatchObject({ kind: 'refused', why: expect.stringMatching(/another branch/) });
    expect(leaseMove(v, { status: 'active' }, { ...target, status: 'revoked' })).toMatchObject({ kind: 'refused', why: expect.stringMatching(/not active/) });
    expect(leaseMove({ ...v, status: 'redeemed' }, undefined, target)).toMatchObject({ kind: 'refused', why: expect.stringMatching(/redeemed/) });
    expect(leaseMove(v, { status: 'active' }, { ...target, id: 'T1' })).toMatchObject({ kind: 'refused', why: expect.stringMatching(/already holds/) });
    expect(leaseMove({ ...v, lease_pending: 'T2' }, { status: 'active' }, { ...target, id: 'T1' })).toEqual({ kind: 'cancel' });
  });
});

describe('payroll vouchers at the centre', () => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;

  beforeEach(async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t1 = await registeredTerminal(central, 'T1', { branch: 'B1', operators: { 'op-1': 'supervisor', op: 'paymaster' } });
    t2 = await registeredTerminal(central, 'T2', { branch: 'B1', operators: { 'op-1': 'supervisor', op: 'paymaster' } });
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  const csv = ['period,person,amount,currency,branch', '2026-11,E1,150000,SYP,B1', '2026-11,E2,90000,SYP,B1'].join('\n');
  const payout = (t: TestTerminal, v: { id: string; lease_id: string; person_id: string; amount: number }) =>
    t.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: v.person_id, accountId: v.person_id, period: '2026-11', amountMinor: v.amount, currency: 'SYP' });

  it('imports all or nothing, one voucher per person and period', async () => {
    const r = await central.importPayroll(csv);
    expect(r.vouchers).toBe(2);
    expect(Object.values(r.byTerminal).sort()).toEqual([1, 1]);
    // the same people and period again: refused as a whole, nothing new
    const again = await central.importPayroll(`${csv}\n2026-11,E3,1,SYP,B1`).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PayrollImportError);
    expect((again as PayrollImportError).errors.map((e) => e.line)).toEqual([2, 3]);
    expect(await central.repo.tx((x) => x.getVoucher('V-2026-11-E3'))).toBeUndefined();
    const bad = await central.importPayroll('period,person,amount,currency,branch\n2026-12,E1,5,SYP,NOBRANCH').catch((e: unknown) => e);
    expect((bad as PayrollImportError).errors[0]!.message).toMatch(/no active terminal/);
    // the salary is owed: payroll postings balance
    expect(await central.repo.tx((x) => x.balance('salary:E1', 'SYP'))).toBe(150000);
  });

  it('lets only the lease holder redeem, once; others go to review', async () => {
    await central.importPayroll(csv);
    const v = (await central.repo.tx((x) => x.getVoucher('V-2026-11-E1')))!;
    const holder = v.lease_terminal === 'T1' ? t1 : t2;
    const other = holder === t1 ? t2 : t1;
    const [wrong] = await central.ingest(other.id, [payout(other, v)]);
    expect(wrong).toMatchObject({ status: 'review', reason: expect.stringMatching(/not leased to this terminal/) });
    const [ok] = await central.ingest(holder.id, [payout(holder, v)]);
    expect(ok!.status).toBe('accepted');
    const [twice] = await central.ingest(holder.id, [payout(holder, v)]);
    expect(twice).toMatchObject({ status: 'review', reason: expect.stringMatching(/already redeemed/) });
    expect(await central.repo.tx((x) => x.balance('salary:E1', 'SYP'))).toBe(0);
    expect(await central.repo.tx((x) => x.balance(`cash:${holder.id}`, 'SYP'))).toBe(150000);
    const review = await central.reviewList();
    expect(review.map((r) => r.terminal_id)).toEqual([other.id, holder.id]);
    const st = await central.statement('E1');
    expect(st.payouts).toHaveLength(1);
    expect(st.payouts[0]!.record).toBe(`${holder.id}#1`);
  });
});
