// A bill payment as ingestion meets it: a signed purchase naming a biller pays one imported bill (invariants.ts,
// rule 8). Looks the facts up and locks the bill; ingest.ts asks checkBillPayment, posts, then marks the bill paid.
import type { PurchaseBody, RecordBody } from '../../protocol/record.ts';
import { PalmPayError } from '../../util/errors.ts';
import { checkBillPayment, type Refusal } from '../invariants.ts';
import { billPaymentPostings } from '../postings.ts';
import type { Posting, RepoTx } from '../repo.ts';
import { BillingStore, type BillRecordRow } from './store.ts';

/** What a terminal's bill cache needs to show a bill (latest state per bill, in the region's feed). */
export function billFeed(b: BillRecordRow) {
  return {
    billerId: b.biller_id, billId: b.bill_id, subscriber: b.subscriber, cycle: b.cycle, amountMinor: Number(b.amount), currency: b.currency,
    dueDate: b.due_date, previousReading: Number(b.previous_reading), currentReading: Number(b.current_reading), status: b.status,
  };
}
export const billFeedKey = (billerId: string, billId: string) => `${billerId}:${billId}`;

export type BillPayment = { refusal: Refusal } | { memo: string; postings: Posting[]; markPaid(ref: string, at: number): Promise<void> };

/** The bill a purchase with `biller` pays, checked: its postings, or why it moves no money. */
export async function billPayment(r: RepoTx, rec: PurchaseBody & { biller: NonNullable<PurchaseBody['biller']> }): Promise<BillPayment> {
  const store = new BillingStore(r.conn);
  const { billerId, billRef } = rec.biller;
  const biller = await store.getBiller(billerId);
  const bill = biller ? await store.lockBill(billerId, billRef) : undefined;
  const linked = bill ? await store.mayPay(billerId, bill.subscriber, rec.customerId, rec.accountId) : false;
  const refusal = checkBillPayment(rec, Boolean(biller), bill, linked);
  if (refusal) return { refusal };
  return {
    memo: `bill ${billRef} of ${billerId} (subscriber ${bill!.subscriber}, cycle ${bill!.cycle})`,
    postings: billPaymentPostings(rec.accountId, billerId, rec.amountMinor, rec.currency),
    async markPaid(ref, at) {
      // The bill row is locked since lockBill, so it is still open; were it not, fail the batch rather than pay twice.
      if (!(await store.markPaid(billerId, billRef, ref, at))) throw new PalmPayError('BILL_STATE_CHANGED', `bill ${billRef} of ${billerId} changed under its lock`);
      await r.appendFeed(`region:${biller!.region}`, 'bill', billFeedKey(billerId, billRef), billFeed({ ...bill!, status: 'paid', paid_by: ref, paid_at: at }), at);
    },
  };
}

/** A void of a bill payment: the bill is due again (only if this payment is the one that paid it). */
export async function billPaymentVoided(r: RepoTx, target: RecordBody, targetRef: string, at: number): Promise<void> {
  if (target.type !== 'purchase' || !target.biller) return;
  const store = new BillingStore(r.conn);
  const { billerId, billRef } = target.biller;
  if (!(await store.reopen(billerId, billRef, targetRef))) return;
  const biller = await store.getBiller(billerId);
  const bill = await store.lockBill(billerId, billRef);
  if (biller && bill) await r.appendFeed(`region:${biller.region}`, 'bill', billFeedKey(billerId, billRef), billFeed(bill), at);
}
