// Evaluation runner (I/O edge): decode every sample, extract templates, compare every pair once, then apply a
// protocol (trials.ts) and, with folds, the person-disjoint validation (folds.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { extract, extractRoi, type ExtractOptions, type RoiMeasurements } from '../extract.ts';
import { cropLimits, QUALITY_LIMITS, qualityVerdict, type QualityLimits } from '../quality.ts';
import { ELASTIC, matchScore, RIGID } from '../match.ts';
import type { FtaReason, GreyFrame, Template } from '../types.ts';
import { listDataSet, loadFrame, type Sample } from './dataset.ts';
import { drawSimilarity, geometryError, warpGeometry, warpSimilarity, type PerturbSpec } from './perturb.ts';
import { identification, verification, type IdentificationResult, type Search, type VerificationResult } from './metrics.ts';
import { buildTrials, type Protocol } from './trials.ts';
import { assignFolds, crossValidate, DEFAULT_FOLDS, type CrossValOptions, type CrossValReport } from './folds.ts';
import { heldQuality, judgeCapture, type HeldQualityReport } from './quality-folds.ts';
import { BLUR_NOISE_SD, defocus, fitBlurCutoff, heldBlurCheck, type BlurredCopy, type HeldBlurReport } from './blur.ts';
import { DEFAULT_EXTRACT } from '../config.ts';
import { poseSelectionEval, templateUpdateEval, type PoseSelectionRow, type TemplateUpdateReport } from './enrolment-eval.ts';
import { maxOf } from '../../util/arrays.ts';

export type { Protocol } from './trials.ts';

export interface EvalOptions {
  data: string;
  protocol: Protocol;
  extract?: ExtractOptions;
  dumpRoi?: string;
  /** Warp every image once by a seeded random similarity before extraction (robustness to hand placement). */
  perturb?: PerturbSpec;
  /** Only the first N identities (sorted by name): a quick, reproducible subsample. */
  identities?: number;
  /** The images are pre-cropped ROIs: no landmark step, each image goes straight to the coder (extractRoi). */
  roi?: boolean;
  /** 1:1 distance used for every pair (default matchScore), with its name and the data it was chosen on. */
  matcher?: { name: string; chosenOn: string; score: (a: Template, b: Template) => number };
  /** Person-disjoint folds (folds.ts); absent = no held-out figures. */
  crossValidation?: CrossValOptions;
  /** Blur check (blur.ts): blur every acquired capture by these σ (ROI pixels) and judge the copies on the held folds. */
  blurSigmas?: readonly number[];
  /** Cross-session with folds: also the template-update and pose-selection rows (enrolment-eval.ts). */
  enrolmentStudy?: boolean;
  onProgress?: (phase: 'extract' | 'match', done: number, total: number) => void;
}

export interface EvalReport {
  data: string;
  layout: string;
  protocol: Protocol;
  coder: string;
  identities: number;
  images: number;
  duplicates_dropped: Array<{ kept: string; dropped: string }>;
  enrolled: string;
  probed: string;
  fta: number;
  fta_count: number;
  fta_samples: Array<{ sample: string; reason: FtaReason }>;
  /** Failures to acquire per cause (each cause has its own guidance for the person, quality.ts). */
  fta_by_reason: Partial<Record<FtaReason, number>>;
  /** ISO/IEC 19795-1 generalised FNMR: a failure to acquire counts as a false non-match, GFNMR = FTA + (1 − FTA) · FNMR. */
  generalised_fnmr_at_fmr: Array<{ fmr: number; gfnmr: number }>;
  fte: number;
  fte_count: number;
  genuine_comparisons: number;
  impostor_comparisons: number;
  eer: number;
  eer_threshold: number;
  fnmr_at_fmr: Array<{ fmr: number; fnmr: number; threshold: number; measured_fmr: number; below_resolution: boolean }>;
  identification: IdentificationResult & { gallery_note: string };
  extract_ms_mean: number;
  verification: VerificationResult;
  /** Present when the images were warped (--perturb): the warp and how each stage's output moved. */
  perturbation?: PerturbationReport;
  /** Present with --folds: the held-fold figures (the ones to quote), see folds.ts. */
  held_out?: CrossValReport & { quality: HeldQualityReport; blur?: HeldBlurReport; enrolment_captures?: EnrolmentCapturesRow[]; template_update?: TemplateUpdateReport; pose_selection?: PoseSelectionRow[] };
}

