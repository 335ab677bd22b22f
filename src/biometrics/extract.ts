// extract(): frame → landmarks → ROI → quality → feature code → template. Pure and synchronous.
import { DEFAULT_EXTRACT } from './config.ts';
import { assertFrame, boxBlur, downsample, resampleArea } from './image.ts';
import { palmCentre, refineCentre, segmentHand, traceContour, type HandMask } from './landmarks.ts';
import { findValleys, pickValleys, refineValley } from './valleys.ts';
import { cropLimits, ftaMessage, guidanceFor, QUALITY_LIMITS, qualityScore, qualityVerdict, spectralSlope, valleyFailure, type CapturePurpose, type QualityLimits } from './quality.ts';
import { DEFAULT_ROI_LAYOUT, roiGeometry, sampleRoi, toFrame, type RoiLayout } from './roi.ts';
import { CODE_COLS, encodeResponses, filterBank, gridResponses, normaliseLocal } from './features.ts';
import { TEMPLATE_FORMAT_VERSION } from './template.ts';
import type { CoderId, CoderParams, ExtractResult, FeatureCode, FtaReason, GreyFrame, Hand, Quality, RoiGeometry } from './types.ts';

export interface ExtractOptions {
  coder?: CoderId;
  params?: CoderParams;
  hand?: Hand;
  layout?: RoiLayout;
  /** Which quality limits apply (QUALITY_LIMITS): enrolment is stricter than verification. Default 'verify'. */
  purpose?: CapturePurpose;
  /** Explicit limits (overrides `purpose`): evaluation and tests. */
  limits?: QualityLimits;
  /** Return the ROI image (8-bit, normalised for viewing) in the result, for dumps. */
  wantRoi?: boolean;
  /** Evaluation only: sample this ROI instead of the one the landmarks give (isolates resampling from landmark error). */
  geometry?: RoiGeometry;
  /** Receives the raw quality measurements (for calibrating the limits). */
  onMeasure?: (m: RoiMeasurements) => void;
}

/** Raw quality measurements of one capture (quality.ts turns them into limits, a score and a reason). */
export interface RoiMeasurements {
  /** Fraction of the inner ROI on the hand and inside the frame. */
  coverage: number;
  /** Mean grey level of the ROI (0–255) and the fraction of saturated pixels. */
  mean: number;
  saturated: number;
  /** Finest detail, mean |I − 3×3 mean| relative to the level: mostly sensor noise (reported, not a limit). */
  sharpness: number;
  /** The 3×3 − 9×9 band relative to the level. */
  contrast: number;
  /**
   * Vein detail at the coder's own scale: RMS response of the coder's Gabor filters (its wavelength and
   * orientations) on the raw ROI, relative to the level. Blur removes it; noise barely adds to it.
   */
  detail: number;
  /** Blur: energy at the coder's wavelength over the octave below it (quality.ts spectralSlope); independent of the level. */
  spectralSlope: number;
  /** Lighting uniformity: darkest over brightest mean of the ROI's four quadrants (1 = even; a tilted hand is dark on one side). */
  uniformity: number;
  /** ROI side in frame pixels over the frame's shorter side (how large the palm is in the frame; 1 for pre-cropped ROIs). */
  palmSize: number;
  /** Plausibility of the finger-valley group in [0, 1] (evenness, straightness, finger length; 1 for pre-cropped ROIs). */
  plausibility: number;
}

/** Width of the small image used for segmentation and landmarks. */
const SMALL_WIDTH = 192;

