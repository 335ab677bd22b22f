// Configuration of the recogniser: the coder chosen by measurement and the decision thresholds.
import type { CoderId, CoderParams } from './types.ts';

/** The coder and parameters extract() uses unless told otherwise (chosen on the dev data: see README.md). */
export const DEFAULT_EXTRACT: { coder: CoderId; params: CoderParams } = {
  coder: 'bocv',
  params: { roiSize: 64, wavelength10: 95, kernelRadius: 9, orientations: 6 },
};

/**
 * Decision thresholds on matchScore (accept when score <= threshold), each chosen from a target false-match
 * rate on the dev data (see README.md for the run). PROVISIONAL until measured.
 */
export const THRESHOLDS = {
  source: 'provisional',
  /** Target FMR 0.01 %: payouts and payments. */
  fmr1e4: 0.3,
  /** Target FMR 0.1 %. */
  fmr1e3: 0.32,
  /** Target FMR 1 %. */
  fmr1e2: 0.35,
} as const;

/** The threshold a payment decision uses. */
export const DECISION_THRESHOLD = THRESHOLDS.fmr1e4;