/** Cross-session, held folds: the same probes against enrolments of the first 1, 2, … session-1 captures kept as sub-codes. */
export interface EnrolmentCapturesRow {
  captures: number;
  genuine: number;
  eer: CrossValReport['eer'];
  fnmr_at_fmr_1e4: CrossValReport['eer'];
  rank1: CrossValReport['eer'];
  fnir_at_fpir: CrossValReport['eer'];
}

/** Summary of a quantity over the images: median, 95th percentile, largest. */
export interface Spread {
  p50: number;
  p95: number;
  max: number;
}

/** Per image: the true warp, and how the ROI found on the warped image differs from the unwarped image's ROI. */
export interface PerturbedImage {
  sample: string;
  rotation_deg: number;
  scale: number;
  /** Null where either extraction failed. */
  roi_angle_error_deg: number | null;
  roi_scale_error: number | null;
  roi_centre_error_cells: number | null;
  valley_error_cells: number | null;
  /** matchScore(unwarped, warped) of the same image: what the whole pipeline loses to the warp. */
  self_distance: number | null;
  /** The same with the ROI placed exactly (the unwarped ROI carried through the true warp): resampling alone. */
  self_distance_exact_roi: number | null;
}

export interface PerturbationReport {
  warp: string;
  rotation_max_deg: number;
  scale_min: number;
  scale_max: number;
  seed: number;
  /** Images whose warped and unwarped extractions both succeeded. */
  compared_images: number;
  unwarped_fta_count: number;
  abs_roi_angle_error_deg: Spread;
  mean_roi_angle_error_deg: number;
  abs_roi_scale_error: Spread;
  roi_centre_error_cells: Spread;
  valley_error_cells: Spread;
  self_distance: Spread;
  self_distance_exact_roi: Spread;
  images: PerturbedImage[];
}

export interface Extracted {
  sample: Sample;
  template: Template | null;
}

/** Every sample's template (or its failure to acquire) and the capture-against-capture distance matrix. */
export interface ExtractedSet {
  data: string;
  layout: string;
  samples: Sample[];
  duplicates: Array<{ kept: string; dropped: string }>;
  /** `template` is null where the capture failed to acquire at `limits`. */
  extracted: Extracted[];
  fails: EvalReport['fta_samples'];
  /** The quality limits the FTA above was judged at (the production verification limits unless told). */
  limits: QualityLimits;
  /** Each sample's ROI measurements (null: failed before its ROI was measured) and that early failure. */
  measured: Array<RoiMeasurements | null>;
  earlyFailures: Array<FtaReason | null>;
  /** The blur measure of captures whose palm was found but not their valley group (else null). */
  earlySlopes: Array<number | null>;
  /** Capture × capture distances over every capture that could be coded, whatever its quality (1 otherwise). */
  dist: Float32Array;
  extractMs: number;
  /** Pre-cropped ROIs (--roi): no landmark step. */
  roi: boolean;
  /** Name of the 1:1 distance used, and the data it was chosen on. */
  matcher: string;
  matcherChosenOn: string;
  perturbation?: PerturbationReport;
  /** With a blur check: every blurred copy of every acquired capture, measured and matched against its sharp self. */
  blurred?: BlurredCopy[];
}

