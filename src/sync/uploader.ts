// The uploader: a persistent job queue over the store's outbox, in the spirit of Signal Desktop's JobManager.
// The outbox (SQLite) holds attempts, next retry time and last error, so nothing is lost across a crash;
// rows a crash left in flight are recovered at start. Batches go up in seq order, one at a time per terminal.
import { EventEmitter } from 'node:events';
import type { OutboxItem, OutboxStats } from '../store/outbox.ts';
import { FINAL_STATUSES, MAX_BATCH } from '../protocol/schemas.ts';
import { backoffDelay, DEFAULT_BACKOFF, nextLinkState, type BackoffPolicy, type LinkState, type Outcome } from './backoff.ts';
import { CentreRefusal, LinkError, type CentreClient } from './client.ts';
import { maxOf } from '../util/arrays.ts';

/** What the uploader needs of the outbox (src/store/outbox.ts implements it). */
export interface OutboxPort {
  claimBatch(n: number, nowMs: number): OutboxItem[];
  markDone(ids: readonly number[]): void;
  markFailed(ids: readonly number[], error: string, nextAttemptAtMs: number): void;
  recoverInFlight(): number;
  stats(): OutboxStats;
}

export interface UploaderOptions {
  outbox: OutboxPort;
  client: Pick<CentreClient, 'upload'>;
  batchSize?: number;
  /**
   * Batches on the wire at once (default 2): the centre verifies the next batch while it posts the current one.
   * Batches are claimed in seq order; should a later one overtake, the centre answers `gap` and it is resent.
   */
  pipeline?: number;
  backoff?: BackoffPolicy;
  /** Retry delay for records the centre refused for good (conflict, invalid): they stay visible, not lost. */
  refusedRetryMs?: number;
  /** Poll interval when the queue is empty (a kick() wakes it sooner). */
  idleMs?: number;
  now?: () => number;
  random?: () => number;
}

export interface UploadProgress {
  /** records acknowledged by the centre since start */
  sent: number;
  pending: number;
  inFlight: number;
  /** records per second over the last batch */
  rate: number;
}

export interface UploaderEvents {
  link: [state: LinkState, detail: string];
  progress: [p: UploadProgress];
  /** records the centre refused (conflict, invalid, revoked terminal): a supervisor must look */
  rejected: [items: Array<{ seq: number; status: string; reason: string }>];
  error: [err: Error];
  /** nothing claimable and nothing in flight (the queue is empty or backing off) */
  idle: [];
}

export class Uploader extends EventEmitter<UploaderEvents> {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private link: LinkState = 'unknown';
  private failures = 0;
  private sent = 0;
  private lastStats: OutboxStats = { pending: 0, inFlight: 0, nextAttemptAtMs: null };
  private lastStatsAt = 0;
  private readonly batchSize: number;
  private readonly now: () => number;

  constructor(private readonly o: UploaderOptions) {
    super();
    this.batchSize = Math.min(MAX_BATCH, Math.max(1, o.batchSize ?? 500)); // the centre refuses larger batches
    this.now = o.now ?? Date.now;
  }

  get linkState(): LinkState {
    return this.link;
  }

  /** Another exchange with the centre (a feed pull) answered: the link is up, even with nothing to upload. */
  noteReachable(): void {
    this.observe({ kind: 'ok' }, 'the centre answered');
  }

  /** Recovers in-flight rows left by a crash, then uploads until stopped. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.o.outbox.recoverInFlight();
    this.loop = this.run().catch((err: Error) => {
      this.running = false;
      this.emit('error', err);
    });
  }

  /** Stops after the current batch (its outcome is recorded before this resolves). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A record was queued: upload now instead of at the next poll. */
  kick(): void {
    this.wake?.();
  }

  stats(force = false): OutboxStats {
    // Counting scans the outbox: at most once a second unless forced.
    if (force || this.now() - this.lastStatsAt > 1000) {
      this.lastStats = this.o.outbox.stats();
      this.lastStatsAt = this.now();
    }
    return this.lastStats;
  }

