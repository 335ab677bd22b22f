// Direct debit at the centre: a person's mandate lets their account pay a subscriber's bills automatically, up to
// a maximum per bill. Importing a bill for a mandated subscriber pays it at once when `checkDirectDebit`
// (invariants.ts, rule 9) allows; otherwise the failure is recorded with its reason and the bill stays due.
import { randomUUID } from 'node:crypto';
import { CURRENCIES, Id } from '../../protocol/record.ts';
import type { MandateBody, MandateCancelBody } from '../../protocol/record.ts';
import { checkDirectDebit, checkMandateCancel, checkMandateSigned, checkPostings, reviewReason, type Refusal } from '../invariants.ts';
import { billPaymentPostings } from '../postings.ts';
import type { PersonRow, Repo, RepoTx } from '../repo.ts';
import { BillingError, SUBSCRIBER } from './bills-csv.ts';
import { billFeed, billFeedKey } from './payments.ts';
import { BillingStore, type BillerRow, type BillRecordRow, type DirectDebitRow, type MandateRow } from './store.ts';

/**
 * Pays a just-imported bill under its subscriber's active mandate, in the import's transaction. Returns what
 * happened (nothing when the subscriber has no mandate).
 */
export async function debitUnderMandate(r: RepoTx, biller: BillerRow, bill: BillRecordRow, now: number): Promise<{ status: 'paid' | 'failed'; accountId: string } | undefined> {
  const store = new BillingStore(r.conn);
  const m = await store.activeMandate(bill.biller_id, bill.subscriber);
  if (!m) return undefined;
  const account = `acct:${m.account_id}`;
  const funds = await r.balance(account, bill.currency);
  const postings = billPaymentPostings(m.account_id, bill.biller_id, Number(bill.amount), bill.currency);
  const linked = await store.mayPay(bill.biller_id, bill.subscriber, m.person_id, m.account_id);
  const refusal = checkDirectDebit(m, bill, await r.accountOwner(m.account_id), linked, funds) ?? checkPostings(postings, (a, c) => (a === account && c === bill.currency ? funds : 0));
  const debit = { mandate_id: m.id, biller_id: bill.biller_id, bill_id: bill.bill_id, account_id: m.account_id, amount: Number(bill.amount), currency: bill.currency, created_at: now };
  if (refusal) {
    await store.insertDebit({ ...debit, status: 'failed', reason: reviewReason(refusal), txn_id: null });
    return { status: 'failed', accountId: m.account_id };
  }
  const paidBy = `mandate:${m.id}`;
  const txnId = await r.postTxn({ source: 'mandate', terminalId: null, seq: null, ref: `${paidBy}:${bill.biller_id}:${bill.bill_id}`, memo: `direct debit of bill ${bill.bill_id} of ${bill.biller_id} (subscriber ${bill.subscriber}, cycle ${bill.cycle})`, at: now, postings });
  await store.markPaid(bill.biller_id, bill.bill_id, paidBy, now);
  await store.insertDebit({ ...debit, status: 'paid', reason: null, txn_id: txnId });
  await r.appendFeed(`region:${biller.region}`, 'bill', billFeedKey(bill.biller_id, bill.bill_id), billFeed({ ...bill, status: 'paid', paid_by: paidBy, paid_at: now }), now);
  return { status: 'paid', accountId: m.account_id }; // its allowance is republished by the caller, once per import
}

/** A mandate signed at a counter (palm + PIN; ingest.ts): stored under its record's mandate id, or why not (rule 10). */
export async function mandateSigned(r: RepoTx, rec: MandateBody, person: PersonRow | undefined, region: string, now: number): Promise<Refusal | undefined> {
  const store = new BillingStore(r.conn);
  const biller = await store.getBiller(rec.billerId);
  const linked = person?.account_id ? await store.mayPay(rec.billerId, rec.subscriber, rec.personId, person.account_id) : false;
  const taken = (await store.listMandates({ id: rec.mandateId })).length > 0;
  const refusal = checkMandateSigned(rec, Boolean(biller), person, linked, await store.activeMandate(rec.billerId, rec.subscriber), taken, region);
  if (refusal) return refusal;
  await store.insertMandate({ id: rec.mandateId, person_id: rec.personId, account_id: rec.accountId, biller_id: rec.billerId, subscriber: rec.subscriber, max_minor: rec.maxMinor, currency: rec.currency, status: 'active', created_at: now, cancelled_at: null });
  return undefined;
}