/** The 1:1 distances `palmpay eval --matcher` can use, each with the data it was chosen on. */
export const EVAL_MATCHERS = {
  rigid: { name: 'rigid (matchScore: masked Hamming, ±4-cell global shift)', chosenOn: 'all 50 CASIA-940 dev identities (when the recogniser was first built)', score: (a: Template, b: Template) => matchScore(a, b, RIGID) },
  elastic: {
    name: 'elastic (global shift, then 4 × 4 blocks of 8 × 8 cells each ±1 cell)',
    chosenOn: 'held folds of CASIA-940 (5 person-disjoint folds, seeds 1–3), against rigid: block size and reach fixed before measuring, not tuned',
    score: (a: Template, b: Template) => matchScore(a, b, ELASTIC),
  },
} as const;

export async function runEvaluation(opts: EvalOptions): Promise<EvalReport> {
  return evaluateProtocol(await extractDataSet(opts), opts.protocol, opts.crossValidation, !!opts.enrolmentStudy);
}

/** Decodes and extracts every sample, then compares every pair once (the matrix all protocols draw from). */
export async function extractDataSet(opts: Omit<EvalOptions, 'protocol'>): Promise<ExtractedSet> {
  const ds = listDataSet(opts.data);
  const kept = opts.identities ? new Set([...new Set(ds.samples.map((x) => x.identity))].sort().slice(0, opts.identities)) : null;
  const samples = kept ? ds.samples.filter((x) => kept.has(x.identity)) : ds.samples;
  const extracted: Extracted[] = [];
  const coded: Array<Template | null> = [];
  const measured: Array<RoiMeasurements | null> = [];
  const earlyFailures: Array<FtaReason | null> = [];
  const earlySlopes: Array<number | null> = [];
  const fails: EvalReport['fta_samples'] = [];
  // Extract with the image-quality limits off and judge the measurements afterwards, so the folds can refit them.
  const configured = opts.extract?.limits ?? QUALITY_LIMITS.verify;
  const limits = opts.roi ? cropLimits(configured) : configured;
  const measureOnly: QualityLimits = { ...limits, minRoiCoverage: 0, minMean: 0, maxMean: Infinity, maxSaturated: Infinity, minDetail: 0, minSpectralSlope: 0, minVeinContrast: 0, minUniformity: 0, minPalmSize: 0, minPlausibility: 0 };
  let extractMs = 0;
  const perturbed: PerturbedImage[] = [];
  let unwarpedFails = 0;
  const blurred: BlurredCopy[] = [];
  if (opts.dumpRoi) mkdirSync(opts.dumpRoi, { recursive: true });
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const original = loadFrame(s.path);
    const warp = opts.perturb ? drawSimilarity(opts.perturb, `${s.identity}/${s.sample}`, original.width, original.height) : null;
    const frame = warp ? warpSimilarity(original, warp) : original;
    let m: RoiMeasurements | null = null;
    const onMeasure = (x: RoiMeasurements): void => void (m = x);
    const t0 = performance.now();
    const r = opts.roi ? extractRoi(frame, { ...opts.extract, limits: measureOnly, hand: s.hand, onMeasure }) : extract(frame, { ...opts.extract, limits: measureOnly, hand: s.hand, wantRoi: !!opts.dumpRoi, onMeasure });
    extractMs += performance.now() - t0;
    measured.push(m);
    earlyFailures.push(r.ok ? null : r.reason);
    earlySlopes.push(r.ok ? null : (r.spectralSlope ?? null));
    coded.push(r.ok ? r.template : null);
    const verdict = r.ok ? qualityVerdict(m!, limits) : judgeCapture({ measured: null, earlyFailure: r.reason, earlySlope: r.spectralSlope ?? null }, limits);
    if (warp) {
      // Diagnostics: the unwarped image's ROI carried through the known warp is the ROI a perfect landmark
      // stage would find; compare each stage against it.
      // Geometry diagnostics: judged without the image-quality limits, like the main extraction.
      const ref = extract(original, { ...opts.extract, limits: measureOnly, hand: s.hand });
      if (!ref.ok) unwarpedFails++;
      const exact = ref.ok ? extract(frame, { ...opts.extract, limits: measureOnly, hand: s.hand, geometry: warpGeometry(ref.geometry, warp) }) : null;
      const e = ref.ok && r.ok ? geometryError(ref.geometry, r.geometry, warp) : null;
      perturbed.push({
        sample: s.sample,
        rotation_deg: (warp.angle * 180) / Math.PI,
        scale: warp.scale,
        roi_angle_error_deg: e ? e.angleDeg : null,
        roi_scale_error: e ? e.scale : null,
        roi_centre_error_cells: e ? e.centreCells : null,
        valley_error_cells: e ? e.valleyCells : null,
        self_distance: ref.ok && r.ok ? matchScore(ref.template, r.template) : null,
        self_distance_exact_roi: ref.ok && exact?.ok ? matchScore(ref.template, exact.template) : null,
      });
    }
    if (opts.blurSigmas && r.ok && !verdict) {
      const params = opts.extract?.params ?? DEFAULT_EXTRACT.params;
      // Frame pixels per coded ROI pixel: a crop is resampled whole to the ROI plus the filter margin.
      const perRoiPx = opts.roi ? frame.width / (params.roiSize + 2 * (params.kernelRadius + 1)) : r.geometry.side / params.roiSize;
      for (const sigma of opts.blurSigmas) {
        const copy = defocus(frame, sigma * perRoiPx, BLUR_NOISE_SD, `${s.identity}/${s.sample}/${sigma}`);
        let mb: RoiMeasurements | null = null;
        const onCopy = (x: RoiMeasurements): void => void (mb = x);
        const rb = opts.roi ? extractRoi(copy, { ...opts.extract, limits: measureOnly, hand: s.hand, onMeasure: onCopy }) : extract(copy, { ...opts.extract, limits: measureOnly, hand: s.hand, onMeasure: onCopy });
        blurred.push({ sample: i, person: s.identity, sigma, measured: mb, earlyFailure: rb.ok ? null : rb.reason, earlySlope: rb.ok ? null : (rb.spectralSlope ?? null), selfDistance: rb.ok ? (opts.matcher?.score ?? matchScore)(r.template, rb.template) : null });
      }
    }
    if (r.ok && !verdict) extracted.push({ sample: s, template: r.template });
    else {
      extracted.push({ sample: s, template: null });
      fails.push({ sample: s.sample, reason: verdict! });
    }
    if (opts.dumpRoi && r.roi && r.roi.width > 0) writePng(join(opts.dumpRoi, `${s.identity}__${s.sample}${verdict ? '_FTA' : ''}.png`), r.roi);
    opts.onProgress?.('extract', i + 1, samples.length);
    if (i % 10 === 9) await new Promise((res) => setImmediate(res)); // let the progress bar draw
  }

  const n = extracted.length;
  const score = opts.matcher?.score ?? matchScore;
  const dist = new Float32Array(n * n).fill(1);
  const total = (n * (n - 1)) / 2;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const a = coded[i]!;
    for (let j = i + 1; j < n; j++) {
      const b = coded[j]!;
      const d = a && b ? score(a, b) : 1;
      dist[i * n + j] = d;
      dist[j * n + i] = d;
    }
    done += n - 1 - i;
    opts.onProgress?.('match', done, total);
    if (i % 10 === 9) await new Promise((res) => setImmediate(res));
  }
  const perturbation = opts.perturb ? summarisePerturbation(opts.perturb, perturbed, unwarpedFails) : undefined;
  const matcher = opts.matcher ? { matcher: opts.matcher.name, matcherChosenOn: opts.matcher.chosenOn } : { matcher: EVAL_MATCHERS.elastic.name, matcherChosenOn: EVAL_MATCHERS.elastic.chosenOn };
  return { data: opts.data, layout: ds.layout, samples, duplicates: ds.duplicates, extracted, fails, limits, measured, earlyFailures, earlySlopes, dist, extractMs: extractMs / Math.max(1, n), roi: !!opts.roi, ...matcher, ...(perturbation ? { perturbation } : {}), ...(opts.blurSigmas ? { blurred } : {}) };
}

