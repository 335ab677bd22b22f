// The screened search's policy arithmetic, shared by the kernel wrapper (kernel.ts) and the plain-JS search
// (js-scan.ts), so the two cannot drift apart: how many slots of a block to keep, and the cut-off that keeps them.

/** How much of each block the screen keeps for exact scoring. */
export interface ScreenPolicy {
  /** Keep about this fraction of a block's slots: those at or below the fraction's quantile of screening distance. */
  fraction: number;
  /** …and about this many over the whole search (a gallery this small or smaller is scored exactly in full). */
  minKeep: number;
}

/** The cut-off is taken from every SAMPLE_STEP-th screening distance of a block. */
export const SAMPLE_STEP = 4;
/** Screening distances are at most 512; the histogram has room for any u16 below this. */
export const HIST_BINS = 1024;

/** Slots of a block of `len` to keep, in a search over `total` slots (≥ len: score the whole block exactly). */
export function keepCount(len: number, total: number, policy: ScreenPolicy): number {
  return Math.ceil(len * Math.max(policy.fraction, policy.minKeep / Math.max(1, total)));
}

/**
 * The cut-off: the smallest distance at or below which the sample (`hist`, every SAMPLE_STEP-th distance of the
 * block's `len`) holds its share of `keep`.
 */
export function cutoff(hist: Uint32Array, keep: number, len: number): number {
  const want = Math.ceil((keep * Math.ceil(len / SAMPLE_STEP)) / len);
  let tau = 0;
  for (let seen = hist[0]!; seen < want && tau < HIST_BINS - 1; ) seen += hist[++tau]!;
  return tau;
}
