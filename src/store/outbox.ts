// The outbox: one row per journal record still to reach the centre. Rows are enqueued inside the append
// transaction (src/ledger/ledger.ts); the uploader (src/sync) claims batches, then marks them done (the row is
// deleted: the journal keeps the record) or failed (back to pending with a retry time).
// Claims follow seq order and stop at the first row still backing off, so the centre receives the chain in order.
import type Database from 'better-sqlite3';
import type { SignedRecord } from '../protocol/record.ts';

export type OutboxState = 'pending' | 'in_flight';
export interface OutboxItem {
  /** the record's seq (outbox ids are journal seqs) */
  id: number;
  attempts: number;
  lastError: string | null;
  record: SignedRecord;
}
export interface OutboxStats {
  pending: number;
  inFlight: number;
  /** earliest time a pending row may be retried, or null */
  nextAttemptAtMs: number | null;
}

export class OutboxRepo {
  private readonly enqueueStmt: Database.Statement<[number]>;
  private readonly pendingStmt: Database.Statement<[number], Record<string, unknown>>;
  private readonly claimStmt: Database.Statement<[number, number]>;
  private readonly doneStmt: Database.Statement<[number]>;
  private readonly failStmt: Database.Statement<[string, number, number]>;
  private readonly recoverStmt: Database.Statement<[]>;
  private readonly statsStmt: Database.Statement<[], { state: OutboxState; n: number; next: number | null }>;

  constructor(private readonly db: Database.Database) {
    this.enqueueStmt = db.prepare(`INSERT INTO outbox (seq, state, attempts, next_attempt_at_ms) VALUES (?, 'pending', 0, 0)`);
    this.pendingStmt = db.prepare(`SELECT o.seq, o.attempts, o.last_error, o.next_attempt_at_ms, j.body, j.hash, j.sig
      FROM outbox o JOIN journal j ON j.seq = o.seq WHERE o.state = 'pending' ORDER BY o.seq LIMIT ?`);
    this.claimStmt = db.prepare(`UPDATE outbox SET state = 'in_flight', claimed_at_ms = ? WHERE seq = ? AND state = 'pending'`);
    this.doneStmt = db.prepare(`DELETE FROM outbox WHERE seq = ?`);
    this.failStmt = db.prepare(`UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?, next_attempt_at_ms = ?
      WHERE seq = ? AND state = 'in_flight'`);
    this.recoverStmt = db.prepare(`UPDATE outbox SET state = 'pending' WHERE state = 'in_flight'`);
    this.statsStmt = db.prepare(`SELECT state, count(*) AS n, min(next_attempt_at_ms) AS next FROM outbox GROUP BY state`);
  }

  /** Only inside the ledger's append transaction. */
  enqueue(seq: number): void {
    this.enqueueStmt.run(seq);
  }

  /** Claims up to n pending rows due at `nowMs`, in seq order, marking them in flight. */
  claimBatch(n: number, nowMs: number): OutboxItem[] {
    return this.db.transaction(() => {
      const items: OutboxItem[] = [];
      for (const r of this.pendingStmt.all(n)) {
        if ((r.next_attempt_at_ms as number) > nowMs) break;
        const seq = r.seq as number;
        this.claimStmt.run(nowMs, seq);
        const record = { ...(JSON.parse(r.body as string) as object), hash: r.hash as string, sig: r.sig as string } as SignedRecord;
        items.push({ id: seq, attempts: r.attempts as number, lastError: r.last_error as string | null, record });
      }
      return items;
    }).immediate();
  }

  /** The centre acknowledged these records: they leave the outbox (idempotent; the journal keeps them). */
  markDone(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.doneStmt.run(id);
    }).immediate();
  }

  /** Upload failed: back to pending with the error and the time of the next attempt. */
  markFailed(ids: readonly number[], error: string, nextAttemptAtMs: number): void {
    this.db.transaction(() => {
      for (const id of ids) this.failStmt.run(error.slice(0, 500), nextAttemptAtMs, id);
    }).immediate();
  }

  /** At start-up: rows left in flight by a crash go back to pending (the centre de-duplicates on (terminal, seq)). */
  recoverInFlight(): number {
    return this.recoverStmt.run().changes;
  }

  /** Rows (pending or in flight) with a seq above `seq`. */
  countAbove(seq: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox WHERE seq > ?').get(seq) as { n: number }).n;
  }

  stats(): OutboxStats {
    const s: OutboxStats = { pending: 0, inFlight: 0, nextAttemptAtMs: null };
    for (const r of this.statsStmt.all()) {
      if (r.state === 'pending') {
        s.pending = r.n;
        s.nextAttemptAtMs = r.next;
      } else s.inFlight = r.n;
    }
    return s;
  }
}
