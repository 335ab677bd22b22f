// The settlement tables (migration 5): which day each ledger transaction was settled in, and each day's signed
// settlement. Queries only, inside the caller's transaction.
import { ADVISORY_LOCK, sql, type SqlConn } from '../sql.ts';
import type { SettledPosting } from './positions.ts';

export class ClearingStore {
  constructor(private readonly c: SqlConn) {}

  /** One settlement at a time (SQLite: its one writer already is). */
  async lock(): Promise<void> {
    if (this.c.dialect === 'postgres') await this.c.run(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.settlement})`);
  }
  getSettlement(date: string): Promise<{ date: string; body: string; sig: string } | undefined> {
    return this.c.get(sql`SELECT date, body, sig FROM settlements WHERE date = ${date}`);
  }
  async insertSettlement(date: string, body: string, sig: string, at: number): Promise<void> {
    await this.c.run(sql`INSERT INTO settlements (date, body, sig, created_at) VALUES (${date}, ${body}, ${sig}, ${at})`);
  }
  /** The earliest time of a transaction not yet settled, before `beforeMs`. */
  async earliestUnsettled(beforeMs: number): Promise<number | undefined> {
    const row = await this.c.get<{ at: number | null }>(sql`SELECT MIN(created_at) AS at FROM txns WHERE settlement_date IS NULL AND created_at < ${beforeMs}`);
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
  }
  /** Gives every unsettled transaction made before `endMs` to `date`. */
  async assignDay(date: string, endMs: number): Promise<number> {
    return (await this.c.run(sql`UPDATE txns SET settlement_date = ${date} WHERE settlement_date IS NULL AND created_at < ${endMs}`)).changes;
  }
  async postingsOfDay(date: string): Promise<SettledPosting[]> {
    const rows = await this.c.all<SettledPosting>(sql`SELECT t.id AS txn, t.source, t.terminal_id AS terminal, t.seq, t.ref, t.memo, t.created_at AS at, p.account, p.currency, p.amount
      FROM txns t JOIN postings p ON p.txn_id = t.id WHERE t.settlement_date = ${date} ORDER BY t.id, p.id`);
    return rows.map((r) => ({ ...r, txn: Number(r.txn), seq: r.seq === null ? null : Number(r.seq), at: Number(r.at), amount: Number(r.amount) }));
  }
  async terminalBranches(): Promise<Map<string, string>> {
    return new Map((await this.c.all<{ id: string; branch: string }>(sql`SELECT id, branch FROM terminals`)).map((t) => [t.id, t.branch]));
  }
  /** Net of every account over the days settled before `date` (its opening balance in the settlement). */
  async settledBefore(date: string): Promise<Array<{ account: string; currency: string; amount: number }>> {
    const rows = await this.c.all<{ account: string; currency: string; amount: number }>(sql`SELECT p.account, p.currency, SUM(p.amount) AS amount
      FROM txns t JOIN postings p ON p.txn_id = t.id WHERE t.settlement_date IS NOT NULL AND t.settlement_date < ${date} GROUP BY p.account, p.currency`);
    return rows.map((r) => ({ ...r, amount: Number(r.amount) }));
  }
}