function spread(values: Array<number | null>, f: (v: number) => number = (v) => v): Spread {
  const v = values.filter((x): x is number => x !== null).map(f).sort((a, b) => a - b);
  if (!v.length) return { p50: NaN, p95: NaN, max: NaN };
  const at = (q: number): number => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: v[v.length - 1]! };
}

export function summarisePerturbation(spec: PerturbSpec, images: PerturbedImage[], unwarpedFails: number): PerturbationReport {
  const angles = images.map((i) => i.roi_angle_error_deg).filter((x): x is number => x !== null);
  return {
    warp: 'per image one similarity about the frame centre, rotation uniform in ±rotation_max_deg, scale uniform in [scale_min, scale_max], bilinear, border filled with the frame\'s background level; drawn from the seed and the file name',
    rotation_max_deg: spec.rotateDeg,
    scale_min: spec.scaleMin,
    scale_max: spec.scaleMax,
    seed: spec.seed,
    compared_images: angles.length,
    unwarped_fta_count: unwarpedFails,
    abs_roi_angle_error_deg: spread(images.map((i) => i.roi_angle_error_deg), Math.abs),
    mean_roi_angle_error_deg: angles.reduce((a, b) => a + b, 0) / Math.max(1, angles.length),
    abs_roi_scale_error: spread(images.map((i) => i.roi_scale_error), Math.abs),
    roi_centre_error_cells: spread(images.map((i) => i.roi_centre_error_cells)),
    valley_error_cells: spread(images.map((i) => i.valley_error_cells)),
    self_distance: spread(images.map((i) => i.self_distance)),
    self_distance_exact_roi: spread(images.map((i) => i.self_distance_exact_roi)),
    images,
  };
}

