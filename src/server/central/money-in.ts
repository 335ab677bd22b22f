// Money the centre puts in: payroll imported as vouchers, each leased to one terminal of its branch, lease moves,
// and deposits into customer accounts. Each is one transaction with its postings and feed events.
import { randomUUID } from 'node:crypto';
import { CURRENCIES, Id } from '../../protocol/record.ts';
import { sha256Hex } from '../../protocol/crypto.ts';
import { ServerError } from '../errors.ts';
import { leaseMove, parsePayrollCsv, PayrollImportError, pickLeaseHolder, voucherIdOf } from '../payroll.ts';
import { fundingPostings, payrollPostings } from '../postings.ts';
import type { CentreContext } from './context.ts';
import type { Feed } from './feed.ts';
import { grantAfterRelease, releasedEarlier, voucherFeed } from '../leases.ts';

export class MoneyIn {
  constructor(private readonly ctx: CentreContext, private readonly feed: Feed) {}

  /** Admin: a deposit into a customer account (made at the bank, outside the terminals). */
  async creditAccount(accountId: string, amountMinor: number, currency: string): Promise<void> {
    if (!Object.hasOwn(CURRENCIES, currency)) throw new ServerError('CREDIT_INVALID', `currency must be one of ${Object.keys(CURRENCIES).join(', ')} (ISO 4217, upper case), got ${JSON.stringify(currency)}`, 422);
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new ServerError('CREDIT_INVALID', `a credit is a positive whole number of minor units, got ${amountMinor}`, 422);
    if (!Id.safeParse(accountId).success) throw new ServerError('CREDIT_INVALID', `account id ${JSON.stringify(accountId)} is not a valid id`, 422);
    await this.ctx.repo.tx(async (r) => {
      await r.postTxn({ source: 'admin', terminalId: null, seq: null, ref: `credit:${randomUUID()}`, memo: `deposit to ${accountId}`, at: this.ctx.now(), postings: fundingPostings(accountId, amountMinor, currency) });
      await this.feed.publishAllowances(r, new Set([accountId]));
    });
  }

  /** Admin: imports a payroll CSV, all or nothing; one voucher per person and period, leased to a branch terminal. */
  async importPayroll(csv: string): Promise<{ vouchers: number; byTerminal: Record<string, number> }> {
    const { rows, errors } = parsePayrollCsv(csv);
    return this.ctx.repo.tx(async (r) => {
      const terminals = (await r.listTerminals()).filter((t) => t.status === 'active');
      const byBranch = new Map<string, string[]>();
      for (const t of terminals) byBranch.set(t.branch, [...(byBranch.get(t.branch) ?? []), t.id]);
      for (const row of rows) {
        if (!byBranch.has(row.branch)) errors.push({ line: row.line, message: `branch ${row.branch} has no active terminal` });
        else if (await r.voucherFor(row.personId, row.period)) errors.push({ line: row.line, message: `a voucher for ${row.personId} and ${row.period} already exists` });
      }
      if (errors.length) throw new PayrollImportError(errors.sort((a, b) => a.line - b.line));
      const now = this.ctx.now();
      const counts = new Map<string, Map<string, number>>();
      const byTerminal: Record<string, number> = {};
      for (const row of rows) {
        let c = counts.get(row.branch);
        if (!c) counts.set(row.branch, (c = await r.leaseCounts(row.branch)));
        const holder = pickLeaseHolder(byBranch.get(row.branch)!, c)!;
        c.set(holder, (c.get(holder) ?? 0) + 1);
        byTerminal[holder] = (byTerminal[holder] ?? 0) + 1;
        const v = { id: voucherIdOf(row.period, row.personId), period: row.period, person_id: row.personId, amount: row.amount, currency: row.currency, branch: row.branch, lease_terminal: holder, lease_id: randomUUID(), status: 'open' as const, redeemed_by: null, created_at: now };
        await r.insertVoucher(v);
        await r.postTxn({ source: 'payroll', terminalId: null, seq: null, ref: v.id, memo: `salary ${row.period}`, at: now, postings: payrollPostings(row.branch, row.personId, row.amount, row.currency) });
        await r.appendFeed(`terminal:${holder}`, 'voucher', v.id, voucherFeed(v), now);
      }
      await r.payrollImported(sha256Hex(csv), rows.length, now);
      return { vouchers: rows.length, byTerminal };
    });
  }

  /**
   * Admin: moves a voucher's lease to another terminal of its branch. The holder may have paid it offline a moment
   * ago, so the lease is only withdrawn (`pending`): the holder's signed release grants it to the target
   * (leaseReleased below). Moving it back to the holder cancels a pending move; a holder no longer active loses it at once.
   */
  async moveLease(voucherId: string, toTerminal: string): Promise<{ status: 'pending' | 'cancelled'; holder: string } | { status: 'moved'; holder: string; leaseId: string }> {
    return this.ctx.repo.tx(async (r) => {
      const v = await r.getVoucher(voucherId);
      if (!v) throw new ServerError('VOUCHER_UNKNOWN', `voucher ${voucherId} is unknown`, 404);
      const move = leaseMove(v, await r.getTerminal(v.lease_terminal), await r.getTerminal(toTerminal));
      const now = this.ctx.now();
      switch (move.kind) {
        case 'refused':
          throw new ServerError('LEASE_MOVE_REFUSED', `lease of ${voucherId} not moved: ${move.why}`, 409);
        case 'cancel':
          await r.setLeasePending(v.id, null);
          return { status: 'cancelled', holder: v.lease_terminal };
        case 'pending': {
          // The holder gave this lease back already, refused then only for a payout since settled: it moves now.
          if (await releasedEarlier(r, v)) {
            const { to, leaseId } = await grantAfterRelease(r, { ...v, lease_pending: toTerminal }, now);
            return { status: 'moved', holder: to, leaseId };
          }
          // Told once per lease: a second move while one waits only changes where the lease goes.
          if (!v.lease_pending) await r.appendFeed(`terminal:${v.lease_terminal}`, 'voucher_withdrawn', v.id, { voucherId: v.id, leaseId: v.lease_id }, now);
          await r.setLeasePending(v.id, toTerminal);
          return { status: 'pending', holder: v.lease_terminal };
        }
        case 'now': {
          // The holder can give nothing back: as if it had (leaseMove checked the target).
          await r.appendFeed(`terminal:${v.lease_terminal}`, 'voucher_withdrawn', v.id, { voucherId: v.id, leaseId: v.lease_id }, now);
          const { to, leaseId } = await grantAfterRelease(r, { ...v, lease_pending: toTerminal }, now);
          return { status: 'moved', holder: to, leaseId };
        }
      }
    });
  }

}
