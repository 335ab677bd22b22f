// Quality cut-offs fitted with the person-disjoint folds, and the held-fold FTA and generalised FNMR. Pure.
//
// Rule (fixed before any fit, not tuned): for each "higher is better" measure, the verification cut-off is
// VERIFY_FACTOR × the 1st percentile of the training captures' values, and the enrolment cut-off is ENROL_FACTOR ×
// that percentile (stricter). For each held fold the cut-offs are fitted on the other folds' people's captures only
// and applied to the held fold's captures; a held capture below one fails to acquire with that measure's reason.
import { qualityVerdict, valleyFailure, type Measured, type QualityLimits } from '../quality.ts';
import type { FtaReason } from '../types.ts';

/** The measures whose cut-offs are fitted, with the limit each sets. */
export const FITTED_MEASURES = [
  { measure: 'detail', limit: 'minDetail' },
  { measure: 'spectralSlope', limit: 'minSpectralSlope' },
  { measure: 'uniformity', limit: 'minUniformity' },
  { measure: 'palmSize', limit: 'minPalmSize' },
  { measure: 'plausibility', limit: 'minPlausibility' },
] as const satisfies ReadonlyArray<{ measure: keyof Measured; limit: keyof QualityLimits }>;

export const QUALITY_FIT_RULE = { percentile: 0.01, verifyFactor: 0.75, enrolFactor: 0.9 } as const;

export type FittedCutoffs = Record<(typeof FITTED_MEASURES)[number]['limit'], number>;

/** The cut-offs the rule gives on a set of captures' measurements. */
export function fitCutoffs(values: readonly Measured[], factor: number): FittedCutoffs {
  const out = {} as FittedCutoffs;
  for (const { measure, limit } of FITTED_MEASURES) {
    const v = values.map((m) => m[measure]).sort((a, b) => a - b);
    const p = v.length ? v[Math.min(v.length - 1, Math.floor(QUALITY_FIT_RULE.percentile * v.length))]! : 0;
    out[limit] = p * factor;
  }
  return out;
}

export interface QualitySample {
  person: string;
  /** Null when the capture failed before its ROI could be measured (no hand, no valley group). */
  measured: Measured | null;
  /** The failure that happened before measuring, if any. */
  earlyFailure: FtaReason | null;
  /** The blur measure where the palm was found but the valley group was not (then blur or closed fingers). */
  earlySlope?: number | null;
}

/** A capture's failure to acquire at these limits, or null (one rule for held captures and blurred copies). */
export function judgeCapture(s: Omit<QualitySample, 'person'>, l: QualityLimits): FtaReason | null {
  if (s.earlyFailure) return s.earlyFailure === 'fingers-closed' && typeof s.earlySlope === 'number' ? valleyFailure(s.earlySlope, l) : s.earlyFailure;
  return s.measured ? qualityVerdict(s.measured, l) : 'no-hand';
}

export interface HeldQualityFold {
  fold: number;
  verify: FittedCutoffs;
  enrol: FittedCutoffs;
}

export interface HeldQualityReport {
  rule: string;
  captures: number;
  /** Held captures that fail at their fold's verification cut-offs, in all and per cause. */
  fta: number;
  fta_count: number;
  fta_by_reason: Partial<Record<FtaReason, number>>;
  /** The same at the (stricter) enrolment cut-offs. */
  enrol_fta: number;
  enrol_fta_by_reason: Partial<Record<FtaReason, number>>;
  /** Genuine pairs among each held fold's acquired captures, judged at the fold's verification threshold. */
  genuine_pairs: number;
  fnmr_at_fmr: Array<{ target_fmr: number; fnmr: number; gfnmr: number }>;
  folds: HeldQualityFold[];
}

/**
 * Held-fold FTA and generalised FNMR (ISO/IEC 19795-1: GFNMR = FTA + (1 − FTA) · FNMR, a failure to acquire
 * counted as a false non-match). `dist` is the capture × capture distance matrix; `thresholds[f][t]` the fold's
 * score threshold for target t (fitted on the other folds by folds.ts).
 */
export function heldQuality(
  samples: readonly QualitySample[],
  foldOf: ReadonlyMap<string, number>,
  dist: Float32Array,
  base: QualityLimits,
  targets: readonly number[],
  thresholds: ReadonlyArray<readonly number[]>,
  /** Narrows the fitted limits to those that apply (quality.ts cropLimits for pre-cropped ROIs). */
  applies: (l: QualityLimits) => QualityLimits = (l) => l,
  /** Replaces a fold's fitted cut-offs (eval --blur: the spectral slope by the blur rule, fitted on the same training folds). */
  refit?: (fold: number) => { verify: Partial<FittedCutoffs>; enrol: Partial<FittedCutoffs> },
): HeldQualityReport {
  const K = thresholds.length;
  const n = samples.length;
  const folds: HeldQualityFold[] = [];
  const reason: Array<FtaReason | null> = new Array<FtaReason | null>(n).fill(null);
  const enrolReason: Array<FtaReason | null> = new Array<FtaReason | null>(n).fill(null);
  for (let f = 0; f < K; f++) {
    const train = samples.flatMap((s) => (foldOf.get(s.person) !== f && s.measured ? [s.measured] : []));
    const over = refit?.(f);
    const verify = { ...fitCutoffs(train, QUALITY_FIT_RULE.verifyFactor), ...over?.verify };
    const enrol = { ...fitCutoffs(train, QUALITY_FIT_RULE.enrolFactor), ...over?.enrol };
    folds.push({ fold: f, verify, enrol });
    samples.forEach((s, i) => {
      if (foldOf.get(s.person) !== f) return;
      const judge = (cut: FittedCutoffs): FtaReason | null => judgeCapture(s, applies({ ...base, ...cut }));
      reason[i] = judge(verify);
      enrolReason[i] = judge(enrol);
    });
  }
  const count = (rs: Array<FtaReason | null>): Partial<Record<FtaReason, number>> =>
    rs.reduce<Partial<Record<FtaReason, number>>>((m, r) => (r ? { ...m, [r]: (m[r] ?? 0) + 1 } : m), {});
  const ftaCount = reason.filter((r) => r !== null).length;
  const fta = n ? ftaCount / n : 0;
  const rejected = targets.map(() => 0);
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    if (reason[i]) continue;
    for (let j = i + 1; j < n; j++) {
      if (reason[j] || samples[j]!.person !== samples[i]!.person) continue;
      const f = foldOf.get(samples[i]!.person)!;
      pairs++;
      targets.forEach((_, t) => (rejected[t]! += dist[i * n + j]! > thresholds[f]![t]! ? 1 : 0));
    }
  }
  return {
    rule:
      `for each held fold, cut-offs fitted on the other folds' captures: verification = ${QUALITY_FIT_RULE.verifyFactor} × and enrolment = ` +
      `${QUALITY_FIT_RULE.enrolFactor} × the ${QUALITY_FIT_RULE.percentile * 100} % percentile of ${FITTED_MEASURES.map((m) => m.measure).join(', ')}; applied to the held fold's captures`,
    captures: n,
    fta,
    fta_count: ftaCount,
    fta_by_reason: count(reason),
    enrol_fta: n ? enrolReason.filter((r) => r !== null).length / n : 0,
    enrol_fta_by_reason: count(enrolReason),
    genuine_pairs: pairs,
    fnmr_at_fmr: targets.map((target_fmr, t) => {
      const fnmr = pairs ? rejected[t]! / pairs : NaN;
      return { target_fmr, fnmr, gfnmr: fta + (1 - fta) * fnmr };
    }),
    folds,
  };
}