/** Adds the settings the folds do not refit, and where they were chosen, to the held-out report. */
function withFixedSettings(h: CrossValReport, set: ExtractedSet): CrossValReport {
  const t = set.extracted.find((e) => e.template)?.template;
  const coder = t ? `${t.coder}, λ ${t.coderParams.wavelength10 / 10} px, ${t.coderParams.orientations} orientations, ROI ${t.coderParams.roiSize} px` : 'coder';
  const fixed = [
    { setting: `${coder}; ${set.roi ? 'each pre-cropped ROI resampled whole to the ROI plus the filter margin (its central part coded)' : 'ROI layout (1.4 R square, 0.15 R below the valleys)'}; ±4-cell shift search, 35 % overlap`, chosen_on: 'all 50 CASIA-940 dev identities (when the recogniser and its 1:N search were built, before this protocol existed): NOT held out' },
    { setting: 'quality cut-offs on the spectral slope (blur), vein detail, lighting uniformity, palm size and valley plausibility (held FTA and GFNMR below)', chosen_on: 'for each held fold, the other folds\' captures (quality-folds.ts rule, fixed before fitting)' },
    { setting: 'quality limits on hand area, coverage, exposure and vein contrast', chosen_on: 'outside the range of all 299 CASIA-940 dev frames (when the recogniser was first built): NOT held out' },
    { setting: `matcher: ${set.matcher}`, chosen_on: set.matcherChosenOn },
  ];
  return { ...h, settings: [...h.settings, ...fixed] };
}

/** FMR 1 %, 0.1 %, 0.01 %, and the lower ones the impostor count can measure (at least 10 impostors per 1 / FMR). */
export function fmrTargetsFor(impostors: number): number[] {
  const out = [1e-2, 1e-3, 1e-4];
  for (const t of [1e-5, 1e-6]) if (impostors * t >= 10) out.push(t);
  return out;
}

