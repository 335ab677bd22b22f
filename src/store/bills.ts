// The region's open bills, cached from the centre's signed feed (src/sync/feed.ts applies the 'bill' events),
// and the subscriber numbers the feed has named. A bill paid here is marked with its record's seq in the
// payment's own transaction, so it is never offered twice while the centre has not yet said "paid".
import type Database from 'better-sqlite3';
import type { Currency } from '../protocol/record.ts';

export interface CachedBill {
  billerId: string;
  billId: string;
  subscriber: string;
  cycle: string;
  amountMinor: number;
  currency: Currency;
  dueDate: string;
  previousReading: number;
  currentReading: number;
  /** The seq of this counter's record that paid it, or null while it is due. */
  paidSeq: number | null;
  /** When the feed last delivered this bill (terminal clock). */
  receivedAtMs: number;
}

const row = (r: Record<string, unknown>): CachedBill => ({
  billerId: r.biller_id as string,
  billId: r.bill_id as string,
  subscriber: r.subscriber as string,
  cycle: r.cycle as string,
  amountMinor: r.amount_minor as number,
  currency: r.currency as Currency,
  dueDate: r.due_date as string,
  previousReading: r.previous_reading as number,
  currentReading: r.current_reading as number,
  paidSeq: (r.paid_seq as number | null) ?? null,
  receivedAtMs: r.received_at_ms as number,
});

/** A subscriber link as the signed feed delivered it: this payer may pay this biller's subscriber number. */
export interface CachedLink {
  billerId: string;
  subscriber: string;
  payerKind: 'person' | 'account';
  payerId: string;
  receivedAtMs: number;
  /** The terminal's MAC over the row (src/ledger/local-trust.ts); a row without a good one links nobody. */
  seal: string | null;
}

export class BillsRepo {
  private readonly upsertStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly seenStmt: Database.Statement;
  private readonly dueStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly getStmt: Database.Statement<[string, string], Record<string, unknown>>;
  private readonly knownStmt: Database.Statement<[string], { n: number }>;
  private readonly paidStmt: Database.Statement;
  private readonly billReadingStmt: Database.Statement;
  private readonly readingStmt: Database.Statement;
  private readonly metersStmt: Database.Statement<[string], { biller_id: string; last_reading: number | null }>;
  private readonly linkPutStmt: Database.Statement;
  private readonly linkDeleteStmt: Database.Statement;
  private readonly linksStmt: Database.Statement<[string, string], Record<string, unknown>>;

  constructor(db: Database.Database) {
    // A feed that repeats an open bill never clears this counter's own payment (the centre has not seen it yet).
    this.upsertStmt = db.prepare(`INSERT INTO bills (biller_id, bill_id, subscriber, cycle, amount_minor, currency, due_date, previous_reading, current_reading, received_at_ms)
      VALUES (@billerId, @billId, @subscriber, @cycle, @amountMinor, @currency, @dueDate, @previousReading, @currentReading, @receivedAtMs)
      ON CONFLICT(biller_id, bill_id) DO UPDATE SET subscriber = excluded.subscriber, cycle = excluded.cycle, amount_minor = excluded.amount_minor,
        currency = excluded.currency, due_date = excluded.due_date, previous_reading = excluded.previous_reading,
        current_reading = excluded.current_reading, received_at_ms = excluded.received_at_ms`);
    this.deleteStmt = db.prepare('DELETE FROM bills WHERE biller_id = ? AND bill_id = ?');
    this.seenStmt = db.prepare(`INSERT INTO bill_subscribers (biller_id, subscriber, seen_at_ms) VALUES (?, ?, ?)
      ON CONFLICT(biller_id, subscriber) DO UPDATE SET seen_at_ms = excluded.seen_at_ms`);
    // A bill's reading counts when its cycle is newer than the one the last reading came from (or none is known).
    this.billReadingStmt = db.prepare(`UPDATE bill_subscribers SET last_reading = @reading, last_cycle = @cycle
      WHERE biller_id = @billerId AND subscriber = @subscriber AND (last_cycle IS NULL OR @cycle > last_cycle)`);
    this.readingStmt = db.prepare('UPDATE bill_subscribers SET last_reading = ? WHERE biller_id = ? AND subscriber = ?');
    this.metersStmt = db.prepare('SELECT biller_id, last_reading FROM bill_subscribers WHERE subscriber = ? ORDER BY biller_id');
    this.dueStmt = db.prepare('SELECT * FROM bills WHERE subscriber = ? AND paid_seq IS NULL ORDER BY due_date, biller_id, bill_id');
    this.getStmt = db.prepare('SELECT * FROM bills WHERE biller_id = ? AND bill_id = ?');
    this.knownStmt = db.prepare('SELECT count(*) AS n FROM bill_subscribers WHERE subscriber = ?');
    this.paidStmt = db.prepare('UPDATE bills SET paid_seq = ? WHERE biller_id = ? AND bill_id = ? AND paid_seq IS NULL');
    this.linkPutStmt = db.prepare(`INSERT INTO subscriber_links (biller_id, subscriber, payer_kind, payer_id, received_at_ms, seal)
      VALUES (@billerId, @subscriber, @payerKind, @payerId, @receivedAtMs, @seal)
      ON CONFLICT(biller_id, subscriber, payer_kind, payer_id) DO UPDATE SET received_at_ms = excluded.received_at_ms, seal = excluded.seal`);
    this.linkDeleteStmt = db.prepare('DELETE FROM subscriber_links WHERE biller_id = ? AND subscriber = ? AND payer_kind = ? AND payer_id = ?');
    this.linksStmt = db.prepare('SELECT * FROM subscriber_links WHERE biller_id = ? AND subscriber = ? ORDER BY payer_kind, payer_id');
  }