/** A cancellation at a counter: the subscriber's active mandate, only when it is this person's own (rule 10). */
export async function mandateCancelled(r: RepoTx, rec: MandateCancelBody, person: PersonRow | undefined, region: string, now: number): Promise<Refusal | undefined> {
  const store = new BillingStore(r.conn);
  const active = await store.activeMandate(rec.billerId, rec.subscriber);
  const refusal = checkMandateCancel(rec, person, active, region);
  if (refusal) return refusal;
  await store.cancelMandate(active!.id, now);
  return undefined;
}

export class Mandates {
  constructor(
    private readonly repo: Repo,
    private readonly now: () => number = Date.now,
  ) {}

  /** A mandate registered at the centre (signed on paper at the office). One active mandate per subscriber. */
  async add(m: { personId: string; billerId: string; subscriber: string; maxMinor: number; currency: string; id?: string }): Promise<MandateRow> {
    if (!Number.isSafeInteger(m.maxMinor) || m.maxMinor <= 0) throw new BillingError('BILLING_INVALID', `a mandate's maximum is a positive whole number of minor units, got ${m.maxMinor}`);
    if (!Object.hasOwn(CURRENCIES, m.currency)) throw new BillingError('BILLING_INVALID', `currency must be one of ${Object.keys(CURRENCIES).join(', ')}`);
    if (!SUBSCRIBER.test(m.subscriber)) throw new BillingError('BILLING_INVALID', `subscriber ${JSON.stringify(m.subscriber)} is not a subscriber number`);
    const id = m.id ?? `M-${randomUUID()}`;
    if (!Id.safeParse(id).success) throw new BillingError('BILLING_INVALID', `mandate id ${JSON.stringify(id)} is not a valid id`);
    return this.repo.tx(async (r) => {
      const store = new BillingStore(r.conn);
      const p = await r.getPerson(m.personId);
      if (!p || p.status !== 'confirmed' || !p.account_id) throw new BillingError('PERSON_UNKNOWN', `person ${m.personId} is not a confirmed customer with an account`);
      // The same rule as a mandate signed at a counter (invariants.ts, rule 10).
      await store.lockSubscribers([{ billerId: m.billerId, subscriber: m.subscriber }]);
      const linked = await store.mayPay(m.billerId, m.subscriber, p.id, p.account_id);
      const taken = (await store.listMandates({ id })).length > 0;
      const no = checkMandateSigned({ ...m, accountId: p.account_id }, Boolean(await store.getBiller(m.billerId)), p, linked, await store.activeMandate(m.billerId, m.subscriber), taken, undefined);
      if (no) throw new BillingError(no.code, no.message);
      const row: MandateRow = { id, person_id: p.id, account_id: p.account_id, biller_id: m.billerId, subscriber: m.subscriber, max_minor: m.maxMinor, currency: m.currency, status: 'active', created_at: this.now(), cancelled_at: null };
      await store.insertMandate(row);
      return row;
    });
  }

  async cancel(id: string): Promise<boolean> {
    return this.repo.tx((r) => new BillingStore(r.conn).cancelMandate(id, this.now()));
  }

  list(f: { personId?: string; billerId?: string } = {}): Promise<MandateRow[]> {
    return this.repo.tx((r) => new BillingStore(r.conn).listMandates(f));
  }

  debits(f: { accountId?: string; fromMs?: number; toMs?: number } = {}): Promise<DirectDebitRow[]> {
    return this.repo.tx((r) => new BillingStore(r.conn).listDebits(f));
  }
}
