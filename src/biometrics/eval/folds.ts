// Person-disjoint cross-validation of the decision thresholds. Pure.
// Over 400 lines because `crossValidate` is one pass whose fitting, held scoring and bootstrap share the fold arrays,
// and the report it fills (the types below) is what `palmpay eval --json` writes, so both stay beside it.
//
// People (never samples) are split into K folds. For each held fold, every data-driven choice is fitted on the
// comparisons among the OTHER folds' people only, then applied to the comparisons among the held fold's people
// only; no comparison that involves a held person is seen while fitting. The held folds' outcomes are pooled.
// Intervals: 90 % percentile bootstrap that resamples people (within their fold, so each keeps the thresholds
// its fold was given); a resampled person brings all its comparisons.
import { mulberry32 } from '../../util/random.ts';
import { PalmPayError } from '../../util/errors.ts';
import { normalUpperTail, upperQuantile } from '../identify/decision.ts';
import { verification } from './metrics.ts';
import type { Trials } from './trials.ts';

export const DEFAULT_FOLDS = 5;
export const DEFAULT_BOOTSTRAP = 1000;
export const DEFAULT_FMR_TARGETS = [1e-2, 1e-3, 1e-4] as const;

export interface CrossValOptions {
  folds?: number;
  seed?: number;
  /** Bootstrap replicates for the intervals (0: none). */
  bootstrap?: number;
  fmrTargets?: readonly number[];
  fpirTarget?: number;
}

/** A figure with its 90 % bootstrap interval (people resampled). */
export interface Estimate {
  value: number;
  ci90: [number, number];
}

export interface HeldOperatingPoint {
  target_fmr: number;
  /** Pooled over the held folds, each at the threshold fitted on its training folds. */
  fnmr: Estimate;
  fmr: number;
  /** Held impostor comparisons that passed / all held impostor comparisons. */
  false_matches: number;
  /** Thresholds per fold (fitted on the other folds). */
  thresholds: number[];
}

export interface FoldDetail {
  fold: number;
  people: string[];
  train_genuine: number;
  train_impostor: number;
  held_genuine: number;
  held_impostor: number;
  /** Threshold for each FMR target, fitted on the training folds. */
  thresholds: Array<{ target_fmr: number; threshold: number; below_resolution: boolean }>;
  eer_threshold: number;
  /** Normal model of the impostors' lower tail (mean, most cautious sd over the targets), fitted on the training folds. */
  impostor_tail: { mean: number; sd: number };
  fpir_threshold: number;
}

export interface PersonBreakdown {
  person: string;
  fold: number;
  genuine: number;
  /** Genuine comparisons rejected at the fold's strictest FMR threshold (the last target). */
  rejected_at_strictest: number;
  worst_genuine: number;
  /** Impostor comparisons (either side) accepted at the fold's strictest threshold. */
  false_matches_at_strictest: number;
}

export interface SessionBreakdown {
  kind: 'same-session' | 'cross-session';
  genuine: number;
  /** EER of these genuine against all held impostor comparisons. */
  eer: number;
  fnmr_at_fmr: Array<{ target_fmr: number; fnmr: number }>;
}

export interface CrossValReport {
  folds: number;
  seed: number;
  bootstrap: number;
  method: string;
  people: number;
  held_genuine: number;
  held_impostor: number;
  /** EER of the pooled held-fold scores (threshold-free). */
  eer: Estimate;
  /** (FMR + FNMR) / 2 on the held folds at each fold's EER threshold fitted on its training folds. */
  error_at_fitted_eer_threshold: number;
  fnmr_at_fmr: HeldOperatingPoint[];
  /** The impostor-tail model fitted on the training folds, checked on the held folds at the strictest threshold. */
  impostor_tail_check: { predicted_fmr: number; measured_fmr: number; held_impostor: number };
  identification: {
    gallery: string;
    searches: number;
    nonmated_searches: number;
    rank1: Estimate;
    fpir_target: number;
    fnir_at_fpir: Estimate;
    fpir_measured: number;
    thresholds: number[];
  };
  by_session: SessionBreakdown[];
  by_person: PersonBreakdown[];
  fold_details: FoldDetail[];
  settings: Array<{ setting: string; chosen_on: string }>;
}

export class FoldError extends PalmPayError {
  constructor(message: string) {
    super('EVAL_FOLDS', message);
  }
}

/** Splits people into k folds of equal size (±1), by a seeded shuffle: person → fold. */
export function assignFolds(people: readonly string[], k: number, seed = 1): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new FoldError(`--folds must be an integer ≥ 2 (got ${k})`);
  if (people.length < k) throw new FoldError(`${people.length} people cannot fill ${k} folds`);
  const order = [...new Set(people)].sort();
  const rng = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return new Map(order.map((p, i) => [p, i % k]));
}

