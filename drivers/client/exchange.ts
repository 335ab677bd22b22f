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
    this.pending = null;
    if (verdict === true) p.resolve(msg);
    else p.reject(verdict);
    return true;
  }

  /** Fails the pending request (device restarted, link lost). */
  fail(err: DriverError): void {
    const p = this.pending;
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
}
