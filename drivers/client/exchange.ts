/**
 * One-request-one-answer bookkeeping shared by both protocol drivers: a single pending slot, a matcher
 * that accepts, ignores or rejects each incoming message, and bounded retries of safe requests.
 */
import { DriverError, isWireError } from '../errors.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import type { DriverSink } from './types.ts';

/** true: this answers the request; false: not for us; a DriverError: an answer, but an invalid one. */
export type Matcher<M> = (msg: M) => boolean | DriverError;

interface Pending<M> {
  match: Matcher<M>;
  resolve: (m: M) => void;
  reject: (e: unknown) => void;
  /** A windowed request takes damage on the wire in its stride (asks again) instead of failing: true = handled. */
  onWireError?: (err: DriverError) => boolean;
}

/** What a windowed request's matcher says of a message: the item it answers, not ours, or an invalid answer. */
export type ItemMatcher<M> = (msg: M) => { item: number } | false | DriverError;

export interface WindowedOptions<M> extends CallOptions {
  /** Requests in all (items 0 … count − 1), answered in any order. */
  count: number;
  /** At most this many requests in flight. */
  window: number;
  /** Sends per item (1 = no re-send). */
  attempts: number;
  /** The request for an item. */
  encode(item: number): Uint8Array;
  match: ItemMatcher<M>;
  /** Called once per item with its first valid answer. */
  accept(item: number, msg: M): void;
  /** Which wire errors may be answered by asking again (default: all of them). */
  retryable?: (err: DriverError) => boolean;
}

export interface RequestOptions<M> extends CallOptions {
  match: Matcher<M>;
  /** Attempts in all (1 = no retry). Only wire errors are retried. */
  attempts: number;
  /** Which wire errors may be retried (default: all of them). */
  retryable?: (err: DriverError) => boolean;
}

export class ExchangeSlot<M> {
  private pending: Pending<M> | null = null;

  /** Called after an exchange timed out, before the retry (the serial decoder drops a stuck partial). */
  onTimeout: (() => void) | null = null;

  constructor(
    private readonly sink: DriverSink,
    private readonly send: (bytes: Uint8Array, opts: CallOptions) => Promise<void>,
  ) {}

  get busy(): boolean {
    return this.pending !== null;
  }

  /** Offers an incoming message; returns true if it answered the pending request. */
  offer(msg: M): boolean {
    const p = this.pending;
    if (!p) return false;
    const verdict = p.match(msg);
    if (verdict === false) return false;
    if (p.onWireError && verdict === true) return true; // a windowed request consumed it and goes on
    this.pending = null;
    if (verdict === true) p.resolve(msg);
    else p.reject(verdict);
    return true;
  }

  /** Fails the pending request (device restarted, link lost); a windowed one asks again where it can. */
  fail(err: DriverError): void {
    const p = this.pending;
    if (p?.onWireError?.(err)) return;
    this.pending = null;
    p?.reject(err);
  }

  once(name: string, bytes: Uint8Array, match: Matcher<M>, opts: CallOptions): Promise<M> {
    if (this.pending) return Promise.reject(new DriverError('SCANNER_BUSY', `${name}: another exchange is in flight`));
    return waitFor<M>(name, opts, (resolve, reject) => {
      const me: Pending<M> = { match, resolve, reject };
      this.pending = me;
      this.send(bytes, { signal: opts.signal, timeoutMs: opts.timeoutMs }).catch(reject);
      return () => {
        if (this.pending === me) this.pending = null;
      };
    });
  }

  async request(name: string, bytes: Uint8Array, opts: RequestOptions<M>): Promise<M> {
    let last: DriverError | null = null;
    for (let attempt = 1; attempt <= opts.attempts; attempt++) {
      if (last) this.sink.retry(name, last);
      try {
        return await this.once(name, bytes, opts.match, opts);
      } catch (err) {
        if (!(err instanceof DriverError) || !isWireError(err) || opts.signal?.aborted) throw err;
        // Decoder errors were reported as they happened; count the ones only the exchange sees.
        // (PROTO_PARITY/LENGTH that failed the exchange early were counted by the decoder.)
        if (err.code === 'SCANNER_TIMEOUT' || err.code === 'DEVICE_RESTARTED' || err.code === 'PROTO_BAD_MESSAGE' || err.code === 'PROTO_BAD_REPORT') this.sink.fault(err);
        if (err.code === 'SCANNER_TIMEOUT') this.onTimeout?.();
        if (opts.retryable && !opts.retryable(err)) throw err;
        last = err;
      }
    }
    const error = new DriverError('SCANNER_UNRESPONSIVE', `${name}: no valid answer after ${opts.attempts} attempt(s) (last: ${last?.code})`, { cause: last });
    this.sink.unresponsive(error);
    throw error;
  }