function percentile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** Weighted EER of distance scores (accept when score ≤ t). Inputs sorted ascending. */
function weightedEer(g: Float64Array, gw: Float64Array, im: Float64Array, iw: Float64Array): number {
  let G = 0;
  let I = 0;
  for (let i = 0; i < gw.length; i++) G += gw[i]!;
  for (let i = 0; i < iw.length; i++) I += iw[i]!;
  if (G === 0 || I === 0) return NaN;
  let gi = 0;
  let ii = 0;
  let gAcc = 0;
  let iAcc = 0;
  let best = Infinity;
  let eer = 1;
  while (gi < g.length || ii < im.length) {
    const t = Math.min(gi < g.length ? g[gi]! : Infinity, ii < im.length ? im[ii]! : Infinity);
    while (gi < g.length && g[gi]! <= t) gAcc += gw[gi++]!;
    while (ii < im.length && im[ii]! <= t) iAcc += iw[ii++]!;
    const fmr = iAcc / I;
    const fnmr = 1 - gAcc / G;
    const gap = Math.abs(fmr - fnmr);
    if (gap < best) { best = gap; eer = (fmr + fnmr) / 2; }
    if (fmr > fnmr) break; // past the crossing
  }
  return eer;
}

function sortedWithIndex(values: number[]): { v: Float64Array; idx: Int32Array } {
  const idx = Int32Array.from(values.keys()).sort((x, y) => values[x]! - values[y]!);
  return { v: Float64Array.from(idx, (i) => values[i]!), idx };
}

