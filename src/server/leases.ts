// Salary voucher leases at the centre: what the holder is sent, and the holder's release that completes a lease
// move (DESIGN.md §5). The move itself is decided in payroll.ts (leaseMove) and made in central/money-in.ts.
import { randomUUID } from 'node:crypto';
import type { LeaseReleaseBody } from '../protocol/record.ts';
import { checkLeaseRelease, type Refusal } from './invariants.ts';
import type { RepoTx } from './repo.ts';

/** A voucher as its lease holder receives it. */
export function voucherFeed(v: { id: string; person_id: string; period: string; amount: number; currency: string; lease_id: string }) {
  return { voucherId: v.id, personId: v.person_id, accountId: v.person_id, period: v.period, amountMinor: Number(v.amount), currency: v.currency, leaseId: v.lease_id };
}

/**
 * The holder signed that it gave the lease back unpaid. Everything it signed before is already booked (its chain is
 * ingested in order), so a fresh lease goes where the pending move says: to the target if it is still an active
 * terminal of the branch, else back to the holder (a cancelled move). Refused (nothing changes) unless the record
 * names the holder's current lease of an unpaid voucher.
 */
export async function leaseReleased(r: RepoTx, rec: LeaseReleaseBody, terminalId: string, now: number): Promise<Refusal | undefined> {
  const v = await r.getVoucher(rec.voucherId); // locked: a lease move of the same voucher waits
  const no = checkLeaseRelease(rec, terminalId, v);
  if (no || !v) return no;
  const target = v.lease_pending ? await r.getTerminal(v.lease_pending) : undefined;
  const to = target && target.status === 'active' && target.branch === v.branch ? target.id : terminalId;
  const leaseId = randomUUID();
  await r.setLease(v.id, to, leaseId);
  await r.appendFeed(`terminal:${to}`, 'voucher', v.id, voucherFeed({ ...v, lease_id: leaseId }), now);
  return undefined;
}