  /**
   * Several requests in flight at once, each answer matched to its item (an answer names what it answers, e.g. a
   * chunk's offset). Up to `window` are in flight; once half of them are answered, the next half goes out in one write. Nothing heard for
   * `timeoutMs` sends every outstanding item again; damage on the wire sends the oldest outstanding one again (answers
   * come in order, so it is the one most likely destroyed). An item sent `attempts` times without a valid answer
   * ends the request (SCANNER_UNRESPONSIVE); a module restart, a lost link or an invalid answer that is not a wire
   * error ends it at once. A second answer for an item is not consumed (the driver reports it as stale).
   */
  windowed(name: string, o: WindowedOptions<M>): Promise<void> {
    if (this.pending) return Promise.reject(new DriverError('SCANNER_BUSY', `${name}: another exchange is in flight`));
    if (o.count === 0) return Promise.resolve();
    const sent = new Uint16Array(o.count);
    const done = new Uint8Array(o.count);
    const outstanding = new Set<number>(); // insertion order = the order sent
    let next = 0;
    let received = 0;
    return waitFor<void>(name, { signal: o.signal }, (resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      let lateOnce = false;
      const finish = (err?: unknown) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (this.pending === me) this.pending = null;
        if (err) reject(err);
        else resolve();
      };
      // Several requests go out in ONE write (each write is a system call and a drain on the link; over a busy
      // machine's pty every one of them also waits for the other end to be scheduled).
      const send = (items: number | number[], why: DriverError | null) => {
        const list = typeof items === 'number' ? [items] : items;
        const parts: Uint8Array[] = [];
        for (const item of list) {
          if (sent[item]! >= o.attempts) {
            const error = new DriverError('SCANNER_UNRESPONSIVE', `${name}: item ${item}: no valid answer after ${o.attempts} attempt(s) (last: ${why?.code})`, { cause: why });
            this.sink.unresponsive(error);
            return finish(error);
          }
          if (why) this.sink.retry(`${name} #${item}`, why);
          sent[item]!++;
          outstanding.delete(item);
          outstanding.add(item);
          parts.push(o.encode(item));
        }
        if (!parts.length) return;
        this.send(parts.length === 1 ? parts[0]! : concatBytes(parts), { signal: o.signal, timeoutMs: o.timeoutMs }).catch((e: unknown) => {
          // A write still queued when its time ran out (a busy machine): the request counts as lost and the idle
          // timer asks again; a link that failed ends the request.
          if (e instanceof DriverError && e.code === 'SCANNER_TIMEOUT' && !finished) this.sink.fault(e);
          else finish(e);
        });
      };
      const fill = () => {
        const batch: number[] = [];
        while (!finished && outstanding.size + batch.length < o.window && next < o.count) batch.push(next++);
        send(batch, null);
      };
      // One timer for the whole request, not one per answer (a frame is ~75 answers): each answer only moves
      // `armedAt`, and a timer that fires early for it waits out the rest.
      const idleMs = o.timeoutMs ?? 400;
      let armedAt = 0;
      const onTimer = () => {
        timer = undefined;
        if (finished) return;
        const idle = performance.now() - armedAt;
        if (idle < idleMs) {
          timer = setTimeout(onTimer, idleMs - idle);
          return;
        }
        // Fired long after it was due: this process was not running (a loaded machine), so the answers may be
        // waiting unread. Give the link one more period before calling them lost and asking for all of them again.
        if (idle > 1.5 * idleMs && !lateOnce) {
          lateOnce = true;
          return arm();
        }
        lateOnce = false;
        const err = new DriverError('SCANNER_TIMEOUT', `${name}: no answer within ${o.timeoutMs} ms (${outstanding.size} in flight)`);
        this.sink.fault(err);
        this.onTimeout?.();
        if (o.retryable && !o.retryable(err)) return finish(err);
        send([...outstanding], err);
        if (!finished) arm();
      };
      const arm = () => {
        armedAt = performance.now();
        timer ??= setTimeout(onTimer, idleMs);
      };
      const me: Pending<M> = {
        match: (msg) => {
          const v = o.match(msg);
          if (v === false) return false;
          if (v instanceof DriverError) {
            if (!isWireError(v) || v.code === 'DEVICE_RESTARTED' || (o.retryable && !o.retryable(v))) {
              finish(v);
              return true;
            }
            this.sink.fault(v);
            const oldest = outstanding.values().next().value;
            if (oldest !== undefined) send(oldest, v);
            return true;
          }
          if (done[v.item] || !outstanding.has(v.item)) return false;
          done[v.item] = 1;
          outstanding.delete(v.item);
          o.accept(v.item, msg);
          if (++received === o.count) {
            finish();
            return true;
          }
          lateOnce = false;
          // Refill by half windows: each write carries several requests, so the module and the link wake once per
          // batch instead of once per answer (on a loaded machine every wake-up waits for a core).
          if (outstanding.size <= o.window >> 1) fill();
          arm();
          return true;
        },
        resolve: () => finish(),
        reject: (e) => finish(e),
        onWireError: (err) => {
          if (finished || err.code === 'DEVICE_RESTARTED' || !isWireError(err) || (o.retryable && !o.retryable(err))) return false;
          const oldest = outstanding.values().next().value;
          if (oldest !== undefined) send(oldest, err);
          return true;
        },
      };
      this.pending = me;
      fill();
      arm();
      return () => {
        clearTimeout(timer);
        finished = true;
        if (this.pending === me) this.pending = null;
      };
    });
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