/** Applies a protocol to an extracted set: who is enrolled, who probes, and the resulting figures. */
export function evaluateProtocol(set: ExtractedSet, protocol: Protocol, cv?: CrossValOptions, enrolmentStudy = false): EvalReport {
  const { samples, extracted, fails, dist } = set;
  const trials = buildTrials(
    extracted.map((e) => ({ sample: e.sample, ok: e.template !== null })),
    dist,
    protocol,
  );
  const c = trials.comparisons;
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let k = 0; k < c.score.length; k++) (c.a[k] === c.b[k] ? genuine : impostor).push(c.score[k]!);
  const P = trials.people.length;
  const searches: Search[] = [];
  for (let i = 0; i < trials.searches.probe.length; i++) {
    const scores = new Map<string, number>();
    for (let p = 0; p < P; p++) {
      const v = trials.searches.scores[i * P + p]!;
      if (!Number.isNaN(v)) scores.set(trials.people[p]!, v);
    }
    searches.push({ probeId: trials.people[trials.searches.probe[i]!]!, scores });
  }
  const targets = fmrTargetsFor(impostor.length);
  const v = verification(genuine, impostor, targets);
  const id = identification(searches, 0.01);
  const identities = trials.people.length;
  return {
    data: set.data,
    layout: set.layout,
    protocol,
    coder: extracted.find((e) => e.template)?.template?.coder ?? 'unknown',
    identities,
    images: samples.length,
    duplicates_dropped: set.duplicates,
    enrolled: trials.enrolled,
    probed: trials.probed,
    fta: fails.length / samples.length,
    fta_count: fails.length,
    fta_samples: fails,
    fta_by_reason: fails.reduce<Partial<Record<FtaReason, number>>>((m, f) => ({ ...m, [f.reason]: (m[f.reason] ?? 0) + 1 }), {}),
    generalised_fnmr_at_fmr: v.at.map((p) => ({ fmr: p.target_fmr, gfnmr: fails.length / samples.length + (1 - fails.length / samples.length) * p.fnmr })),
    fte: trials.fteCount / identities,
    fte_count: trials.fteCount,
    genuine_comparisons: v.genuine,
    impostor_comparisons: v.impostor,
    eer: v.eer,
    eer_threshold: v.eer_threshold,
    fnmr_at_fmr: v.at.map((p) => ({ fmr: p.target_fmr, fnmr: p.fnmr, threshold: p.threshold, measured_fmr: p.fmr, below_resolution: p.below_resolution })),
    identification: { ...id, gallery_note: trials.galleryNote },
    extract_ms_mean: set.extractMs,
    verification: v,
    ...(set.perturbation ? { perturbation: set.perturbation } : {}),
    ...(cv ? { held_out: { ...heldOut(set, trials, targets, cv), ...(protocol === 'cross-session' ? { enrolment_captures: enrolmentCaptures(set, cv), ...(enrolmentStudy ? enrolmentStudyRows(set, cv) : {}) } : {}) } } : {}),
  };
}

/**
 * Does enrolling several captures (sub-codes) help on new people? The cross-session protocol rebuilt with 1, 2
 * and 3 enrolment captures, each cross-validated on the same folds (thresholds fitted on the other folds).
 */
function enrolmentCaptures(set: ExtractedSet, cv: CrossValOptions): EnrolmentCapturesRow[] {
  const items = set.extracted.map((e) => ({ sample: e.sample, ok: e.template !== null }));
  return [1, 2, 3].map((k) => {
    const trials = buildTrials(items, set.dist, 'cross-session', k);
    const impostors = trials.comparisons.a.filter((p, i) => p !== trials.comparisons.b[i]).length;
    const targets = fmrTargetsFor(impostors);
    const h = crossValidate(trials, { fmrTargets: targets, ...cv });
    return {
      captures: k,
      genuine: h.held_genuine,
      eer: h.eer,
      fnmr_at_fmr_1e4: h.fnmr_at_fmr.find((p) => p.target_fmr === 1e-4)!.fnmr,
      rank1: h.identification.rank1,
      fnir_at_fpir: h.identification.fnir_at_fpir,
    };
  });
}