  /** A link the feed delivered (the caller seals it: TrustedCentreCopies.putLink). */
  putLink(l: CachedLink): void {
    this.linkPutStmt.run(l);
  }

  /** The feed says the link was removed at the centre. */
  removeLink(l: Pick<CachedLink, 'billerId' | 'subscriber' | 'payerKind' | 'payerId'>): void {
    this.linkDeleteStmt.run(l.billerId, l.subscriber, l.payerKind, l.payerId);
  }

  /** The stored links of one biller's subscriber number, seals unchecked (TrustedCentreCopies.mayPay checks them). */
  links(billerId: string, subscriber: string): CachedLink[] {
    return this.linksStmt.all(billerId, subscriber).map((r) => ({
      billerId: r.biller_id as string, subscriber: r.subscriber as string, payerKind: r.payer_kind as CachedLink['payerKind'],
      payerId: r.payer_id as string, receivedAtMs: r.received_at_ms as number, seal: (r.seal as string | null) ?? null,
    }));
  }

  /** An open bill as the feed delivered it (the subscriber becomes known). */
  upsertOpen(b: Omit<CachedBill, 'paidSeq'>): void {
    this.upsertStmt.run(b);
    this.seenStmt.run(b.billerId, b.subscriber, b.receivedAtMs);
    this.billReadingStmt.run({ billerId: b.billerId, subscriber: b.subscriber, cycle: b.cycle, reading: b.currentReading });
  }

  /** The feed says the bill is no longer due (paid anywhere, or withdrawn): it leaves the cache (its reading stays known). */
  remove(billerId: string, billId: string, subscriber: string, atMs: number, reading?: { cycle: string; currentReading: number }): void {
    this.deleteStmt.run(billerId, billId);
    this.seenStmt.run(billerId, subscriber, atMs);
    if (reading) this.billReadingStmt.run({ billerId, subscriber, cycle: reading.cycle, reading: reading.currentReading });
  }

  /** The meters the feed named for a subscriber number (one per biller) and their last known reading. */
  meters(subscriber: string): Array<{ billerId: string; lastReading: number | null }> {
    return this.metersStmt.all(subscriber).map((r) => ({ billerId: r.biller_id, lastReading: r.last_reading }));
  }

  /** A reading recorded here (in its record's transaction) is the meter's last reading from now on. */
  noteReading(billerId: string, subscriber: string, reading: number): void {
    this.readingStmt.run(reading, billerId, subscriber);
  }

  /** The bills still due for a subscriber number (every biller of the region), oldest due date first. */
  dueFor(subscriber: string): CachedBill[] {
    return this.dueStmt.all(subscriber).map(row);
  }

  get(billerId: string, billId: string): CachedBill | undefined {
    const r = this.getStmt.get(billerId, billId);
    return r && row(r);
  }

  /** Whether the feed ever named this subscriber number. */
  known(subscriber: string): boolean {
    return (this.knownStmt.get(subscriber)?.n ?? 0) > 0;
  }

  /** Marks a bill paid by this counter's record; false when it was not due (already paid here). */
  markPaid(billerId: string, billId: string, seq: number): boolean {
    return this.paidStmt.run(seq, billerId, billId).changes === 1;
  }
}
