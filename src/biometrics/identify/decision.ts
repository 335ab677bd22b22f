// The identification decision: threshold on the best person's fine distance, and a margin over the runner-up
// PERSON (both hands of one person are separate entries; two entries of the same person never make it ambiguous).
import type { Hand } from '../types.ts';

export interface ScoredEntry {
  entryId: string;
  personId: string;
  hand: Hand;
  /** Fine distance in [0, 1], lower is more similar (matchScore). */
  score: number;
}

export interface DecisionPolicy {
  /** Accept only when the best distance is ≤ threshold (the 1:1 threshold)… */
  threshold: number;
  /** …and the best other person's distance exceeds it by at least this much; otherwise ask again. */
  margin: number;
  /**
   * …and, when given, ≤ the threshold that keeps the false-positive identification rate at `targetFpir` against
   * the whole gallery (thresholdFor). A best score between the two is not a match but "ask again or check the ID".
   */
  gallery?: { impostorMean: number; impostorTailSd: number; targetFpir: number };
}

/**
 * The accept threshold against `entries` enrolled palms: the 1:1 threshold, tightened so that
 * entries × FMR(t) ≤ targetFpir under the normal model of the impostors' lower tail.
 */
export function thresholdFor(policy: DecisionPolicy, entries: number): number {
  const g = policy.gallery;
  if (!g || entries < 1) return policy.threshold;
  return Math.min(policy.threshold, g.impostorMean - g.impostorTailSd * upperQuantile(g.targetFpir / entries));
}

/** z with Q(z) = p, for the upper tail Q of the standard normal (bisection; p in (0, 0.5]). */
export function upperQuantile(p: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpperTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Q(z) = P(Z > z) with small RELATIVE error far into the tail (erfc, Numerical Recipes' Chebyshev fit, < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(-ax * ax + poly);
  return (x >= 0 ? erfc : 2 - erfc) / 2;
}

export type Decision =
  | { kind: 'match'; personId: string; entryId: string; hand: Hand; score: number; margin: number }
  | {
      kind: 'ambiguous';
      /** What the counter should do: take a second capture, or fall back to an ID number or PIN. */
      action: 'second-capture-or-id';
      candidates: ScoredEntry[];
    }
  | { kind: 'no-match'; bestScore: number | null };

/** Decides among `scored` (stage 2's candidates), found in a gallery of `entries` palms (1 when unknown). */
export function decide(scored: readonly ScoredEntry[], policy: DecisionPolicy, entries = 1): Decision {
  // Best entry per person.
  const best = new Map<string, ScoredEntry>();
  for (const s of scored) {
    const b = best.get(s.personId);
    if (!b || s.score < b.score || (s.score === b.score && s.entryId < b.entryId)) best.set(s.personId, s);
  }
  const ranked = [...best.values()].sort((a, b) => a.score - b.score || (a.entryId < b.entryId ? -1 : 1));
  const top = ranked[0];
  if (!top || top.score > policy.threshold) return { kind: 'no-match', bestScore: top ? top.score : null };
  const runnerUp = ranked[1];
  const margin = runnerUp ? runnerUp.score - top.score : Infinity;
  // Close to a second person, or close enough to the threshold that in a gallery this large an impostor could
  // score as well: not sure, so never a guess.
  if (margin < policy.margin || top.score > thresholdFor(policy, entries)) {
    return { kind: 'ambiguous', action: 'second-capture-or-id', candidates: ranked.filter((s) => s.score - top.score < policy.margin) };
  }
  return { kind: 'match', personId: top.personId, entryId: top.entryId, hand: top.hand, score: top.score, margin };
}