  /** Resolves once nothing is pending or in flight (or rejects after timeoutMs). */
  async drained(timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.stats(true);
      if (s.pending === 0 && s.inFlight === 0) return;
      if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms: ${s.pending} pending`);
      // Counting the outbox costs a scan: wait until the uploader runs out of work (or a second), not a busy poll.
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          this.off('idle', done);
          r();
        };
        const t = setTimeout(done, 1000);
        this.on('idle', done);
      });
    }
  }

  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const depth = Math.max(1, this.o.pipeline ?? 2);
    try {
      while (this.running) {
        if (inFlight.size >= depth) {
          await Promise.race(inFlight);
          continue;
        }
        const items = this.o.outbox.claimBatch(this.batchSize, this.now());
        if (items.length === 0) {
          if (inFlight.size > 0) {
            await Promise.race(inFlight);
            continue;
          }
          this.emit('idle');
          const next = this.stats(true).nextAttemptAtMs;
          const idle = this.o.idleMs ?? 5000;
          await this.sleep(next !== null && this.stats().pending > 0 ? Math.min(idle, Math.max(1, next - this.now())) : idle);
          continue;
        }
        const p: Promise<void> = this.send(items).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    } finally {
      await Promise.allSettled(inFlight);
    }
  }

  private async send(items: OutboxItem[]): Promise<void> {
    const started = this.now();
    const ids = items.map((i) => i.id);
    let results;
    try {
      const res = await this.o.client.upload(items.map((i) => i.record));
      if (res.results.length !== items.length) throw new LinkError(`centre answered ${res.results.length} results for ${items.length} records`);
      results = res.results;
      this.observe({ kind: 'ok' }, 'upload accepted');
    } catch (err) {
      const attempt = Math.max(this.failures + 1, ...items.map((i) => i.attempts + 1));
      if (err instanceof CentreRefusal) {
        this.observe({ kind: 'refused', status: err.status }, err.message);
        // Revoked or unknown terminal, or a body the centre will never take: hold, visibly, and retry rarely.
        this.o.outbox.markFailed(ids, err.message, this.now() + (this.o.refusedRetryMs ?? 3600_000));
        this.emit('rejected', items.map((i) => ({ seq: i.id, status: err.remoteCode, reason: err.message })));
      } else {
        const message = err instanceof Error ? err.message : String(err);
        this.observe({ kind: 'failed', error: message }, message);
        this.o.outbox.markFailed(ids, message, this.now() + backoffDelay(attempt, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random));
      }
      return;
    }
    const done: number[] = [];
    const gaps: number[] = [];
    const refused: Array<{ seq: number; status: string; reason: string }> = [];
    results.forEach((r, i) => {
      const id = ids[i]!;
      if (FINAL_STATUSES.has(r.status)) done.push(id);
      else if (r.status === 'gap') gaps.push(id);
      else refused.push({ seq: id, status: r.status, reason: r.reason ?? r.status });
    });
    const now = this.now();
    if (done.length) this.o.outbox.markDone(done);
    // A gap means an earlier record is not in yet: usually the batch before this one, still on the wire, so
    // retry at once; if it keeps happening (the earlier record is stuck), back off like any failure.
    if (gaps.length) {
      const tries = maxOf(items.filter((i) => gaps.includes(i.id)).map((i) => i.attempts + 1));
      this.o.outbox.markFailed(gaps, 'sequence gap at the centre', tries <= 2 ? now : now + backoffDelay(tries, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random));
    }
    for (const r of refused) this.o.outbox.markFailed([r.seq], `${r.status}: ${r.reason}`, now + (this.o.refusedRetryMs ?? 3600_000));
    if (refused.length) this.emit('rejected', refused);
    this.sent += done.length;
    const s = this.stats();
    this.emit('progress', { sent: this.sent, pending: s.pending, inFlight: s.inFlight, rate: done.length / Math.max(0.001, (now - started) / 1000) });
  }

  private observe(outcome: Outcome, detail: string): void {
    const next = nextLinkState(this.link, this.failures, outcome);
    this.failures = next.failures;
    if (next.state !== this.link) {
      this.link = next.state;
      this.emit('link', next.state, detail);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
