// Capture quality: measurable components, the failure-to-acquire decision and the message the UI shows.
import type { CaptureGuidance, FtaReason, Quality } from './types.ts';

/**
 * Limits below/above which a capture is a failure to acquire. See QUALITY_LIMITS for the values and where they
 * come from.
 */
export interface QualityLimits {
  minHandArea: number;
  maxHandArea: number;
  /** Fewest ROI samples on the hand and inside the frame, as a fraction. */
  minRoiCoverage: number;
  minMean: number;
  maxMean: number;
  maxSaturated: number;
  /** Vein detail at the coder's wavelength relative to the level (RoiMeasurements.detail): below = 'blurred'. */
  minDetail: number;
  /** Spectral slope (spectralSlope below: energy at the coder's wavelength over the octave below): under = 'blurred'. */
  minSpectralSlope: number;
  minVeinContrast: number;
  /** Darkest / brightest ROI quadrant: below = 'uneven-light' (a tilted hand). */
  minUniformity: number;
  /** ROI side over the frame's shorter side: below = 'palm-small'. */
  minPalmSize: number;
  /** Finger-valley group plausibility: below = 'fingers-closed' (nearly closed fingers move the ROI). */
  minPlausibility: number;
}

/** The measurements the limits judge (extract.ts RoiMeasurements has these and more). */
export interface Measured {
  coverage: number;
  mean: number;
  saturated: number;
  detail: number;
  spectralSlope: number;
  contrast: number;
  uniformity: number;
  palmSize: number;
  plausibility: number;
}

/**
 * Verification and identification: a capture must be good enough to match.
 *
 * Hand area, coverage, exposure and vein contrast: set well outside the range of the 299 CASIA 940 nm dev frames
 * (issue 4; ROI mean 80–135, vein contrast 0.0063–0.021), not held out.
 *
 * Vein detail, uniformity, palm size and valley plausibility: fitted with the person-disjoint folds,
 * never on the whole set. Rule (eval/quality-folds.ts, fixed before fitting): verification cut-off = 0.75 × the
 * 1 % percentile of the training folds' captures, enrolment = 0.9 ×. Each value below is the median of the five
 * training-fold fits (each on 40 of the 50 CASIA people; range in brackets), from
 *   palmpay eval --data ../shared/data/casia-ms-940-dev --folds 5 --seed 1   (2026-12-05)
 * detail 0.0026 [0.0026–0.0027], uniformity 0.572 [0.566–0.588], palm size 0.185 [0.185–0.189],
 * plausibility 0.401 [0.401–0.541]. On the held folds they reject 0.67 % of captures at verification and 1.34 %
 * at enrolment, all for a barely plausible valley group (held FTA and GFNMR: src/biometrics/README.md).
 * For scale (dev frames): vein detail 0.0033–0.0092, uniformity 0.75–0.98, palm size 0.24–0.35. A Gaussian blur
 * of σ ≈ 12 frame pixels that makes a capture unmatchable (distance to its sharp self above the decision
 * threshold) brings its detail to 0.0024–0.0028; the old |I − 3×3 mean| measure passed it once sensor noise was
 * added back (test/biometrics/quality.test.ts).
 *
 * Spectral slope (blur, spectralSlope on the palm square, the sensor's noise floor removed), its own rule
 * (eval/blur.ts BLUR_FIT_RULE, fixed before fitting: on the training folds' sharp captures and their blurred copies,
 * minimise missed blurred + 10 × sharp rejected), from
 *   palmpay eval --data ../shared/data/casia-ms-940-dev --folds 5 --seed 1 --bootstrap 100 --blur   (2026-12-06)
 * fold fits 0.0797 / 0.0947 / 0.0891 / 0.0891 / 0.0891, median 0.0891. Blurred copies (σ 1 / 2 / 3 / 4 ROI pixels,
 * noise sd 2 added back): median 0.30 / 0.15 / 0.060 / 0.026 (before the noise floor was removed 0.31 / 0.15 / 0.070
 * / 0.038). Held figures: src/biometrics/README.md, *Blur measure, held folds*.
 */
