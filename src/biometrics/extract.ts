// extract(): frame → landmarks → ROI → quality → feature code → template. Pure and synchronous.
import { DEFAULT_EXTRACT } from './config.ts';
import { assertFrame, boxBlur, downsample, resampleArea } from './image.ts';
import { palmCentre, refineCentre, segmentHand, traceContour } from './landmarks.ts';
import { findValleys, pickValleys, refineValley } from './valleys.ts';
import { DEFAULT_QUALITY_LIMITS, ftaMessage, guidanceFor, ramp, type QualityLimits } from './quality.ts';
import { DEFAULT_ROI_LAYOUT, roiGeometry, sampleRoi, toFrame, type RoiLayout } from './roi.ts';
import { CODE_COLS, encodeResponses, filterBank, gridResponses, normaliseLocal } from './features.ts';
import { TEMPLATE_FORMAT_VERSION } from './template.ts';
import type { CoderId, CoderParams, ExtractResult, FeatureCode, FtaReason, GreyFrame, Hand, Quality, RoiGeometry } from './types.ts';

export interface ExtractOptions {
  coder?: CoderId;
  params?: CoderParams;
  hand?: Hand;
  layout?: RoiLayout;
  limits?: QualityLimits;
  /** Return the ROI image (8-bit, normalised for viewing) in the result, for dumps. */
  wantRoi?: boolean;
  /** Evaluation only: sample this ROI instead of the one the landmarks give (isolates resampling from landmark error). */
  geometry?: RoiGeometry;
  /** Receives the raw quality measurements (for calibrating the limits). */
  onMeasure?: (m: RoiMeasurements) => void;
}

export interface RoiMeasurements {
  coverage: number;
  mean: number;
  saturated: number;
  sharpness: number;
  contrast: number;
}

/** Width of the small image used for segmentation and landmarks. */
const SMALL_WIDTH = 192;

export function extract(frame: GreyFrame, opts: ExtractOptions = {}): ExtractResult {
  assertFrame(frame);
  const coder = opts.coder ?? DEFAULT_EXTRACT.coder;
  const params = opts.params ?? DEFAULT_EXTRACT.params;
  const limits = opts.limits ?? DEFAULT_QUALITY_LIMITS;
  const hand = opts.hand ?? 'unknown';

  const scale = Math.max(1, Math.round(frame.width / SMALL_WIDTH));
  const small = downsample(frame, scale);
  const hm = segmentHand(small);
  const areaFrac = hm.area / (hm.width * hm.height);
  const fail = (reason: FtaReason, extra: { quality?: Quality; geometry?: RoiGeometry; roi?: GreyFrame } = {}): ExtractResult => ({
    ok: false,
    reason,
    guidance: guidanceFor(reason),
    message: ftaMessage(reason),
    ...extra,
  });
  if (hm.area === 0 || areaFrac < limits.minHandArea * 0.3) return fail('no-hand');
  if (areaFrac < limits.minHandArea) return fail('too-far');
  if (areaFrac > limits.maxHandArea) return fail('too-close');

  const contour = traceContour(hm);
  const centre = refineCentre(contour, hm, palmCentre(hm));
  const valleys = findValleys(contour, hm.width, hm.height, centre);
  // Cyclic: a group of valleys that wraps across the arm has no fingertip there (peakAfter 0) and is rejected.
  const pair = pickValleys(valleys, true, centre.radius);
  if (!pair) return fail('fingers-closed');

  const c = toFrame(centre, scale);
  const refine = (v: { x: number; y: number }): { x: number; y: number } => refineValley(frame, toFrame(v, scale), c, hm.threshold, scale * 2.5);
  const geometry = opts.geometry ?? roiGeometry({ a: refine(pair.a), b: refine(pair.b) }, centre, scale, opts.layout ?? DEFAULT_ROI_LAYOUT);
  const margin = params.kernelRadius + 1;
  const roi = sampleRoi(frame, geometry, params.roiSize, margin, hm, scale);
  const m = measure(roi.image, roi.valid, roi.size, margin);
  if (opts.onMeasure) opts.onMeasure(m);
  const quality: Quality = {
    handArea: ramp(areaFrac, limits.minHandArea, limits.minHandArea * 2),
    landmarks: pair.plausibility,
    exposure: Math.min(ramp(m.mean, limits.minMean, limits.minMean + 30), ramp(m.mean, limits.maxMean, limits.maxMean - 30), ramp(m.saturated, limits.maxSaturated, 0)),
    sharpness: ramp(m.sharpness, limits.minSharpness, limits.minSharpness * 2),
    veinContrast: ramp(m.contrast, limits.minVeinContrast, limits.minVeinContrast * 3),
    score: 0,
  };
  quality.score = Math.min(quality.handArea, quality.exposure, quality.sharpness, quality.veinContrast) * (0.5 + 0.5 * quality.landmarks);
  const view = opts.wantRoi ? roiView(roi.image, roi.size, margin) : undefined;
  const extra = { quality, geometry, ...(view ? { roi: view } : {}) };
  if (m.coverage < limits.minRoiCoverage) return fail('hand-partial', extra);
  if (m.mean < limits.minMean) return fail('too-dark', extra);
  if (m.mean > limits.maxMean || m.saturated > limits.maxSaturated) return fail('too-bright', extra);
  if (m.sharpness < limits.minSharpness) return fail('blurred', extra);
  if (m.contrast < limits.minVeinContrast) return fail('low-contrast', extra);

  const code = codeRoi(roi.image, roi.valid, roi.size, margin, coder, params);
  return {
    ok: true,
    template: { formatVersion: TEMPLATE_FORMAT_VERSION, coder, coderParams: params, hand, quality: quality.score, codes: [code] },
    quality,
    geometry,
    roi: view ?? { width: 0, height: 0, pixels: new Uint8Array(0) },
  };
}

