// The signed journal: one row per record, in sequence order. The body column holds the canonical JSON
// (exactly the signed bytes); the other columns are copies for queries, checked against the body on verify.
import type Database from 'better-sqlite3';

export interface JournalRow {
  seq: number;
  type: string;
  refId: string;
  partyId: string | null;
  amountMinor: number | null;
  currency: string | null;
  offline: boolean;
  hlcMs: number;
  prevHash: string;
  hash: string;
  /** canonical JSON of the record body */
  body: string;
  sig: string;
  createdAtMs: number;
}

export interface JournalHead {
  seq: number;
  hash: string;
  body: string;
}

export class JournalRepo {
  private readonly insertStmt: Database.Statement;
  private readonly headStmt: Database.Statement<[], JournalHead>;
  private readonly getStmt: Database.Statement<[number], Record<string, unknown>>;
  private readonly byRefStmt: Database.Statement<[string, string], Record<string, unknown>>;
  private readonly rangeStmt: Database.Statement<[number, number], Record<string, unknown>>;
  private readonly allStmt: Database.Statement<[], Record<string, unknown>>;
  private readonly countStmt: Database.Statement<[], { n: number }>;
  private readonly oldestUnsyncedStmt: Database.Statement<[], { ms: number | null }>;
  private readonly unsyncedTotalsStmt: Database.Statement<[], { currency: string; total: number }>;
  private readonly refundedStmt: Database.Statement<[string], { s: number | null }>;
  private readonly voidOfStmt: Database.Statement<[number, string], { seq: number }>;
  private readonly lastOfTypeStmt: Database.Statement<[string], Record<string, unknown>>;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(`INSERT INTO journal (seq, type, ref_id, party_id, amount_minor, currency, offline, hlc_ms, prev_hash, hash, body, sig, created_at_ms)
      VALUES (@seq, @type, @refId, @partyId, @amountMinor, @currency, @offline, @hlcMs, @prevHash, @hash, @body, @sig, @createdAtMs)`);
    this.headStmt = db.prepare('SELECT seq, hash, body FROM journal ORDER BY seq DESC LIMIT 1');
    this.getStmt = db.prepare('SELECT * FROM journal WHERE seq = ?');
    this.byRefStmt = db.prepare('SELECT * FROM journal WHERE type = ? AND ref_id = ?');
    this.rangeStmt = db.prepare('SELECT * FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?');
    this.allStmt = db.prepare('SELECT * FROM journal ORDER BY seq');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM journal');
    this.oldestUnsyncedStmt = db.prepare(`SELECT j.hlc_ms AS ms FROM outbox o JOIN journal j ON j.seq = o.seq ORDER BY o.seq LIMIT 1`);
    this.unsyncedTotalsStmt = db.prepare(`SELECT currency, total_minor AS total FROM outbox_totals WHERE total_minor != 0`);
    this.refundedStmt = db.prepare(`SELECT sum(amount_minor) AS s FROM journal WHERE type = 'refund' AND json_extract(body, '$.originalPurchaseId') = ?`);
    this.voidOfStmt = db.prepare(`SELECT seq FROM journal WHERE type = 'void' AND json_extract(body, '$.targetSeq') = ? AND json_extract(body, '$.targetTerminalId') = ?`);
    this.lastOfTypeStmt = db.prepare('SELECT * FROM journal WHERE type = ? ORDER BY seq DESC LIMIT 1');
  }

  /** Minor units already refunded against a purchase (refund records are rare: a scan of them is fine). */
  refundedMinor(purchaseId: string): number {
    return this.refundedStmt.get(purchaseId)?.s ?? 0;
  }

  /** The seq of a void that cancels record `targetSeq` of `terminalId`, if any. */
  voidOf(targetSeq: number, terminalId: string): number | undefined {
    return this.voidOfStmt.get(targetSeq, terminalId)?.seq;
  }

  /** The latest record of a type (e.g. the last day close). */
  lastOfType(type: string): JournalRow | undefined {
    const r = this.lastOfTypeStmt.get(type);
    return r && toRow(r);
  }

  insert(row: JournalRow): void {
    this.insertStmt.run({ ...row, offline: row.offline ? 1 : 0 });
  }

  /** The last record (the chain head), or undefined for an empty journal. */
  head(): JournalHead | undefined {
    return this.headStmt.get();
  }

  get(seq: number): JournalRow | undefined {
    const r = this.getStmt.get(seq);
    return r && toRow(r);
  }

  byRef(type: string, refId: string): JournalRow | undefined {
    const r = this.byRefStmt.get(type, refId);
    return r && toRow(r);
  }

  range(fromSeq: number, limit: number): JournalRow[] {
    return this.rangeStmt.all(fromSeq, limit).map(toRow);
  }

  /** Every row in seq order, streamed. */
  *iterate(): Generator<JournalRow> {
    for (const r of this.allStmt.iterate()) yield toRow(r);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** HLC ms of the oldest record the centre has not acknowledged, or null when all are synced. */
  oldestUnsyncedMs(): number | null {
    return this.oldestUnsyncedStmt.get()?.ms ?? null;
  }

  /** Sum of money records (purchases, payouts) not yet acknowledged by the centre, by currency. */
  unsyncedTotals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.unsyncedTotalsStmt.all()) out[r.currency] = r.total;
    return out;
  }
}

function toRow(r: Record<string, unknown>): JournalRow {
  return {
    seq: r.seq as number,
    type: r.type as string,
    refId: r.ref_id as string,
    partyId: r.party_id as string | null,
    amountMinor: r.amount_minor as number | null,
    currency: r.currency as string | null,
    offline: r.offline === 1,
    hlcMs: r.hlc_ms as number,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
    body: r.body as string,
    sig: r.sig as string,
    createdAtMs: r.created_at_ms as number,
  };
}
