// Offline allowances: how much each customer may spend offline on this terminal, granted by the centre.
// What is used is not kept in the row: it is the sum of this terminal's offline purchases after the grant's
// as_of_seq, read from the signed, hash-chained journal each time, so a row put back from an older copy of the
// store (or a used amount edited) cannot hand the allowance out again. The journal itself is anchored (anchor.ts).
import type Database from 'better-sqlite3';
import type { Currency } from '../protocol/record.ts';

export interface Allowance {
  customerId: string;
  currency: Currency;
  limitMinor: number;
  /** Offline purchases after asOfSeq, from the journal. */
  usedMinor: number;
  /** The last of this terminal's records the centre had applied when it computed the grant. */
  asOfSeq: number;
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

  constructor(db: Database.Database) {
    // A range scan from as_of_seq on the journal's key: the tail since the last grant is short.
    this.getStmt = db.prepare(`SELECT a.*, (SELECT coalesce(sum(j.amount_minor), 0) FROM journal j
        WHERE j.seq > a.as_of_seq AND j.party_id = a.customer_id AND j.type = 'purchase' AND j.offline = 1 AND j.currency = a.currency) AS used
      FROM offline_allowances a WHERE a.customer_id = ? AND a.currency = ?`);
    this.grantStmt = db.prepare(`INSERT INTO offline_allowances (customer_id, currency, limit_minor, used_minor, as_of_seq, granted_at_ms, expires_at_ms, seal, balance_minor)
      VALUES (@customerId, @currency, @limitMinor, 0, @asOfSeq, @grantedAtMs, @expiresAtMs, @seal, @balanceMinor)
      ON CONFLICT(customer_id, currency) DO UPDATE SET limit_minor = excluded.limit_minor, as_of_seq = excluded.as_of_seq, seal = excluded.seal, balance_minor = excluded.balance_minor,
        granted_at_ms = excluded.granted_at_ms, expires_at_ms = excluded.expires_at_ms`);
  }

  get(customerId: string, currency: Currency): Allowance | undefined {
    const r = this.getStmt.get(customerId, currency);
    return r && {
      customerId: r.customer_id as string,
      currency: r.currency as Currency,
      limitMinor: r.limit_minor as number,
      usedMinor: r.used as number,
      asOfSeq: r.as_of_seq as number,
      grantedAtMs: r.granted_at_ms as number,
      expiresAtMs: r.expires_at_ms as number,
      balanceMinor: (r.balance_minor as number | null) ?? null,
      seal: (r.seal as string | null) ?? null,
    };
  }

  /**
   * A grant from the centre. `asOfSeq` is the last of this terminal's records the centre had applied when it
   * computed the grant: offline purchases after it are counted as used, so a grant never forgets them.
   */
  grant(g: { customerId: string; currency: Currency; limitMinor: number; grantedAtMs: number; expiresAtMs: number; asOfSeq: number; balanceMinor?: number | null; seal?: string | null }): void {
    this.grantStmt.run({ ...g, balanceMinor: g.balanceMinor ?? null, seal: g.seal ?? null });
  }
}