/** Cross-validates a protocol's trials with person-disjoint folds. */
export function crossValidate(trials: Trials, opts: CrossValOptions = {}): CrossValReport {
  const K = opts.folds ?? DEFAULT_FOLDS;
  const seed = opts.seed ?? 1;
  const B = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  const targets = opts.fmrTargets ?? DEFAULT_FMR_TARGETS;
  const fpirTarget = opts.fpirTarget ?? 0.01;
  const { people, comparisons: c, searches: s } = trials;
  const P = people.length;
  const foldOf = assignFolds(people, K, seed);
  const fold = Int32Array.from(people, (p) => foldOf.get(p)!);
  const members: number[][] = Array.from({ length: K }, () => []);
  for (let p = 0; p < P; p++) members[fold[p]!]!.push(p);

  // Fit per fold on the other folds.
  const details: FoldDetail[] = [];
  for (let f = 0; f < K; f++) {
    const tg: number[] = [];
    const ti: number[] = [];
    let hg = 0;
    let hi = 0;
    for (let k = 0; k < c.score.length; k++) {
      const fa = fold[c.a[k]!]!;
      const fb = fold[c.b[k]!]!;
      if (fa !== f && fb !== f) (c.a[k] === c.b[k] ? tg : ti).push(c.score[k]!);
      else if (fa === f && fb === f) {
        if (c.a[k] === c.b[k]) hg++;
        else hi++;
      }
    }
    const v = verification(tg, ti, targets);
    const mean = ti.reduce((x, y) => x + y, 0) / Math.max(1, ti.length);
    const sd = Math.max(...v.at.map((p) => (mean - p.threshold) / upperQuantile(p.target_fmr)));
    // Identification threshold: training searches, each against its own fold's gallery (the held galleries' size).
    const nonMated: number[] = [];
    forEachSearch(s, P, fold, (probe, pf, row) => {
      if (pf === f) return;
      let bestOther = Infinity;
      for (const q of members[pf]!) if (q !== probe && row[q]! < bestOther) bestOther = row[q]!;
      if (bestOther < Infinity) nonMated.push(bestOther);
    });
    nonMated.sort((x, y) => x - y);
    const kk = Math.floor(fpirTarget * nonMated.length + 1e-9);
    const fpirThreshold = kk < nonMated.length ? nonMated[kk]! - 1e-12 : Infinity;
    details.push({
      fold: f,
      people: members[f]!.map((p) => people[p]!),
      train_genuine: tg.length,
      train_impostor: ti.length,
      held_genuine: hg,
      held_impostor: hi,
      thresholds: v.at.map((p) => ({ target_fmr: p.target_fmr, threshold: p.threshold, below_resolution: p.below_resolution })),
      eer_threshold: v.eer_threshold,
      impostor_tail: { mean, sd },
      fpir_threshold: fpirThreshold,
    });
  }

  // Held comparisons, with their fold's verdicts.
  const heldG: number[] = [];
  const heldGPerson: number[] = [];
  const heldGCross: number[] = [];
  const heldI: number[] = [];
  const heldIA: number[] = [];
  const heldIB: number[] = [];
  const T = targets.length;
  const rejG: number[][] = targets.map(() => []);
  const accI: number[][] = targets.map(() => []);
  let eerErrG = 0;
  let eerErrI = 0;
  for (let k = 0; k < c.score.length; k++) {
    const f = fold[c.a[k]!]!;
    if (fold[c.b[k]!] !== f) continue;
    const d = details[f]!;
    const sc = c.score[k]!;
    if (c.a[k] === c.b[k]) {
      heldG.push(sc);
      heldGPerson.push(c.a[k]!);
      heldGCross.push(c.crossSession[k]!);
      for (let t = 0; t < T; t++) rejG[t]!.push(sc > d.thresholds[t]!.threshold ? 1 : 0);
      if (sc > d.eer_threshold) eerErrG++;
    } else {
      heldI.push(sc);
      heldIA.push(c.a[k]!);
      heldIB.push(c.b[k]!);
      for (let t = 0; t < T; t++) accI[t]!.push(sc <= d.thresholds[t]!.threshold ? 1 : 0);
      if (sc <= d.eer_threshold) eerErrI++;
    }
  }
  if (!heldG.length || !heldI.length) throw new FoldError('the held folds hold no genuine or no impostor comparisons (too few people or samples per fold)');

  // Held searches: each held probe against its own fold's gallery.
  const hsProbe: number[] = [];
  const hsRank1: number[] = [];
  const hsMiss: number[] = [];
  let fpHits = 0;
  let nonMatedSearches = 0;
  forEachSearch(s, P, fold, (probe, f, row) => {
    const mate = row[probe]!;
    let bestOther = Infinity;
    for (const q of members[f]!) if (q !== probe && row[q]! < bestOther) bestOther = row[q]!;
    if (bestOther < Infinity) {
      nonMatedSearches++;
      if (bestOther <= details[f]!.fpir_threshold) fpHits++;
    }
    if (Number.isNaN(mate)) return;
    const top = mate < bestOther;
    hsProbe.push(probe);
    hsRank1.push(top ? 1 : 0);
    hsMiss.push(top && mate <= details[f]!.fpir_threshold ? 0 : 1);
  });

  // Point estimates and the bootstrap over people.
  const gs = sortedWithIndex(heldG);
  const is = sortedWithIndex(heldI);
  const gPersonSorted = Int32Array.from(gs.idx, (i) => heldGPerson[i]!);
  const iASorted = Int32Array.from(is.idx, (i) => heldIA[i]!);
  const iBSorted = Int32Array.from(is.idx, (i) => heldIB[i]!);
  const gw = new Float64Array(gs.v.length);
  const iw = new Float64Array(is.v.length);
  const w = new Float64Array(P);
  const stats = (): number[] => {
    for (let i = 0; i < gw.length; i++) gw[i] = w[gPersonSorted[i]!]!;
    for (let i = 0; i < iw.length; i++) iw[i] = w[iASorted[i]!]! * w[iBSorted[i]!]!;
    const out = [weightedEer(gs.v, gw, is.v, iw)];
    let G = 0;
    for (let i = 0; i < heldG.length; i++) G += w[heldGPerson[i]!]!;
    for (let t = 0; t < T; t++) {
      let r = 0;
      for (let i = 0; i < heldG.length; i++) if (rejG[t]![i]) r += w[heldGPerson[i]!]!;
      out.push(G ? r / G : NaN);
    }
    let S = 0;
    let r1 = 0;
    let miss = 0;
    for (let i = 0; i < hsProbe.length; i++) {
      const wi = w[hsProbe[i]!]!;
      S += wi;
      r1 += wi * hsRank1[i]!;
      miss += wi * hsMiss[i]!;
    }
    out.push(S ? r1 / S : NaN, S ? miss / S : NaN);
    return out;
  };
  w.fill(1);
  const point = stats();
  const reps: Float64Array[] = point.map(() => new Float64Array(B));
  const rng = mulberry32((seed * 7919) ^ 0x5eed);
  for (let b = 0; b < B; b++) {
    w.fill(0);
    for (const m of members) for (let i = 0; i < m.length; i++) w[m[Math.floor(rng() * m.length)]!]! += 1;
    stats().forEach((v, j) => (reps[j]![b] = v));
  }
  const est = (j: number): Estimate => {
    const r = reps[j]!.filter((x) => !Number.isNaN(x)).sort();
    return { value: point[j]!, ci90: B > 0 ? [percentile(r, 0.05), percentile(r, 0.95)] : [NaN, NaN] };
  };

  // Breakdowns.
  const strict = T - 1;
  const byPerson: PersonBreakdown[] = people.map((person, p) => ({ person, fold: fold[p]!, genuine: 0, rejected_at_strictest: 0, worst_genuine: NaN, false_matches_at_strictest: 0 }));
  heldG.forEach((sc, i) => {
    const r = byPerson[heldGPerson[i]!]!;
    r.genuine++;
    r.rejected_at_strictest += rejG[strict]![i]!;
    r.worst_genuine = Number.isNaN(r.worst_genuine) ? sc : Math.max(r.worst_genuine, sc);
  });
  heldI.forEach((_, i) => {
    if (!accI[strict]![i]) return;
    byPerson[heldIA[i]!]!.false_matches_at_strictest++;
    byPerson[heldIB[i]!]!.false_matches_at_strictest++;
  });
  byPerson.sort((x, y) => (y.worst_genuine || 0) - (x.worst_genuine || 0));
  const bySession: SessionBreakdown[] = [];
  for (const kind of ['same-session', 'cross-session'] as const) {
    const want = kind === 'cross-session' ? 1 : 0;
    const idx = heldG.flatMap((_, i) => (heldGCross[i] === want ? [i] : []));
    if (!idx.length) continue;
    const sub = sortedWithIndex(idx.map((i) => heldG[i]!));
    bySession.push({
      kind,
      genuine: idx.length,
      eer: weightedEer(sub.v, new Float64Array(idx.length).fill(1), is.v, new Float64Array(is.v.length).fill(1)),
      fnmr_at_fmr: targets.map((target_fmr, t) => ({ target_fmr, fnmr: idx.reduce((acc, i) => acc + rejG[t]![i]!, 0) / idx.length })),
    });
  }

  // The tail model fitted on training folds, checked on held impostors at the strictest target's threshold.
  let predicted = 0;
  let measured = 0;
  for (let i = 0; i < heldI.length; i++) {
    const f = fold[heldIA[i]!]!;
    const d = details[f]!;
    const t = d.thresholds[strict]!.threshold;
    predicted += normalUpperTail((d.impostor_tail.mean - t) / d.impostor_tail.sd);
    measured += accI[strict]![i]!;
  }

  return {
    folds: K,
    seed,
    bootstrap: B,
    method:
      `people split into ${K} folds by a seeded shuffle (seed ${seed}); for each held fold, thresholds (FMR targets, EER, FPIR) and the ` +
      'impostor-tail model are fitted on the comparisons among the other folds\' people only and applied to the comparisons among ' +
      'the held fold\'s people only; held outcomes pooled. 90 % intervals: percentile bootstrap resampling people within their fold.',
    people: P,
    held_genuine: heldG.length,
    held_impostor: heldI.length,
    eer: est(0),
    error_at_fitted_eer_threshold: (eerErrG / heldG.length + eerErrI / heldI.length) / 2,
    fnmr_at_fmr: targets.map((target_fmr, t) => {
      const fm = accI[t]!.reduce((x, y) => x + y, 0);
      return { target_fmr, fnmr: est(1 + t), fmr: fm / heldI.length, false_matches: fm, thresholds: details.map((d) => d.thresholds[t]!.threshold) };
    }),
    impostor_tail_check: { predicted_fmr: predicted / heldI.length, measured_fmr: measured / heldI.length, held_impostor: heldI.length },
    identification: {
      gallery: `each held probe searches its own fold's gallery (${Math.min(...members.map((m) => m.length))}–${Math.max(...members.map((m) => m.length))} people); the FPIR threshold is fitted on the training folds' probes, each against its own fold's gallery (same size)`,
      searches: hsProbe.length,
      nonmated_searches: nonMatedSearches,
      rank1: est(1 + T),
      fpir_target: fpirTarget,
      fnir_at_fpir: est(2 + T),
      fpir_measured: nonMatedSearches ? fpHits / nonMatedSearches : NaN,
      thresholds: details.map((d) => d.fpir_threshold),
    },
    by_session: bySession,
    by_person: byPerson,
    fold_details: details,
    settings: [
      { setting: 'thresholds for each target FMR, the EER threshold, the FPIR threshold and the impostor-tail model', chosen_on: 'for each held fold, the comparisons among the other folds\' people only' },
    ],
  };
}

/** Calls `fn(probePerson, probeFold, row)` for each search (row: the probe's distance to each person, NaN = not enrolled). */
function forEachSearch(s: Trials['searches'], P: number, fold: Int32Array, fn: (probe: number, fold: number, row: Float32Array) => void): void {
  for (let i = 0; i < s.probe.length; i++) {
    const probe = s.probe[i]!;
    fn(probe, fold[probe]!, s.scores.subarray(i * P, (i + 1) * P));
  }
}
