// Timeouts and cancellation for every wait: one helper so no wait can hang.
import { DriverError } from '../errors.ts';

export interface CallOptions {
  /** Milliseconds before the call fails with SCANNER_TIMEOUT. */
  timeoutMs?: number;
  /** Aborting fails the call with SCANNER_ABORTED. */
  signal?: AbortSignal;
}

export function abortError(signal: AbortSignal | undefined, what: string): DriverError {
  const reason = signal?.reason;
  if (reason instanceof DriverError) return reason;
  return new DriverError('SCANNER_ABORTED', `${what}: aborted`, { cause: reason });
}

/**
 * Runs `start(settle)`; resolves/rejects with the first of: the operation, the timeout, the abort.
 * `start` returns a cleanup called exactly once whatever wins.
 */
export function waitFor<T>(
  what: string,
  opts: CallOptions,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => (() => void) | void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return reject(abortError(signal, what));
    let done = false;
    let cleanup: (() => void) | void = undefined;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(() => reject(abortError(signal, what)));
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        cleanup?.();
      } finally {
        fn();
      }
    };
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => finish(() => reject(new DriverError('SCANNER_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`))), timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(
        (v) => finish(() => resolve(v)),
        (e) => finish(() => reject(e)),
      );
      if (done) cleanup?.();
    } catch (e) {
      finish(() => reject(e));
    }
  });
}

/** Sleeps, but wakes (rejecting) on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return waitFor<void>('sleep', { signal }, (resolve) => {
    const t = setTimeout(resolve, ms);
    return () => clearTimeout(t);
  });
}

/** A signal that aborts when any of the given ones does (undefined entries ignored). */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return AbortSignal.any(list);
}
