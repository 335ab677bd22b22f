// Synthetic defocus for the blur check of `palmpay eval --blur`: each acquired capture is blurred by Gaussians of
// several widths (in ROI pixels, so the same σ means the same loss of vein detail whatever the sensor or palm
// size), sensor noise is added back, and the copy is measured and matched against its own sharp capture. The
// held folds then count how many copies that no longer match are rejected as blurred, and how many sharp captures
// are kept. Pure: no I/O.
import { fnv1a, mulberry32, normal } from '../../util/random.ts';
import type { Measured, QualityLimits } from '../quality.ts';
import type { FtaReason, GreyFrame } from '../types.ts';
import { judgeCapture, type FittedCutoffs, type QualitySample } from './quality-folds.ts';

/** Blur widths (σ, in coded ROI pixels; the coder's wavelength is 9.5) and the noise added back; fixed before measuring. */
export const DEFAULT_BLUR_SIGMAS = [1, 2, 3, 4] as const;
/** Grey-level sd of the noise added back after blurring (a blurred capture still carries its sensor's noise). */
export const BLUR_NOISE_SD = 2;

/**
 * Separable Gaussian blur of σ frame pixels (edges clamped), then Normal(0, noiseSd) noise, seeded by `key` so a
 * copy is the same whatever the order of the data set.
 */
export function defocus(f: GreyFrame, sigma: number, noiseSd: number, key: string): GreyFrame {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const taps = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const norm = taps.reduce((a, b) => a + b, 0);
  const k = Float64Array.from(taps, (t) => t / norm);
  const { width: w, height: h, pixels: src } = f;
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let d = -r; d <= r; d++) a += k[d + r]! * src[row + Math.min(w - 1, Math.max(0, x + d))]!;
      tmp[row + x] = a;
    }
  }
  const rng = mulberry32(fnv1a(key));
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let d = -r; d <= r; d++) a += k[d + r]! * tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x]!;
      out[y * w + x] = Math.max(0, Math.min(255, Math.round(a + noiseSd * normal(rng))));
    }
  }
  return { width: w, height: h, pixels: out };
}

/**
 * The blur cut-off rule (fixed before measuring): on the training folds only, the spectral-slope cut-off t that
 * minimises missed(t) + SHARP_WEIGHT × rejected(t), where missed = the share of training blurred copies that no
 * longer match their sharp self yet measure ≥ t, and rejected = the share of training sharp captures below t. A
 * sharp capture rejected costs a recapture on every visit of that person, a missed blurred one a likely non-match
 * and one retry, hence the weight. Ties keep the lowest cut-off. Enrolment = ENROL_FACTOR × it (stricter, as before).
 */
export const BLUR_FIT_RULE = { sharpWeight: 10, enrolFactor: 0.9 / 0.75 } as const;

