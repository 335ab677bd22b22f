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
  /** Accept only when the best distance is ≤ threshold. */
  threshold: number;
  /** …and the best other person's distance exceeds it by at least this much; otherwise ask again. */
  margin: number;
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

export function decide(scored: readonly ScoredEntry[], policy: DecisionPolicy): Decision {
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
  if (margin < policy.margin) {
    return { kind: 'ambiguous', action: 'second-capture-or-id', candidates: ranked.filter((s) => s.score - top.score < policy.margin) };
  }
  return { kind: 'match', personId: top.personId, entryId: top.entryId, hand: top.hand, score: top.score, margin };
}
