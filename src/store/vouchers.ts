// Salary vouchers (one per person and period, from the centre) and their leases: a voucher leased to this
// terminal may be redeemed here offline; no other terminal holds the same lease, so it is never paid twice.
import type Database from 'better-sqlite3';
import type { Currency } from '../protocol/record.ts';

export type VoucherStatus = 'open' | 'paid' | 'cancelled';
export interface Voucher {
  voucherId: string;
  personId: string;
  accountId: string;
  period: string;
  amountMinor: number;
  currency: Currency;
  status: VoucherStatus;
  paidSeq: number | null;
  updatedAtMs: number;
  /** The terminal's MAC over what the centre said (src/ledger/local-trust.ts); null when written unsealed. */
  seal?: string | null;
}
export interface Lease {
  voucherId: string;
  leaseId: string;
  terminalId: string;
  grantedAtMs: number;
  expiresAtMs: number;
  seal?: string | null;
}

export class VouchersRepo {
  private readonly upsertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly openForStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly paidStmt: Database.Statement;
  private readonly reopenStmt: Database.Statement;
  private readonly leaseUpsert: Database.Statement;
  private readonly leaseGet: Database.Statement<[string], Record<string, unknown>>;
  private readonly leaseDelete: Database.Statement;

  constructor(db: Database.Database) {
    // A feed never reopens a voucher this terminal has paid: the local payout wins until the centre has it.
    this.upsertStmt = db.prepare(`INSERT INTO vouchers (voucher_id, person_id, account_id, period, amount_minor, currency, status, updated_at_ms, seal)
      VALUES (@voucherId, @personId, @accountId, @period, @amountMinor, @currency, @status, @updatedAtMs, @seal)
      ON CONFLICT(voucher_id) DO UPDATE SET person_id = excluded.person_id, account_id = excluded.account_id, seal = excluded.seal,
        period = excluded.period, amount_minor = excluded.amount_minor, currency = excluded.currency,
        status = CASE WHEN vouchers.status = 'paid' THEN 'paid' ELSE excluded.status END, updated_at_ms = excluded.updated_at_ms`);
    this.getStmt = db.prepare('SELECT * FROM vouchers WHERE voucher_id = ?');
    this.openForStmt = db.prepare(`SELECT * FROM vouchers WHERE person_id = ? AND status = 'open' ORDER BY period, voucher_id`);
    this.paidStmt = db.prepare(`UPDATE vouchers SET status = 'paid', paid_seq = ? WHERE voucher_id = ? AND status = 'open'`);
    this.reopenStmt = db.prepare(`UPDATE vouchers SET status = 'open', paid_seq = NULL WHERE voucher_id = ? AND status = 'paid'`);
    this.leaseUpsert = db.prepare(`INSERT INTO voucher_leases (voucher_id, lease_id, terminal_id, granted_at_ms, expires_at_ms, seal)
      VALUES (@voucherId, @leaseId, @terminalId, @grantedAtMs, @expiresAtMs, @seal)
      ON CONFLICT(voucher_id) DO UPDATE SET lease_id = excluded.lease_id, terminal_id = excluded.terminal_id, seal = excluded.seal,
        granted_at_ms = excluded.granted_at_ms, expires_at_ms = excluded.expires_at_ms`);
    this.leaseGet = db.prepare('SELECT * FROM voucher_leases WHERE voucher_id = ?');
    this.leaseDelete = db.prepare('DELETE FROM voucher_leases WHERE voucher_id = ?');
  }

  upsert(v: Omit<Voucher, 'paidSeq'>): void {
    this.upsertStmt.run({ ...v, seal: v.seal ?? null });
  }

  get(voucherId: string): Voucher | undefined {
    const r = this.getStmt.get(voucherId);
    return r && toVoucher(r);
  }

  openFor(personId: string): Voucher[] {
    return this.openForStmt.all(personId).map(toVoucher);
  }

  /** Marks an open voucher paid by journal record `seq`; false if it was not open. Called inside the append transaction. */
  markPaid(voucherId: string, seq: number): boolean {
    return this.paidStmt.run(seq, voucherId).changes === 1;
  }

  /** A supervisor voided the payout: the voucher may be paid again. Called inside the append transaction. */
  reopen(voucherId: string): boolean {
    return this.reopenStmt.run(voucherId).changes === 1;
  }

  upsertLease(l: Lease): void {
    this.leaseUpsert.run({ ...l, seal: l.seal ?? null });
  }

  lease(voucherId: string): Lease | undefined {
    const r = this.leaseGet.get(voucherId);
    return r && {
      voucherId: r.voucher_id as string,
      leaseId: r.lease_id as string,
      terminalId: r.terminal_id as string,
      grantedAtMs: r.granted_at_ms as number,
      expiresAtMs: r.expires_at_ms as number,
      seal: (r.seal as string | null) ?? null,
    };
  }

  /** The lease moved away (needs the link: only the centre says so). */
  dropLease(voucherId: string): void {
    this.leaseDelete.run(voucherId);
  }
}

function toVoucher(r: Record<string, unknown>): Voucher {
  return {
    voucherId: r.voucher_id as string,
    personId: r.person_id as string,
    accountId: r.account_id as string,
    period: r.period as string,
    amountMinor: r.amount_minor as number,
    currency: r.currency as Currency,
    status: r.status as VoucherStatus,
    paidSeq: r.paid_seq as number | null,
    updatedAtMs: r.updated_at_ms as number,
    seal: (r.seal as string | null) ?? null,
  };
}
