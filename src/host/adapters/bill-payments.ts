// Bill payment over the terminal store and signed ledger (SqliteBank delegates here). The bills and their amounts
// come from the feed's cache, never from the screen: the request only names which bills and the amounts the
// payer saw, and any difference refuses the whole payment ('bill-changed'). One signed purchase record per bill
// (biller + bill id), the bills marked paid here, the outbox rows: ONE transaction, all the bills or none.
import { LedgerError, OfflineRefusedError } from '../../ledger/ledger.ts';
import type { OfflineRefusal } from '../../ledger/limits.ts';
import type { Terminal } from '../../ledger/open.ts';
import { billsStale, type BillDecline, type BillLookup, type BillPaymentRequest, type DueBill } from '../../flows/bill.ts';
import type { LimitReason } from '../../flows/purchase.ts';
import { billReceipt } from '../../flows/receipts.ts';
import type { Person, Receipt } from '../../flows/types.ts';
import type { CachedBill } from '../../store/bills.ts';
import { SETTINGS as SYNC_SETTINGS } from '../../sync/index.ts';
import { PalmPayError } from '../../util/errors.ts';

const due = (b: CachedBill): DueBill => ({
  billerId: b.billerId, billId: b.billId, cycle: b.cycle, amount: { minor: b.amountMinor, currency: b.currency },
  dueDate: b.dueDate, previousReading: b.previousReading, currentReading: b.currentReading,
});

/** The purchase id of the i-th bill of a payment request (the ledger decides each once). */
export const billPurchaseId = (requestId: string, i: number) => `${requestId}:${i}`;

class BillChanged extends PalmPayError {
  constructor(billId: string) {
    super('BILL_CHANGED', `bill ${billId} is no longer due here at the amount shown`);
  }
}

export interface BillPaymentDeps {
  terminal: Terminal;
  now: () => number;
  limitReason: (r: OfflineRefusal) => LimitReason | null;
  /** The receipt's header fields for a record. */
  meta: (r: { seq: number; hash: string; at: number }, operatorId: string) => { recordId: string; seq: number; terminalId: string; at: string; operatorId: string };
}

export function lookupBills(d: BillPaymentDeps, subscriber: string): BillLookup {
  const { store, ledger } = d.terminal;
  const feedAt = store.settings.get<number>(SYNC_SETTINGS.feedAt);
  return {
    known: store.bills.known(subscriber),
    bills: store.bills.dueFor(subscriber).map(due),
    ageMs: feedAt === undefined ? null : Math.max(0, d.now() - feedAt),
    maxAgeMs: ledger.limits().maxSinceLastSyncMs,
  };
}

/** The centre linked this person, or one of their accounts, to the subscriber number of every biller named (sealed rows only). */
export function payerLinked(d: BillPaymentDeps, personId: string, subscriber: string, billerIds: readonly string[]): boolean {
  const { store, ledger } = d.terminal;
  const accounts = store.people.accounts(personId).map((a) => a.accountId);
  return billerIds.length > 0 && billerIds.every((b) => ledger.centreCopies.mayPay(b, subscriber, personId, accounts));
}

export function payBills(d: BillPaymentDeps, person: Person | null, req: BillPaymentRequest): { ok: true; receipt: Receipt } | { ok: false; reason: BillDecline } {
  const no = (reason: BillDecline) => ({ ok: false as const, reason });
  const { store, ledger } = d.terminal;
  if (req.bills.length === 0) throw new PalmPayError('NOTHING_TO_PAY', 'no bill given');
  if (store.journal.byRef('purchase', billPurchaseId(req.requestId, 0))) return no('duplicate-request');
  if (!person || person.status === 'revoked') return no('person-revoked');
  if (person.status === 'provisional') return no('person-provisional');
  // Checked again here, whatever the screen showed: the links as the signed feed delivered them.
  if (!payerLinked(d, req.personId, req.subscriber, [...new Set(req.bills.map((b) => b.billerId))])) return no('not-linked');
  if (!ledger.customerPins.get(req.personId)?.pinHash) return no('pin-not-set');
  const look = lookupBills(d, req.subscriber);
  if (billsStale(look.ageMs, look.maxAgeMs)) return no('bills-stale');
  try {
    return store.transaction(() => {
      const paid: Array<{ seq: number; hash: string; at: number; bill: CachedBill }> = [];
      for (const [i, b] of req.bills.entries()) {
        const cached = store.bills.get(b.billerId, b.billId);
        if (!cached || cached.paidSeq !== null || cached.subscriber !== req.subscriber || cached.amountMinor !== b.amount.minor || cached.currency !== b.amount.currency) throw new BillChanged(b.billId);
        const account = store.people.accounts(req.personId).find((a) => a.status === 'active' && a.currency === cached.currency);
        if (!account) return no('no-account');
        // The ledger checks the offline limits inside its append transaction (each bill counts against them).
        const rec = ledger.append({
          type: 'purchase', operatorId: req.operatorId, purchaseId: billPurchaseId(req.requestId, i), customerId: req.personId, accountId: account.accountId,
          amountMinor: cached.amountMinor, currency: cached.currency, pinVerified: true, offline: true, biller: { billerId: cached.billerId, billRef: cached.billId },
        });
        if (!store.bills.markPaid(cached.billerId, cached.billId, rec.seq)) throw new BillChanged(b.billId);
        paid.push({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms, bill: cached });
      }
      const first = paid[0]!;
      const total = { minor: paid.reduce((n, p) => n + p.bill.amountMinor, 0), currency: first.bill.currency };
      const lines = paid.map((p) => ({ billerId: p.bill.billerId, billId: p.bill.billId, cycle: p.bill.cycle, amount: { minor: p.bill.amountMinor, currency: p.bill.currency } }));
      return { ok: true as const, receipt: billReceipt(d.meta(first, req.operatorId), person, req.subscriber, lines, total) };
    });
  } catch (err) {
    if (err instanceof BillChanged) return no('bill-changed');
    if (err instanceof OfflineRefusedError) return no(d.limitReason(err.decision.reason) ?? 'store-error');
    if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return no('duplicate-request');
    throw err;
  }
}