/** The coder on a sampled ROI (size × size with a filter margin): local normalisation, filters at the grid, bits. */
function codeRoi(image: Float32Array, valid: Uint8Array, size: number, margin: number, coder: CoderId, params: CoderParams): FeatureCode {
  const norm = normaliseLocal(image, size, Math.max(4, Math.round(params.roiSize / 8)));
  const bank = filterBank(params);
  const rows = CODE_COLS;
  const resp = gridResponses(norm, size, margin, bank, rows, CODE_COLS);
  return encodeResponses(coder, resp, params.orientations, rows, cellMask(valid, size, margin, params, rows));
}

/**
 * A pre-cropped palm ROI (e.g. PolyU's 128 × 128 crops) straight to the coder: no hand, no landmarks. The whole
 * crop is resampled (area average) to the coder's ROI plus its filter margin, so the coded square is the crop's
 * central (roiSize / (roiSize + 2 · margin)) part. Exposure, sharpness and vein contrast are checked as in
 * extract(); hand size, landmarks and coverage do not apply.
 */
export function extractRoi(crop: GreyFrame, opts: Pick<ExtractOptions, 'coder' | 'params' | 'hand' | 'limits' | 'onMeasure'> = {}): ExtractResult {
  assertFrame(crop);
  const coder = opts.coder ?? DEFAULT_EXTRACT.coder;
  const params = opts.params ?? DEFAULT_EXTRACT.params;
  const limits = opts.limits ?? DEFAULT_QUALITY_LIMITS;
  const margin = params.kernelRadius + 1;
  const size = params.roiSize + 2 * margin;
  const image = resampleArea(crop, size);
  const valid = new Uint8Array(size * size).fill(1);
  const m = measure(image, valid, size, margin);
  if (opts.onMeasure) opts.onMeasure(m);
  const quality: Quality = {
    handArea: 1,
    landmarks: 1,
    exposure: Math.min(ramp(m.mean, limits.minMean, limits.minMean + 30), ramp(m.mean, limits.maxMean, limits.maxMean - 30), ramp(m.saturated, limits.maxSaturated, 0)),
    sharpness: ramp(m.sharpness, limits.minSharpness, limits.minSharpness * 2),
    veinContrast: ramp(m.contrast, limits.minVeinContrast, limits.minVeinContrast * 3),
    score: 0,
  };
  quality.score = Math.min(quality.exposure, quality.sharpness, quality.veinContrast);
  const fail = (reason: FtaReason): ExtractResult => ({ ok: false, reason, guidance: guidanceFor(reason), message: ftaMessage(reason), quality });
  if (m.mean < limits.minMean) return fail('too-dark');
  if (m.mean > limits.maxMean || m.saturated > limits.maxSaturated) return fail('too-bright');
  if (m.sharpness < limits.minSharpness) return fail('blurred');
  if (m.contrast < limits.minVeinContrast) return fail('low-contrast');
  const code = codeRoi(image, valid, size, margin, coder, params);
  return {
    ok: true,
    template: { formatVersion: TEMPLATE_FORMAT_VERSION, coder, coderParams: params, hand: opts.hand ?? 'unknown', quality: quality.score, codes: [code] },
    quality,
    geometry: { valleyA: { x: 0, y: 0 }, valleyB: { x: crop.width, y: 0 }, centre: { x: crop.width / 2, y: crop.height / 2 }, side: crop.width, angle: 0 },
    roi: { width: 0, height: 0, pixels: new Uint8Array(0) },
  };
}

