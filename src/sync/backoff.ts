// Retry timing and link state, decided from real request outcomes (not OS network events). Pure.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  factor: number;
}
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5 * 60_000, factor: 2 };

/**
 * "Full jitter" exponential backoff: a uniform draw in [0, min(max, base·factor^(attempt−1))]. Spreading
 * retries keeps many terminals from hammering the centre in step when the link comes back.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** What a request outcome says about the link. */
export type Outcome =
  | { kind: 'ok' }
  /** the centre answered but refused (4xx): the link works */
  | { kind: 'refused'; status: number }
  /** connection refused/reset, timeout, DNS, or a 5xx from a proxy or the centre */
  | { kind: 'failed'; error: string };

export type LinkState = 'unknown' | 'up' | 'down';

/** Link is up after any answer from the centre, down after `downAfter` consecutive failures. */
export function nextLinkState(state: LinkState, failures: number, outcome: Outcome, downAfter = 1): { state: LinkState; failures: number } {
  if (outcome.kind !== 'failed') return { state: 'up', failures: 0 };
  const f = failures + 1;
  return { state: f >= downAfter ? 'down' : state, failures: f };
}