/** Template update and pose selection (enrolment-eval.ts) on the same folds; pose counts from 2 to one below the most session-1 captures of a person (at most 3; a person with fewer enrols all). */
function enrolmentStudyRows(set: ExtractedSet, cv: CrossValOptions): { template_update: TemplateUpdateReport; pose_selection: PoseSelectionRow[] } {
  const items = set.extracted.map((e) => ({ sample: e.sample, ok: e.template !== null }));
  const view = { items, dist: set.dist };
  const perPerson = new Map<string, number>();
  for (const e of set.samples) if (e.session === 1) perPerson.set(e.identity, (perPerson.get(e.identity) ?? 0) + 1);
  const most = maxOf(perPerson.values());
  const counts = [2, 3].filter((k) => k < most);
  return { template_update: templateUpdateEval(view, cv), pose_selection: poseSelectionEval(view, cv, counts) };
}

/** The held-fold figures: thresholds (folds.ts) and the quality cut-offs with FTA and GFNMR (quality-folds.ts), on the same folds. */
function heldOut(set: ExtractedSet, trials: ReturnType<typeof buildTrials>, targets: number[], cv: CrossValOptions): CrossValReport & { quality: HeldQualityReport; blur?: HeldBlurReport } {
  const h = withFixedSettings(crossValidate(trials, { fmrTargets: targets, ...cv }), set);
  const foldOf = assignFolds(trials.people, cv.folds ?? DEFAULT_FOLDS, cv.seed ?? 1);
  const thresholds = h.fold_details.map((d) => d.thresholds.map((t) => t.threshold));
  const samples = set.samples.map((s, i) => ({ person: s.identity, measured: set.measured[i]!, earlyFailure: set.earlyFailures[i]!, earlySlope: set.earlySlopes[i]! }));
  // Blurred copies are judged at the decision threshold's target, FMR 0.01 %.
  const t = Math.max(0, targets.indexOf(1e-4));
  const blurred = set.blurred;
  const slopeOf = (x: { measured: { spectralSlope: number } | null; earlySlope: number | null }): number | null => x.measured?.spectralSlope ?? x.earlySlope;
  // With blurred copies, the spectral-slope cut-off follows the blur rule (blur.ts), fitted on the training folds only.
  const refit = blurred
    ? (f: number) => {
        const sharp = samples.flatMap((x) => (foldOf.get(x.person) !== f && slopeOf(x) !== null ? [slopeOf(x)!] : []));
        const missed = blurred.flatMap((c) => (foldOf.get(c.person) !== f && (c.selfDistance === null || c.selfDistance > thresholds[f]![t]!) && slopeOf(c) !== null ? [slopeOf(c)!] : []));
        const fit = fitBlurCutoff(sharp, missed);
        return { verify: { minSpectralSlope: fit.verify }, enrol: { minSpectralSlope: fit.enrol } };
      }
    : undefined;
  const quality = heldQuality(samples, foldOf, set.dist, set.limits, targets, thresholds, set.roi ? cropLimits : undefined, refit);
  if (!blurred) return { ...h, quality };
  const blur = heldBlurCheck(blurred, samples, foldOf, quality.folds.map((f) => f.verify), set.limits, thresholds.map((th) => th[t]!), set.roi ? cropLimits : undefined);
  return { ...h, quality, blur };
}

function writePng(path: string, f: GreyFrame): void {
  const png = new PNG({ width: f.width, height: f.height });
  for (let i = 0; i < f.pixels.length; i++) {
    const v = f.pixels[i]!;
    png.data[4 * i] = v;
    png.data[4 * i + 1] = v;
    png.data[4 * i + 2] = v;
    png.data[4 * i + 3] = 255;
  }
  writeFileSync(path, PNG.sync.write(png));
}
