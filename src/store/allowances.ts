// Offline allowances: how much each customer may spend offline on this terminal, granted by the centre.
// `used_minor` grows inside the append transaction of every offline purchase.
import type Database from 'better-sqlite3';
import type { Currency } from '../protocol/record.ts';

export interface Allowance {
  customerId: string;
  currency: Currency;
  limitMinor: number;
  usedMinor: number;
  grantedAtMs: number;
  expiresAtMs: number;
  /** The account's balance at the centre when it computed the grant (at grantedAtMs); null when it sent none. */
  balanceMinor: number | null;
  /** The terminal's MAC over the grant (src/ledger/local-trust.ts); null when written unsealed. */
  seal: string | null;
}

export class AllowancesRepo {
  private readonly getStmt: Database.Statement<[string, string], Record<string, unknown>>;
  private readonly grantStmt: Database.Statement;
  private readonly useStmt: Database.Statement;
  private readonly unsyncedStmt: Database.Statement<[number, string, string], { s: number | null }>;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT * FROM offline_allowances WHERE customer_id = ? AND currency = ?');
    this.grantStmt = db.prepare(`INSERT INTO offline_allowances (customer_id, currency, limit_minor, used_minor, granted_at_ms, expires_at_ms, seal, balance_minor)
      VALUES (@customerId, @currency, @limitMinor, @usedMinor, @grantedAtMs, @expiresAtMs, @seal, @balanceMinor)
      ON CONFLICT(customer_id, currency) DO UPDATE SET limit_minor = excluded.limit_minor, used_minor = excluded.used_minor, seal = excluded.seal, balance_minor = excluded.balance_minor,
        granted_at_ms = excluded.granted_at_ms, expires_at_ms = excluded.expires_at_ms`);
    this.useStmt = db.prepare('UPDATE offline_allowances SET used_minor = used_minor + ? WHERE customer_id = ? AND currency = ?');
    this.unsyncedStmt = db.prepare(`SELECT sum(amount_minor) AS s FROM journal
      WHERE seq > ? AND party_id = ? AND type = 'purchase' AND offline = 1 AND currency = ?`);
  }

  get(customerId: string, currency: Currency): Allowance | undefined {
    const r = this.getStmt.get(customerId, currency);
    return r && {
      customerId: r.customer_id as string,
      currency: r.currency as Currency,
      limitMinor: r.limit_minor as number,
      usedMinor: r.used_minor as number,
      grantedAtMs: r.granted_at_ms as number,
      expiresAtMs: r.expires_at_ms as number,
      balanceMinor: (r.balance_minor as number | null) ?? null,
      seal: (r.seal as string | null) ?? null,
    };
  }

  /**
   * A grant from the centre. `asOfSeq` is the last of this terminal's records the centre had applied when it
   * computed the grant: offline purchases after it are still counted as used, so a grant never forgets them.
   * (A range scan from asOfSeq on the journal's key: the unsynced tail is short.)
   */
  grant(g: { customerId: string; currency: Currency; limitMinor: number; grantedAtMs: number; expiresAtMs: number; asOfSeq: number; balanceMinor?: number | null; seal?: string | null }): void {
    const usedMinor = this.unsyncedStmt.get(g.asOfSeq, g.customerId, g.currency)?.s ?? 0;
    this.grantStmt.run({ ...g, usedMinor, balanceMinor: g.balanceMinor ?? null, seal: g.seal ?? null });
  }

  /** Adds an offline purchase to the customer's use. Called inside the append transaction. */
  use(customerId: string, currency: Currency, amountMinor: number): void {
    this.useStmt.run(amountMinor, customerId, currency);
  }
}
