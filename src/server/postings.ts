// Double-entry postings for each kind of business event. Pure.
// Sign convention: CREDIT IS POSITIVE, so the balance of a holder's account is what the holder is owed
// (a customer's funds, an employee's unpaid salary, a merchant's takings, the cash a drawer has paid out, net).
// Every transaction's postings sum to zero per currency.
import type { Posting } from './repo.ts';

export const account = {
  customer: (accountId: string) => `acct:${accountId}`,
  salary: (personId: string) => `salary:${personId}`,
  payroll: (branch: string) => `payroll:${branch}`,
  cash: (terminalId: string) => `cash:${terminalId}`,
  merchant: (terminalId: string) => `merchant:${terminalId}`,
  funding: () => 'funding:admin',
  biller: (billerId: string) => `biller:${billerId}`,
};

/** Moves `amount` from one holder (debited) to another (credited). */
export function transfer(from: string, to: string, amount: number, currency: string): Posting[] {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`amount must be a positive safe integer, got ${amount}`);
  return [
    { account: from, currency, amount: -amount },
    { account: to, currency, amount },
  ];
}

/** Payroll import: the branch owes the person the salary. */
export const payrollPostings = (branch: string, personId: string, amount: number, currency: string) => transfer(account.payroll(branch), account.salary(personId), amount, currency);
/** Salary payout at a counter: the person's unpaid salary leaves through the drawer. */
export const payoutPostings = (personId: string, terminalId: string, amount: number, currency: string) => transfer(account.salary(personId), account.cash(terminalId), amount, currency);
/** Purchase: customer's funds to the shop. */
export const purchasePostings = (accountId: string, terminalId: string, amount: number, currency: string) => transfer(account.customer(accountId), account.merchant(terminalId), amount, currency);
/** Bill payment: customer's funds to the biller (cleared through the centre; no fee). */
export const billPaymentPostings = (accountId: string, billerId: string, amount: number, currency: string) => transfer(account.customer(accountId), account.biller(billerId), amount, currency);
/** Refund: back from the shop to the customer. */
export const refundPostings = (accountId: string, terminalId: string, amount: number, currency: string) => transfer(account.merchant(terminalId), account.customer(accountId), amount, currency);
/** Admin credit of a customer account (deposit made at the bank). */
export const fundingPostings = (accountId: string, amount: number, currency: string) => transfer(account.funding(), account.customer(accountId), amount, currency);
/** A void undoes the target's postings exactly. */
export const reversal = (postings: readonly Posting[]): Posting[] => postings.map((p) => ({ account: p.account, currency: p.currency, amount: -p.amount }));

export function isBalanced(postings: readonly Posting[]): boolean {
  const sums = new Map<string, number>();
  for (const p of postings) sums.set(p.currency, (sums.get(p.currency) ?? 0) + p.amount);
  return [...sums.values()].every((s) => s === 0);
}
