// What supervisors and terminals read back: a person's statement, and the supervisor's review queue.
import { account } from '../postings.ts';
import type { CentreContext } from './context.ts';

export class Statements {
  constructor(private readonly ctx: CentreContext) {}

  /**
   * Admin: a person's statement: salary credited and paid out, purchases and refunds, with the record behind each
   * line. Never served to a terminal: a terminal could only name the person by a typed id, and a statement is for
   * the person present (the counter shows one from its own journal after the person's palm).
   */
  async statement(personId: string) {
    return this.ctx.repo.readTx(async (r) => {
      const p = await r.getPerson(personId);
      const salary = await r.accountHistory(account.salary(personId));
      const acct = p?.account_id ? await r.accountHistory(account.customer(p.account_id)) : [];
      const balances = [...(await r.listBalances(account.salary(personId))), ...(p?.account_id ? await r.listBalances(account.customer(p.account_id)) : [])];
      const line = (h: (typeof salary)[number]) => ({ at: h.created_at, memo: h.memo, currency: h.currency, amountMinor: Number(h.amount), record: h.terminal_id ? `${h.terminal_id}#${h.seq}` : null, source: h.source });
      return {
        personId,
        status: p?.status ?? 'unknown',
        payouts: salary.filter((h) => h.source === 'record').map(line),
        salaryCredits: salary.filter((h) => h.source === 'payroll').map(line),
        purchases: acct.map(line),
        balances: balances.map((b) => ({ account: b.account, currency: b.currency, balanceMinor: Number(b.balance) })),
      };
    });
  }

  /** Supervisor: the review queue (records stored without moving money, possible duplicates). */
  reviewList(includeResolved = false) {
    return this.ctx.repo.tx((r) => r.listReview(includeResolved));
  }

  /** Supervisor: a review item has been handled. */
  resolveReview(id: number): Promise<boolean> {
    return this.ctx.repo.tx((r) => r.resolveReview(id, this.ctx.now()));
  }
}
