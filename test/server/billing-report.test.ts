// A person's monthly financial report on both backends: every kind of movement with its sign, fees 0, and
// opening + movements = closing, both ends checked against the ledger.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportHtml } from '../../src/server/report/html.ts';
import { personReport } from '../../src/server/report/report.ts';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('financial report on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let clock = Date.now();

  beforeEach(async () => {
    if (skip) return;
    clock = Date.now();
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url, { now: () => clock });
    t1 = await registeredTerminal(central, 'T1', { branch: 'B1', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' }, supervisors: ['sup'] });
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);

  it.skipIf(skip)('shows opening balance, every kind of movement signed, fees 0 and the closing balance; opening + movements = closing = ledger', async () => {
    const now = Date.now();
    const thisMonth = month(now);
    const monthStart = Date.parse(`${thisMonth}-01T00:00:00Z`);
    const nextMonth = new Date(Date.UTC(new Date(monthStart).getUTCFullYear(), new Date(monthStart).getUTCMonth() + 1, 1)).getTime();
    // Last month: a deposit and a salary credit make the opening balances.
    clock = monthStart - 86_400_000;
    await central.creditAccount('A1', 400_000, 'SYP');
    await central.importPayroll(['period,person,amount,currency,branch', `${month(clock)},P1,300000,SYP,B1`].join('\n'));
    // This month, at the counter.
    clock = now;
    await enrolCustomer(central, t1, 'P1', 'A1');
    await central.creditAccount('A1', 100_000, 'SYP');
    const billing = central.billing(() => clock);
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    await billing.importBills(['biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading', `elec,001,B-1,c1,45000,SYP,2026-12-31,1,2`].join('\n'));
    await billing.link({ billerId: 'elec', subscriber: '001', payerKind: 'account', payerId: 'A1' });
    const v = (await central.repo.tx((r) => r.voucherFor('P1', month(monthStart - 86_400_000))))!;
    const buy = (id: string, amountMinor: number) => t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: id, customerId: 'P1', accountId: 'A1', amountMinor, currency: 'SYP', pinVerified: true, offline: false }, clock);
    const p1 = buy('PU-1', 80_000);
    const p2 = buy('PU-2', 5_000);
    const res = await central.ingest('T1', [
      t1.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: 'P1', accountId: 'P1', period: v.period, amountMinor: 300000, currency: 'SYP' }, clock),
      p1, p2,
      t1.chain.next({ type: 'refund', operatorId: 'op', refundId: 'RF-1', originalPurchaseId: 'PU-1', originalTerminalId: 'T1', originalSeq: p1.seq, customerId: 'P1', accountId: 'A1', amountMinor: 10_000, currency: 'SYP', approvedBy: 'sup', reason: 'returned' }, clock),
      t1.chain.next({ type: 'void', operatorId: 'op', voidId: 'VD-1', targetTerminalId: 'T1', targetSeq: p2.seq, targetType: 'purchase', targetId: 'PU-2', amountMinor: 5_000, currency: 'SYP', approvedBy: 'sup', reason: 'mistake' }, clock),
      t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: 'PU-B', customerId: 'P1', accountId: 'A1', amountMinor: 45_000, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec', billRef: 'B-1' } }, clock),
    ]);
    expect(res.map((r) => r.status)).toEqual(Array(6).fill('accepted'));
    // Next month: not in this month's report.
    clock = nextMonth + 3600_000;
    await central.creditAccount('A1', 7, 'SYP');

    const rep = await personReport(central.repo, 'P1', thisMonth);
    const salary = rep.accounts.find((a) => a.role === 'salary')!;
    const acct = rep.accounts.find((a) => a.role === 'customer')!;
    expect(salary).toMatchObject({ account: 'salary:P1', opening_minor: 300000, fees_minor: 0, closing_minor: 0 });
    expect(salary.movements.map((m) => [m.kind, m.amount_minor, m.period])).toEqual([['salary_paid_out', -300000, v.period]]);
    expect(acct).toMatchObject({ account: 'acct:A1', opening_minor: 400_000, fees_minor: 0 });
    expect(acct.movements.map((m) => [m.kind, m.amount_minor])).toEqual([
      ['deposit', 100_000], ['purchase', -80_000], ['purchase', -5_000], ['refund', 10_000], ['void', 5_000], ['bill', -45_000],
    ]);
    for (const a of rep.accounts) {
      expect(a.opening_minor + a.movements.reduce((s, m) => s + m.amount_minor, 0)).toBe(a.closing_minor);
      expect(a.movements.at(-1)?.balance_after_minor ?? a.opening_minor).toBe(a.closing_minor);
    }
    // Against the ledger: closing = today's balance less what was booked after the month.
    const ledger = await central.repo.tx((r) => r.balance('acct:A1', 'SYP'));
    expect(acct.closing_minor).toBe(ledger - 7);
    expect(acct.closing_minor).toBe(400_000 + 100_000 - 80_000 - 5_000 + 10_000 + 5_000 - 45_000);
    const booked = await central.repo.tx((r) => r.conn.get<{ s: number }>(sql`SELECT SUM(p.amount) AS s FROM postings p JOIN txns t ON t.id = p.txn_id WHERE p.account = 'acct:A1' AND t.created_at < ${monthStart}`));
    expect(acct.opening_minor).toBe(Number(booked!.s));
    // The previous month's salary credit shows in that month's report, with its period.
    const last = await personReport(central.repo, 'P1', month(monthStart - 86_400_000));
    expect(last.accounts.find((a) => a.role === 'salary')!.movements).toEqual([expect.objectContaining({ kind: 'salary', amount_minor: 300000, period: v.period })]);

    const html = reportHtml(rep, 'ar');
    expect(html).toMatch(/<html lang="ar" dir="rtl">/);
    expect(html).toContain('فاتورة مدفوعة');
    expect(html).toContain('−450.00'); // 45,000 minor units, signed
    expect(reportHtml(rep, 'en')).toContain('<td class="num"><bdi dir="ltr">+100.00</bdi></td>');
    await expect(personReport(central.repo, 'nobody', thisMonth)).rejects.toMatchObject({ code: 'REPORT_PERSON_UNKNOWN' });
    await expect(personReport(central.repo, 'P1', '2026-13')).rejects.toMatchObject({ code: 'REPORT_MONTH_INVALID' });
  });

  it.skipIf(skip)('escapes what it prints (a memo or id is text, never markup)', async () => {
    const html = reportHtml({ person: '<script>x</script>', status: 'confirmed', account_id: null, month: '2026-11', from_ms: 0, to_ms: 1, accounts: [], failed_direct_debits: [] }, 'ku');
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&#60;script&#62;');
  });
});
