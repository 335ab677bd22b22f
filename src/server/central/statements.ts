// What supervisors and terminals read back: a person's statement, and the supervisor's review queue.
import { ServerError } from '../errors.ts';
import { account } from '../postings.ts';
import type { TerminalRow } from '../repo.ts';
import type { CentreContext } from './context.ts';

export class Statements {
  constructor(private readonly ctx: CentreContext) {}

  /** A person's statement: salary credited and paid out, purchases and refunds, with the record behind each line. */
  async statement(personId: string, asker?: TerminalRow) {
    return this.ctx.repo.readTx(async (r) => {
      const p = await r.getPerson(personId);
      // A terminal sees the statements of its own region's people only; anything else is one uniform "not found"
      // (so a terminal cannot learn who is enrolled elsewhere). The admin CLI passes no terminal.
      if (asker && (!p || p.region !== asker.region)) throw new ServerError('STATEMENT_NOT_FOUND', `no statement for ${personId} in this region`, 404);
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