export function extract(frame: GreyFrame, opts: ExtractOptions = {}): ExtractResult {
  assertFrame(frame);
  const coder = opts.coder ?? DEFAULT_EXTRACT.coder;
  const params = opts.params ?? DEFAULT_EXTRACT.params;
  const limits = opts.limits ?? QUALITY_LIMITS[opts.purpose ?? 'verify'];
  const hand = opts.hand ?? 'unknown';

  const scale = Math.max(1, Math.round(frame.width / SMALL_WIDTH));
  const small = downsample(frame, scale);
  const hm = segmentHand(small);
  const areaFrac = hm.area / (hm.width * hm.height);
  const fail = (reason: FtaReason, extra: { quality?: Quality; geometry?: RoiGeometry; roi?: GreyFrame; spectralSlope?: number } = {}): ExtractResult => ({
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
  // Blur is judged on a palm square known before the valleys: a blurred hand also loses its valleys, and the
  // person should be told to hold still, not to open the fingers.
  const slope = palmSquareSlope(frame, centre, scale, hm, params);
  if (!pair) return fail(valleyFailure(slope, limits), { spectralSlope: slope });

  const c = toFrame(centre, scale);
  const refine = (v: { x: number; y: number }): { x: number; y: number } => refineValley(frame, toFrame(v, scale), c, hm.threshold, scale * 2.5);
  const geometry = opts.geometry ?? roiGeometry({ a: refine(pair.a), b: refine(pair.b) }, centre, scale, opts.layout ?? DEFAULT_ROI_LAYOUT);
  const margin = params.kernelRadius + 1;
  const roi = sampleRoi(frame, geometry, params.roiSize, margin, hm, scale);
  const palmSize = geometry.side / Math.min(frame.width, frame.height);
  const m = measure(roi.image, roi.valid, roi.size, margin, params, { palmSize, plausibility: pair.plausibility, spectralSlope: slope });
  if (opts.onMeasure) opts.onMeasure(m);
  const quality = qualityScore(m, limits, areaFrac);
  const view = opts.wantRoi ? roiView(roi.image, roi.size, margin) : undefined;
  const extra = { quality, geometry, ...(view ? { roi: view } : {}) };
  const verdict = qualityVerdict(m, limits);
  if (verdict) return fail(verdict, extra);

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
export function extractRoi(crop: GreyFrame, opts: Pick<ExtractOptions, 'coder' | 'params' | 'hand' | 'purpose' | 'limits' | 'onMeasure'> = {}): ExtractResult {
  assertFrame(crop);
  const coder = opts.coder ?? DEFAULT_EXTRACT.coder;
  const params = opts.params ?? DEFAULT_EXTRACT.params;
  const limits = cropLimits(opts.limits ?? QUALITY_LIMITS[opts.purpose ?? 'verify']);
  const margin = params.kernelRadius + 1;
  const size = params.roiSize + 2 * margin;
  const image = resampleArea(crop, size);
  const valid = new Uint8Array(size * size).fill(1);
  const m = measure(image, valid, size, margin, params, { palmSize: 1, plausibility: 1, spectralSlope: spectralSlope(image, valid, size, margin, params.wavelength10 / 10) });
  if (opts.onMeasure) opts.onMeasure(m);
  const quality = qualityScore(m, limits, null);
  const verdict = qualityVerdict(m, limits);
  if (verdict) return { ok: false, reason: verdict, guidance: guidanceFor(verdict), message: ftaMessage(verdict), quality };
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
 * Raw measurements on the inner ROI: coverage, exposure, finest detail (noise), vein contrast, vein detail at the
 * coder's scale and lighting uniformity. `palmSize`, `plausibility` and the spectral slope (blur) are the caller's.
 */
export function measure(img: Float32Array, valid: Uint8Array, size: number, margin: number, params: CoderParams, landmarks: { palmSize: number; plausibility: number; spectralSlope: number }): RoiMeasurements {
  const fine = boxBlur(img, size, size, 1);
  const coarse = boxBlur(img, size, size, 4);
  const half = size >> 1;
  const qSum = [0, 0, 0, 0];
  const qN = [0, 0, 0, 0];
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
      const q = (y < half ? 0 : 2) + (x < half ? 0 : 1);
      qSum[q]! += img[i]!;
      qN[q]!++;
      if (img[i]! >= 250) sat++;
      eFine += Math.abs(img[i]! - fine[i]!);
      eBand += Math.abs(fine[i]! - coarse[i]!);
    }
  }
  const mean = cov ? sum / cov : 0;
  // Quadrants with at least a quarter of their pixels on the hand (coverage judges the rest).
  const quadrantMeans = qSum.flatMap((s, q) => (qN[q]! >= (n / 4) * 0.25 ? [s / qN[q]!] : []));
  const brightest = Math.max(...quadrantMeans);
  return {
    coverage: cov / n,
    mean,
    saturated: cov ? sat / cov : 1,
    sharpness: cov && mean > 0 ? eFine / cov / mean : 0,
    contrast: cov && mean > 0 ? eBand / cov / mean : 0,
    detail: mean > 0 ? veinDetail(img, valid, size, margin, params) / mean : 0,
    uniformity: quadrantMeans.length && brightest > 0 ? Math.min(...quadrantMeans) / brightest : 0,
    ...landmarks,
  };
}

/**
 * The spectral slope (quality.ts) of a square of the ROI's side and sampling centred on the palm centre, axis
 * aligned (the measure is rotation-invariant): inside the inscribed circle, so all on the palm, and known before
 * the valleys are.
 */
function palmSquareSlope(frame: GreyFrame, centre: { x: number; y: number; radius: number }, scale: number, hm: HandMask, params: CoderParams): number {
  const c = toFrame(centre, scale);
  const side = DEFAULT_ROI_LAYOUT.sideRatio * centre.radius * scale;
  const square: RoiGeometry = { valleyA: { x: c.x - 1, y: c.y - side }, valleyB: { x: c.x + 1, y: c.y - side }, centre: c, side, angle: 0 };
  const s = sampleRoi(frame, square, params.roiSize, 0, hm, scale);
  return spectralSlope(s.image, s.valid, s.size, 0, params.wavelength10 / 10);
}

/** Cells of the coarse grid on which vein detail is measured (every other code cell: a quarter of the coder's cost). */
const DETAIL_GRID = CODE_COLS / 2;

/** RMS of the coder's filter responses on the raw ROI over the valid cells of a 16 × 16 grid (grey levels). */
function veinDetail(img: Float32Array, valid: Uint8Array, size: number, margin: number, params: CoderParams): number {
  const bank = filterBank(params);
  const resp = gridResponses(img, size, margin, bank, DETAIL_GRID, DETAIL_GRID);
  const cells = cellMask(valid, size, margin, params, DETAIL_GRID, DETAIL_GRID);
  const n = params.orientations;
  let acc = 0;
  let count = 0;
  for (let c = 0; c < cells.length; c++) {
    if (!cells[c]) continue;
    for (let k = 0; k < n; k++) acc += resp[c * n + k]! ** 2;
    count += n;
  }
  return count ? Math.sqrt(acc / count) : 0;
}

/** A cell is valid when the whole central part of its filter support lies on the hand. */
function cellMask(valid: Uint8Array, size: number, margin: number, params: CoderParams, rows: number, cols = CODE_COLS): Uint8Array {
  const stride = params.roiSize / cols;
  const h = Math.max(1, Math.round(params.kernelRadius / 2));
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const cy = margin + Math.floor(stride * r + stride / 2);
    for (let c = 0; c < cols; c++) {
      const cx = margin + Math.floor(stride * c + stride / 2);
      let ok = 1;
      for (let y = cy - h; y <= cy + h && ok; y += h) for (let x = cx - h; x <= cx + h && ok; x += h) ok = valid[y * size + x]!;
      out[r * cols + c] = ok;
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