export function fitBlurCutoff(sharp: readonly number[], unmatchedBlurred: readonly number[], rule = BLUR_FIT_RULE): { verify: number; enrol: number } {
  const s = [...sharp].sort((a, b) => a - b);
  const u = [...unmatchedBlurred].sort((a, b) => a - b);
  // Candidates: just above each observed value, and 0; count below t by binary search.
  const below = (v: readonly number[], t: number): number => {
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (v[m]! < t) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  let best = 0;
  let bestCost = Infinity;
  for (const t of [0, ...u.map((x) => x * (1 + 1e-9) + 1e-12), ...s]) {
    const missed = u.length ? (u.length - below(u, t)) / u.length : 0;
    const rejected = s.length ? below(s, t) / s.length : 0;
    const cost = missed + rule.sharpWeight * rejected;
    if (cost < bestCost - 1e-12 || (Math.abs(cost - bestCost) <= 1e-12 && t < best)) [best, bestCost] = [t, cost];
  }
  return { verify: best, enrol: best * rule.enrolFactor };
}

/** One blurred copy of an acquired capture, measured with the quality limits off. */
export interface BlurredCopy {
  /** Index of the sharp capture in the evaluation's sample list. */
  sample: number;
  person: string;
  sigma: number;
  /** Null where the copy failed before its ROI could be measured. */
  measured: Measured | null;
  earlyFailure: FtaReason | null;
  earlySlope: number | null;
  /** matchScore(sharp capture, blurred copy); null where the copy could not be coded. */
  selfDistance: number | null;
}

export interface BlurSigmaRow {
  sigma_roi_px: number;
  copies: number;
  /** Copies whose distance to their own sharp capture exceeds the fold's strictest threshold (or that cannot be coded). */
  no_longer_match: number;
  /** Of those, rejected at the fold's cut-offs as 'blurred' (either blur measure), by the spectral slope alone, and for any reason. */
  rejected_blurred: number;
  rejected_by_spectral_slope: number;
  rejected_any: number;
  /** Copies that still match their sharp self, and how many of them were rejected as 'blurred' anyway. */
  still_match: number;
  still_match_rejected_blurred: number;
}

export interface HeldBlurReport {
  protocol: string;
  noise_sd: number;
  by_sigma: BlurSigmaRow[];
  /** All sigmas pooled: the share of no-longer-matching copies rejected as 'blurred'. */
  unmatched_rejected_blurred: number;
  unmatched_copies: number;
  /** Held sharp captures (acquired before blurring) and how many the fold's cut-offs keep, judged on blur alone and on every limit. */
  sharp_captures: number;
  sharp_kept_blur: number;
  sharp_kept_all: number;
  /** Every copy: its sample, σ, distance to its sharp self, verdict at its fold's cut-offs and its blur measures. */
  copies: Array<{ sample: number; sigma: number; self_distance: number | null; verdict: FtaReason | null; spectral_slope: number | null; detail: number | null }>;
}

/**
 * Judges each held copy at its fold's verification cut-offs (fitted on the other folds' sharp captures,
 * quality-folds.ts) and its fold's strictest threshold (`thresholds[f]`, fitted on the other folds).
 */
export function heldBlurCheck(
  copies: readonly BlurredCopy[],
  sharp: readonly QualitySample[],
  foldOf: ReadonlyMap<string, number>,
  cutoffs: readonly FittedCutoffs[],
  base: QualityLimits,
  thresholds: readonly number[],
  applies: (l: QualityLimits) => QualityLimits = (l) => l,
): HeldBlurReport {
  const limitsOf = (person: string): { limits: QualityLimits; threshold: number } => {
    const f = foldOf.get(person)!;
    return { limits: applies({ ...base, ...cutoffs[f]! }), threshold: thresholds[f]! };
  };
  const judged = copies.map((c) => ({ c, verdict: judgeCapture(c, limitsOf(c.person).limits) }));
  const sigmas = [...new Set(copies.map((c) => c.sigma))].sort((a, b) => a - b);
  const rows = sigmas.map((sigma): BlurSigmaRow => {
    const row: BlurSigmaRow = { sigma_roi_px: sigma, copies: 0, no_longer_match: 0, rejected_blurred: 0, rejected_by_spectral_slope: 0, rejected_any: 0, still_match: 0, still_match_rejected_blurred: 0 };
    for (const { c, verdict } of judged) {
      if (c.sigma !== sigma) continue;
      const { limits, threshold } = limitsOf(c.person);
      row.copies++;
      if (c.selfDistance === null || c.selfDistance > threshold) {
        row.no_longer_match++;
        if (verdict === 'blurred') row.rejected_blurred++;
        if (c.measured && c.measured.spectralSlope < limits.minSpectralSlope) row.rejected_by_spectral_slope++;
        if (verdict) row.rejected_any++;
      } else {
        row.still_match++;
        if (verdict === 'blurred') row.still_match_rejected_blurred++;
      }
    }
    return row;
  });
  let kept = 0;
  let keptAll = 0;
  let sharpCount = 0;
  for (const s of sharp) {
    if (s.earlyFailure || !s.measured) continue;
    sharpCount++;
    const verdict = judgeCapture(s, limitsOf(s.person).limits);
    if (verdict !== 'blurred') kept++;
    if (!verdict) keptAll++;
  }
  const unmatched = rows.reduce((a, r) => a + r.no_longer_match, 0);
  return {
    protocol:
      `each held capture acquired at the configured limits blurred by a Gaussian of σ ROI pixels (× the capture's frame pixels per ROI pixel), noise sd ${BLUR_NOISE_SD} added back, ` +
      `extracted again; 'no longer matches' = its distance to its own sharp capture above the fold's strictest threshold (or not coded); judged at the fold's verification cut-offs (its spectral-slope cut-off fitted on the training folds' captures and copies: missed blurred + ${BLUR_FIT_RULE.sharpWeight} × sharp rejected, minimised)`,
    noise_sd: BLUR_NOISE_SD,
    by_sigma: rows,
    unmatched_rejected_blurred: unmatched ? rows.reduce((a, r) => a + r.rejected_blurred, 0) / unmatched : NaN,
    unmatched_copies: unmatched,
    sharp_captures: sharpCount,
    sharp_kept_blur: sharpCount ? kept / sharpCount : NaN,
    sharp_kept_all: sharpCount ? keptAll / sharpCount : NaN,
    copies: judged.map(({ c, verdict }) => ({ sample: c.sample, sigma: c.sigma, self_distance: c.selfDistance, verdict, spectral_slope: c.measured?.spectralSlope ?? null, detail: c.measured?.detail ?? null })),
  };
}
