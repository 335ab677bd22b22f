// Salary voucher leases at the centre: what the holder is sent, and the holder's release that completes a lease
// move (DESIGN.md §5). The move itself is decided in payroll.ts (leaseMove) and made in central/money-in.ts.
import { randomUUID } from 'node:crypto';
import type { LeaseReleaseBody, RecordBody } from '../protocol/record.ts';
import { checkLeaseRelease, type Refusal } from './invariants.ts';
import type { RepoTx, VoucherRow } from './repo.ts';

/** A voucher as its lease holder receives it. */
export function voucherFeed(v: { id: string; person_id: string; period: string; amount: number; currency: string; lease_id: string }) {
  return { voucherId: v.id, personId: v.person_id, accountId: v.person_id, period: v.period, amountMinor: Number(v.amount), currency: v.currency, leaseId: v.lease_id };
}

/**
 * The holder signed that it gave the lease back unpaid. Everything it signed before is already booked (its chain is
 * ingested in order), so a fresh lease goes where the pending move says: to the target if it is still an active
 * terminal of the branch, else back to the holder (a cancelled move). Refused (nothing changes) unless the record
 * names the holder's current lease of an unpaid voucher, with no payout of it from the holder awaiting a supervisor.
 */
export async function leaseReleased(r: RepoTx, rec: LeaseReleaseBody, terminalId: string, now: number): Promise<Refusal | undefined> {
  const v = await r.getVoucher(rec.voucherId); // locked: a lease move of the same voucher waits
  const inReview = v ? (await putAside(r, terminalId, 'salary_payout', v.id)).some((p) => p.open) : false;
  const no = checkLeaseRelease(rec, terminalId, v, inReview);
  if (no || !v) return no;
  await grantAfterRelease(r, v, now);
  return undefined;
}

/**
 * An admin's move while the holder already gave this lease back and the centre refused it only because a payout of
 * the voucher from the holder awaited a supervisor (checkLeaseRelease): once every such payout is settled, the
 * release stands and the move completes now (the holder cannot sign a second release for the same lease).
 */
export async function releasedEarlier(r: RepoTx, v: VoucherRow): Promise<boolean> {
  const released = (await putAside(r, v.lease_terminal, 'lease_release', v.id)).some((p) => p.body.type === 'lease_release' && p.body.leaseId === v.lease_id);
  return released && !(await putAside(r, v.lease_terminal, 'salary_payout', v.id)).some((p) => p.open);
}

/** A fresh lease where the pending move says: its target if still an active terminal of the branch, else the holder. */
export async function grantAfterRelease(r: RepoTx, v: VoucherRow, now: number): Promise<{ to: string; leaseId: string }> {
  const target = v.lease_pending ? await r.getTerminal(v.lease_pending) : undefined;
  const to = target && target.status === 'active' && target.branch === v.branch ? target.id : v.lease_terminal;
  const leaseId = randomUUID();
  await r.setLease(v.id, to, leaseId);
  await r.appendFeed(`terminal:${to}`, 'voucher', v.id, voucherFeed({ ...v, lease_id: leaseId }), now);
  return { to, leaseId };
}

/** A terminal's records of one type, naming this voucher, that the centre put aside (their review rows: few), and whether each still awaits a supervisor. */
async function putAside(r: RepoTx, terminalId: string, type: 'salary_payout' | 'lease_release', voucherId: string): Promise<Array<{ body: RecordBody; open: boolean }>> {
  const out: Array<{ body: RecordBody; open: boolean }> = [];
  for (const row of await r.reviewsOf(terminalId, type)) {
    const rec = row.seq === null ? undefined : await r.getRecord(terminalId, Number(row.seq));
    const body = rec ? (JSON.parse(rec.body) as RecordBody) : undefined;
    if (body && 'voucherId' in body && body.voucherId === voucherId) out.push({ body, open: row.resolved_at === null });
  }
  return out;
}