const VERIFY_LIMITS: QualityLimits = {
  minHandArea: 0.06,
  maxHandArea: 0.75,
  minRoiCoverage: 0.8,
  minMean: 35,
  maxMean: 235,
  maxSaturated: 0.25,
  minDetail: 0.0026,
  minSpectralSlope: 0.0891,
  minVeinContrast: 0.003,
  minUniformity: 0.572,
  minPalmSize: 0.185,
  minPlausibility: 0.401,
};

/**
 * Enrolment is stricter: a poor enrolment capture degrades every later match of that person, and the person is
 * there to try again. Same fold fits as above with the enrolment factor 0.9: medians detail 0.00315 [0.0032],
 * uniformity 0.686 [0.679–0.705], plausibility 0.481 [0.481–0.649]. Palm size is NOT made stricter: its fitted
 * enrolment value (0.222 [0.222–0.227]) is a property of CASIA's field of view and rejected 20 of 96 frames of the
 * simulated scanner, whose palms fill less of the frame; a palm-size limit per sensor model is left open.
 * Spectral slope: 1.2 × the verification fit (the same ratio as 0.9 / 0.75), median 0.1069 [0.0956–0.1137].
 */
const ENROL_LIMITS: QualityLimits = { ...VERIFY_LIMITS, minDetail: 0.00315, minSpectralSlope: 0.1069, minUniformity: 0.686, minPlausibility: 0.481 };

export const QUALITY_LIMITS = { verify: VERIFY_LIMITS, enrol: ENROL_LIMITS } as const;
export type CapturePurpose = keyof typeof QUALITY_LIMITS;
export const DEFAULT_QUALITY_LIMITS: QualityLimits = VERIFY_LIMITS;

/**
 * The limits that apply to a pre-cropped ROI (extractRoi): no hand, so no palm size or valley group; and no
 * uniformity, which judges how a hand is held over a contactless sensor: the PolyU contact sensor's crops have their
 * own fixed illumination fall-off (uniformity median 0.76, 3.5 % of a sample below the CASIA-fitted cut-off).
 */
export function cropLimits(l: QualityLimits): QualityLimits {
  return { ...l, minPalmSize: 0, minPlausibility: 0, minUniformity: 0 };
}

/**
 * The first limit a capture's ROI measurements break, or null. Order: blur first (the spectral slope: a moving
 * hand also spoils the framing measures), then the framing (coverage, palm size, the valley group), the light
 * (exposure, then uniformity: a tilted hand is also dark and blurred on one side), then vein detail and contrast,
 * so each failure names the correction that fixes its cause.
 */
export function qualityVerdict(m: Measured, l: QualityLimits): FtaReason | null {
  if (m.spectralSlope < l.minSpectralSlope) return 'blurred';
  if (m.coverage < l.minRoiCoverage) return 'hand-partial';
  if (m.palmSize < l.minPalmSize) return 'palm-small';
  if (m.plausibility < l.minPlausibility) return 'fingers-closed';
  if (m.mean < l.minMean) return 'too-dark';
  if (m.mean > l.maxMean || m.saturated > l.maxSaturated) return 'too-bright';
  if (m.uniformity < l.minUniformity) return 'uneven-light';
  if (m.detail < l.minDetail) return 'blurred';
  if (m.contrast < l.minVeinContrast) return 'low-contrast';
  return null;
}

/** Whether a capture taken for verification would also pass the stricter enrolment limits (template update needs it). */
export function meetsEnrolQuality(m: Measured): boolean {
  return qualityVerdict(m, ENROL_LIMITS) === null;
}

/**
 * Why a capture whose palm was found has no plausible valley group: a blurred palm (which also smooths the
 * valleys away) asks to hold still, otherwise the fingers are too closed.
 */
export function valleyFailure(spectralSlope: number, l: QualityLimits): FtaReason {
  return spectralSlope < l.minSpectralSlope ? 'blurred' : 'fingers-closed';
}