/**
 * Raw measurements on the inner ROI: coverage, exposure, sharpness (finest detail, |I − 3×3 mean|, relative to the
 * mean level), vein contrast (the 3×3 − 9×9 band, relative to the mean level).
 */
export function measure(img: Float32Array, valid: Uint8Array, size: number, margin: number): RoiMeasurements {
  const fine = boxBlur(img, size, size, 1);
  const coarse = boxBlur(img, size, size, 4);
  let n = 0;
  let cov = 0;
  let sum = 0;
  let sat = 0;
  let eFine = 0;
  let eBand = 0;
  for (let y = margin; y < size - margin; y++) {
    for (let x = margin; x < size - margin; x++) {
      const i = y * size + x;
      n++;
      if (!valid[i]) continue;
      cov++;
      sum += img[i]!;
      if (img[i]! >= 250) sat++;
      eFine += Math.abs(img[i]! - fine[i]!);
      eBand += Math.abs(fine[i]! - coarse[i]!);
    }
  }
  const mean = cov ? sum / cov : 0;
  return {
    coverage: cov / n,
    mean,
    saturated: cov ? sat / cov : 1,
    sharpness: cov && mean > 0 ? eFine / cov / mean : 0,
    contrast: cov && mean > 0 ? eBand / cov / mean : 0,
  };
}

/** A cell is valid when the whole central part of its filter support lies on the hand. */
function cellMask(valid: Uint8Array, size: number, margin: number, params: CoderParams, rows: number): Uint8Array {
  const stride = params.roiSize / CODE_COLS;
  const h = Math.max(1, Math.round(params.kernelRadius / 2));
  const out = new Uint8Array(rows * CODE_COLS);
  for (let r = 0; r < rows; r++) {
    const cy = margin + Math.floor(stride * r + stride / 2);
    for (let c = 0; c < CODE_COLS; c++) {
      const cx = margin + Math.floor(stride * c + stride / 2);
      let ok = 1;
      for (let y = cy - h; y <= cy + h && ok; y += h) for (let x = cx - h; x <= cx + h && ok; x += h) ok = valid[y * size + x]!;
      out[r * CODE_COLS + c] = ok;
    }
  }
  return out;
}

/** The inner ROI as an 8-bit image stretched to its 1st–99th percentile, for people to look at. */
function roiView(img: Float32Array, size: number, margin: number): GreyFrame {
  const inner = size - 2 * margin;
  const px = new Float32Array(inner * inner);
  for (let y = 0; y < inner; y++) for (let x = 0; x < inner; x++) px[y * inner + x] = img[(y + margin) * size + x + margin]!;
  const sorted = Float32Array.from(px).sort();
  const lo = sorted[Math.floor(sorted.length * 0.01)]!;
  const hi = sorted[Math.floor(sorted.length * 0.99)]!;
  const out = new Uint8Array(inner * inner);
  for (let i = 0; i < px.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(((px[i]! - lo) / Math.max(hi - lo, 1)) * 255)));
  return { width: inner, height: inner, pixels: out };
}
