// The salary voucher rule, the one place a terminal decides whether it may pay a voucher offline: the voucher is
// open, the claim matches it exactly (person, account, period, amount), and it is leased to THIS terminal under
// the lease the record names, with the lease still running. Pure: the ledger reads the rows and applies it inside
// its append transaction; callers get the reason typed (VoucherRefusedError.reason), never a message to parse.
import type { SalaryPayoutBody } from '../protocol/record.ts';
import type { Lease, Voucher } from '../store/vouchers.ts';

export type VoucherRefusal =
  | 'unknown-voucher' // not in this terminal's store (sync to receive it)
  | 'not-open' // already paid, or cancelled by the centre
  | 'claim-mismatch' // the record names another person, account, period or amount than the voucher
  | 'not-leased-here' // leased to another terminal, or under another lease (moving a lease needs the link)
  | 'lease-expired'; // the lease ran out (renew it online)

type Claim = Pick<SalaryPayoutBody, 'personId' | 'accountId' | 'period' | 'amountMinor' | 'currency' | 'leaseId'>;

/** Why this terminal may not pay the claim, with a sentence for the log; null when it may. */
export function voucherRefusal(
  claim: Claim,
  voucher: Voucher | undefined,
  lease: Lease | undefined,
  terminalId: string,
  nowMs: number,
): { reason: VoucherRefusal; why: string } | null {
  if (!voucher) return { reason: 'unknown-voucher', why: 'unknown voucher (sync to receive it)' };
  if (voucher.status !== 'open') return { reason: 'not-open', why: `it is ${voucher.status}` };
  if (voucher.personId !== claim.personId || voucher.accountId !== claim.accountId || voucher.period !== claim.period) {
    return { reason: 'claim-mismatch', why: 'it is for another person, account or period' };
  }
  if (voucher.amountMinor !== claim.amountMinor || voucher.currency !== claim.currency) {
    return { reason: 'claim-mismatch', why: `the amount must be ${voucher.amountMinor} ${voucher.currency} minor units` };
  }
  if (!lease || lease.terminalId !== terminalId || lease.leaseId !== claim.leaseId) {
    return { reason: 'not-leased-here', why: 'it is not leased to this terminal (moving a lease needs the link)' };
  }
  if (lease.expiresAtMs <= nowMs) return { reason: 'lease-expired', why: 'its lease has expired (renew it online)' };
  return null;
}