/**
 * Quality components in [0, 1] (0 at a limit, 1 well inside it) and the overall score; `handArea` is the hand's
 * fraction of the (small) frame, null for a pre-cropped ROI.
 */
export function qualityScore(m: Measured, l: QualityLimits, handArea: number | null): Quality {
  const hand = handArea === null ? 1 : ramp(handArea, l.minHandArea, l.minHandArea * 2);
  const exposure = Math.min(ramp(m.mean, l.minMean, l.minMean + 30), ramp(m.mean, l.maxMean, l.maxMean - 30), ramp(m.saturated, l.maxSaturated, 0), ramp(m.uniformity, l.minUniformity, (1 + l.minUniformity) / 2));
  const sharpness = Math.min(ramp(m.detail, l.minDetail, Math.max(l.minDetail * 2, 1e-6)), ramp(m.spectralSlope, l.minSpectralSlope, Math.max(l.minSpectralSlope * 2, 1e-6)));
  const veinContrast = ramp(m.contrast, l.minVeinContrast, l.minVeinContrast * 3);
  const landmarks = m.plausibility;
  return { handArea: hand, landmarks, exposure, sharpness, veinContrast, score: Math.min(hand, exposure, sharpness, veinContrast) * (0.5 + 0.5 * landmarks) };
}

const MESSAGES: Record<FtaReason, string> = {
  'no-hand': 'No hand seen: place your open hand over the scanner.',
  'hand-partial': 'Hand partly outside the view: centre your hand over the scanner.',
  'fingers-closed': 'Spread your fingers a little and hold your hand flat.',
  'too-far': 'Move your hand closer to the scanner.',
  'too-close': 'Move your hand a little further from the scanner.',
  'too-dark': 'Image too dark: hold your hand over the scanner, palm down.',
  'too-bright': 'Image too bright: move your hand a little further away.',
  blurred: 'Hold your hand still.',
  'uneven-light': 'Hold your hand flat, parallel to the scanner.',
  'palm-small': 'Move your hand closer to the scanner.',
  'low-contrast': 'Veins not visible: hold your hand flat and still over the scanner.',
};

/** Every failure-to-acquire reason (the screens must have a message for each: test/renderer/i18n-keys.test.ts). */
export const FTA_REASONS = Object.keys(MESSAGES) as FtaReason[];

export function ftaMessage(reason: FtaReason): string {
  return MESSAGES[reason];
}

const GUIDANCE: Record<FtaReason, CaptureGuidance> = {
  'no-hand': 'place-hand',
  'hand-partial': 'centre-hand',
  'fingers-closed': 'open-fingers',
  'too-far': 'move-closer',
  'too-close': 'move-back',
  'too-dark': 'adjust-light',
  'too-bright': 'adjust-light',
  blurred: 'hold-still',
  'uneven-light': 'hold-flat',
  'palm-small': 'move-closer',
  'low-contrast': 'hold-flat',
};

/** The one correction the screen should ask for after a failure to acquire. */
export function guidanceFor(reason: FtaReason): CaptureGuidance {
  return GUIDANCE[reason];
}

/** The band where the spectral slope measures the sensor noise floor, in cycles per ROI pixel (3–5 × the coder's frequency: no vein signal left). */
export const NOISE_BAND = { lo: 0.3, hi: 0.5 } as const;

/**
 * The blur measure: how steeply the ROI's radial power spectrum falls from the octave below the coder's wavelength
 * to the octave at it, as E(octave centred on 1/λ) / E(octave centred on 1/(2λ)), on the inner ROI (mean
 * removed, off-hand pixels filled with the on-hand mean, Hann window). Defocus and motion blur attenuate the
 * higher band far more than the lower one, so the ratio falls steeply; a brighter or darker capture, or a person
 * with fainter veins, scales both bands alike and leaves it unchanged (unlike vein detail, which is relative to
 * the level and varies 3× between people).
 * Sensor noise is white: it adds the same power to every frequency and so fills the higher octave of a blurred
 * capture, raising its slope. Its power per frequency is measured in NOISE_BAND (far above the veins' frequencies,
 * where a palm has no detail left) and subtracted from both octaves before the ratio; a capture whose lower octave
 * is mostly noise has no measurable detail (0). Separable DFT over the frequencies up to Nyquist.
 */
