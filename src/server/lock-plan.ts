// Which rows an upload batch will check and move, known before it runs, so the batch can lock them all at once in a
// fixed order: first the accounts its enrolments bind (RepoTx.lockAccountBindings), the subscribers its mandates
// and meter readings name (BillingStore.lockSubscribers), the captures its template updates offer
// (template-slots.ts lockCaptures), then the bills it pays (BillingStore.lockBills), then the balances
// (RepoTx.lockBalances). Two
// batches of different terminals that pay the same bills or from the same customers then queue on those rows in
// the same order instead of deadlocking crosswise. Rows found only while applying (a refund's shop, a void's target
// and the bill it reopens) are locked when met; a rare deadlock among those is retried by sql.ts. Pure.
import type { Prepared } from './ingest.ts';
import { account } from './postings.ts';
import { enrolmentAccount } from './invariants.ts';

export interface BalanceKey {
  account: string;
  currency: string;
}

export function balancesTouched(prepared: readonly Prepared[], terminalId: string): BalanceKey[] {
  const keys: BalanceKey[] = [];
  for (const s of prepared) {
    if (!s.ok) continue;
    const rec = s.p.rec;
    switch (rec.type) {
      // The accounts of purchasePostings (billPaymentPostings with a biller) and payoutPostings (postings.ts).
      case 'purchase':
        keys.push({ account: account.customer(rec.accountId), currency: rec.currency }, { account: rec.biller ? account.biller(rec.biller.billerId) : account.merchant(terminalId), currency: rec.currency });
        break;
      case 'salary_payout':
        keys.push({ account: account.salary(rec.personId), currency: rec.currency }, { account: account.cash(terminalId), currency: rec.currency });
        break;
      case 'refund':
        keys.push({ account: account.customer(rec.accountId), currency: rec.currency });
        break;
      default:
        break;
    }
  }
  return keys;
}

export interface BillKey {
  billerId: string;
  billId: string;
}

/** The bills the batch's bill payments name (billing/payments.ts locks each again as it applies: already held). */
export function billsTouched(prepared: readonly Prepared[]): BillKey[] {
  const keys: BillKey[] = [];
  for (const s of prepared) {
    if (s.ok && s.p.rec.type === 'purchase' && s.p.rec.biller) keys.push({ billerId: s.p.rec.biller.billerId, billId: s.p.rec.biller.billRef });
  }
  return keys;
}

/**
 * The accounts the batch's enrolments bind (invariants.ts enrolmentAccount): two batches binding one account must
 * look for its owner one after the other, or both find none (rule 3; PostgreSQL reads committed rows only).
 */
export function accountsBound(prepared: readonly Prepared[]): string[] {
  return prepared.flatMap((s) => (s.ok && s.p.rec.type === 'enrolment' ? [enrolmentAccount(s.p.rec)] : []));
}

/** The captures the batch's template updates offer: a capture is used once (rule 12), looked up one upload after the other. */
export function capturesOffered(prepared: readonly Prepared[]): string[] {
  return prepared.flatMap((s) => (s.ok && s.p.rec.type === 'template_update' ? [s.p.rec.captureDigest] : []));
}

/**
 * The subscribers the batch's mandates and meter readings name (rule 10): two batches must look for a subscriber's
 * active mandate, and for its meter's last reading, one after the other. Without it two counters' readings of one
 * meter were both checked against the same last reading, so the lower was accepted without a supervisor
 * (test/security/meter-reading-race.test.ts). A bill import (billing.ts importBills) takes the same lock on its bills'
 * subscribers, first: it writes the meters' newer bills.
 */
export function subscribersChecked(prepared: readonly Prepared[]): Array<{ billerId: string; subscriber: string }> {
  return prepared.flatMap((s) => (s.ok && (s.p.rec.type === 'mandate' || s.p.rec.type === 'meter_reading') ? [{ billerId: s.p.rec.billerId, subscriber: s.p.rec.subscriber }] : []));
}