export function spectralSlope(img: Float32Array, valid: Uint8Array, size: number, margin: number, wavelength: number): number {
  const b = spectralBands(img, valid, size, margin, wavelength);
  const high = b.high - b.noisePerBin * b.highBins;
  const mid = b.mid - b.noisePerBin * b.midBins;
  // Less than a tenth of the lower octave above the noise floor: no detail to judge a slope on.
  if (!(mid > 0.1 * b.mid) || high <= 0) return 0;
  return high / mid;
}

/** Power in the two octaves and the noise band (per frequency), with the frequency counts (a kx > 0 bin counts twice). */
export function spectralBands(img: Float32Array, valid: Uint8Array, size: number, margin: number, wavelength: number): { high: number; mid: number; highBins: number; midBins: number; noisePerBin: number } {
  const n = size - 2 * margin;
  const f0 = 1 / wavelength;
  const hiLo = f0 / Math.SQRT2;
  const hiHi = f0 * Math.SQRT2;
  const midLo = hiLo / 2;
  const kMax = n >> 1;
  let sum = 0;
  let count = 0;
  for (let y = margin; y < size - margin; y++) for (let x = margin; x < size - margin; x++) if (valid[y * size + x]) { sum += img[y * size + x]!; count++; }
  if (!count) return { high: 0, mid: 0, highBins: 0, midBins: 0, noisePerBin: 0 };
  const mean = sum / count;
  const hann = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n));
  const cos = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * i) / n));
  const sin = Float64Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * i) / n));
  // Row transforms for kx = 0..kMax.
  const kx1 = kMax + 1;
  const rowRe = new Float64Array(n * kx1);
  const rowIm = new Float64Array(n * kx1);
  for (let y = 0; y < n; y++) {
    const src = (y + margin) * size + margin;
    for (let x = 0; x < n; x++) {
      const v = ((valid[src + x] ? img[src + x]! : mean) - mean) * hann[x]! * hann[y]!;
      for (let kx = 0; kx <= kMax; kx++) {
        const a = (kx * x) % n;
        rowRe[y * kx1 + kx]! += v * cos[a]!;
        rowIm[y * kx1 + kx]! -= v * sin[a]!;
      }
    }
  }
  let high = 0;
  let mid = 0;
  let noise = 0;
  let highBins = 0;
  let midBins = 0;
  let noiseBins = 0;
  for (let ky = -kMax + 1; ky <= kMax; ky++) {
    const kyi = ((ky % n) + n) % n;
    for (let kx = 0; kx <= kMax; kx++) {
      const f = Math.hypot(kx, ky) / n;
      const band = f >= hiLo && f < hiHi ? 1 : f >= midLo && f < hiLo ? 2 : f >= NOISE_BAND.lo && f < NOISE_BAND.hi ? 3 : 0;
      if (!band) continue;
      let re = 0;
      let im = 0;
      for (let y = 0; y < n; y++) {
        const a = (kyi * y) % n;
        const r = rowRe[y * kx1 + kx]!;
        const i = rowIm[y * kx1 + kx]!;
        re += r * cos[a]! + i * sin[a]!;
        im += i * cos[a]! - r * sin[a]!;
      }
      // The spectrum of a real image is symmetric: kx > 0 stands for ±kx.
      const w = kx > 0 ? 2 : 1;
      const power = (re * re + im * im) * w;
      if (band === 1) [high, highBins] = [high + power, highBins + w];
      else if (band === 2) [mid, midBins] = [mid + power, midBins + w];
      else [noise, noiseBins] = [noise + power, noiseBins + w];
    }
  }
  return { high, mid, highBins, midBins, noisePerBin: noiseBins ? noise / noiseBins : 0 };
}

/** Maps a measured value onto [0, 1]: 0 at `bad`, 1 at `good` (either order), clamped. */
export function ramp(v: number, bad: number, good: number): number {
  const t = (v - bad) / (good - bad);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}
