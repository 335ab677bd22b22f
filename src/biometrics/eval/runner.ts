// Evaluation runner (I/O edge): decode every sample, extract templates, compare by protocol, compute metrics.
//
// Protocols (which samples are enrolled and which are probed):
// - all-pairs: every sample is compared once with every other sample (unordered pairs); genuine = same
//   identity. Identification is leave-one-out: each sample searches a gallery holding, per identity, all
//   other samples of that identity as one multi-capture template.
// - cross-session: each identity enrols its session-1 samples (CASIA 01–03) as one multi-capture template and
//   is probed with its session-2 samples (04–06); identification uses the same gallery and probes.
// A multi-capture template's score is the minimum over its captures (matchScore), so every score is derived
// from one matrix of capture-against-capture distances.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { extract, type ExtractOptions } from '../extract.ts';
import { matchScore } from '../match.ts';
import type { FtaReason, GreyFrame, Template } from '../types.ts';
import { listDataSet, loadFrame, type Sample } from './dataset.ts';
import { drawSimilarity, geometryError, warpGeometry, warpSimilarity, type PerturbSpec } from './perturb.ts';
import { identification, verification, type IdentificationResult, type Search, type VerificationResult } from './metrics.ts';

export type Protocol = 'all-pairs' | 'cross-session';

export interface EvalOptions {
  data: string;
  protocol: Protocol;
  extract?: ExtractOptions;
  dumpRoi?: string;
  /** Warp every image once by a seeded random similarity before extraction (robustness to hand placement). */
  perturb?: PerturbSpec;
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
  extracted: Extracted[];
  fails: EvalReport['fta_samples'];
  dist: Float32Array;
  extractMs: number;
  perturbation?: PerturbationReport;
}

export async function runEvaluation(opts: EvalOptions): Promise<EvalReport> {
  return evaluateProtocol(await extractDataSet(opts), opts.protocol);
}

/** Decodes and extracts every sample, then compares every pair once (the matrix all protocols draw from). */
export async function extractDataSet(opts: Omit<EvalOptions, 'protocol'>): Promise<ExtractedSet> {
  const ds = listDataSet(opts.data);
  const samples = ds.samples;
  const extracted: Extracted[] = [];
  const fails: EvalReport['fta_samples'] = [];
  let extractMs = 0;
  const perturbed: PerturbedImage[] = [];
  let unwarpedFails = 0;
  if (opts.dumpRoi) mkdirSync(opts.dumpRoi, { recursive: true });
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const original = loadFrame(s.path);
    const warp = opts.perturb ? drawSimilarity(opts.perturb, `${s.identity}/${s.sample}`, original.width, original.height) : null;
    const frame = warp ? warpSimilarity(original, warp) : original;
    const t0 = performance.now();
    const r = extract(frame, { ...opts.extract, hand: s.hand, wantRoi: !!opts.dumpRoi });
    extractMs += performance.now() - t0;
    if (warp) {
      // Diagnostics: the unwarped image's ROI carried through the known warp is the ROI a perfect landmark
      // stage would find; compare each stage against it.
      const ref = extract(original, { ...opts.extract, hand: s.hand });
      if (!ref.ok) unwarpedFails++;
      const exact = ref.ok ? extract(frame, { ...opts.extract, hand: s.hand, geometry: warpGeometry(ref.geometry, warp) }) : null;
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
    if (r.ok) extracted.push({ sample: s, template: r.template });
    else {
      extracted.push({ sample: s, template: null });
      fails.push({ sample: s.sample, reason: r.reason });
    }
    if (opts.dumpRoi && r.roi && r.roi.width > 0) writePng(join(opts.dumpRoi, `${s.identity}__${s.sample}${r.ok ? '' : '_FTA'}.png`), r.roi);
    opts.onProgress?.('extract', i + 1, samples.length);
    if (i % 10 === 9) await new Promise((res) => setImmediate(res)); // let the progress bar draw
  }

  const n = extracted.length;
  const dist = new Float32Array(n * n).fill(1);
  const total = (n * (n - 1)) / 2;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const a = extracted[i]!.template;
    for (let j = i + 1; j < n; j++) {
      const b = extracted[j]!.template;
      const d = a && b ? matchScore(a, b) : 1;
      dist[i * n + j] = d;
      dist[j * n + i] = d;
    }
    done += n - 1 - i;
    opts.onProgress?.('match', done, total);
    if (i % 10 === 9) await new Promise((res) => setImmediate(res));
  }
  const perturbation = opts.perturb ? summarisePerturbation(opts.perturb, perturbed, unwarpedFails) : undefined;
  return { data: opts.data, layout: ds.layout, samples, duplicates: ds.duplicates, extracted, fails, dist, extractMs: extractMs / Math.max(1, n), ...(perturbation ? { perturbation } : {}) };
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

/** Applies a protocol to an extracted set: who is enrolled, who probes, and the resulting figures. */
export function evaluateProtocol(set: ExtractedSet, protocol: Protocol): EvalReport {
  const { samples, extracted, fails, dist } = set;
  const n = extracted.length;
  const identities = [...new Set(samples.map((s) => s.identity))];
  const ok = (i: number): boolean => extracted[i]!.template !== null;
  const byId = new Map<string, number[]>();
  extracted.forEach((e, i) => byId.set(e.sample.identity, [...(byId.get(e.sample.identity) ?? []), i]));
  const minOver = (idx: readonly number[], j: number): number => idx.reduce((m, i) => Math.min(m, dist[i * n + j]!), 1);

  const genuine: number[] = [];
  const impostor: number[] = [];
  const searches: Search[] = [];
  let fteCount = 0;
  let enrolled: string;
  let probed: string;
  let galleryNote: string;
  if (protocol === 'all-pairs') {
    enrolled = 'every sample, in turn';
    probed = 'every other sample (each unordered pair once)';
    galleryNote = 'leave-one-out: per identity, all its other samples as one template';
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue;
      for (let j = i + 1; j < n; j++) {
        if (!ok(j)) continue;
        (extracted[i]!.sample.identity === extracted[j]!.sample.identity ? genuine : impostor).push(dist[i * n + j]!);
      }
      const scores = new Map<string, number>();
      for (const [id, idx] of byId) {
        const refs = idx.filter((k) => k !== i && ok(k));
        if (refs.length) scores.set(id, minOver(refs, i));
      }
      searches.push({ probeId: extracted[i]!.sample.identity, scores });
    }
  } else {
    enrolled = 'session 1 of each identity (CASIA samples 01–03), fused as one multi-capture template';
    probed = 'session 2 of each identity (CASIA samples 04–06), each probe against every enrolled identity';
    galleryNote = 'one multi-capture template per identity enrolled from session 1';
    const gallery = new Map<string, number[]>();
    for (const [id, idx] of byId) {
      const refs = idx.filter((k) => extracted[k]!.sample.session === 1 && ok(k));
      if (refs.length) gallery.set(id, refs);
      else fteCount++;
    }
    for (let j = 0; j < n; j++) {
      if (extracted[j]!.sample.session !== 2 || !ok(j)) continue;
      const scores = new Map<string, number>();
      for (const [id, refs] of gallery) {
        const d = minOver(refs, j);
        scores.set(id, d);
        (id === extracted[j]!.sample.identity ? genuine : impostor).push(d);
      }
      searches.push({ probeId: extracted[j]!.sample.identity, scores });
    }
  }
  const v = verification(genuine, impostor);
  const id = identification(searches, 0.01);
  return {
    data: set.data,
    layout: set.layout,
    protocol,
    coder: extracted.find((e) => e.template)?.template?.coder ?? 'unknown',
    identities: identities.length,
    images: samples.length,
    duplicates_dropped: set.duplicates,
    enrolled,
    probed,
    fta: fails.length / samples.length,
    fta_count: fails.length,
    fta_samples: fails,
    fte: fteCount / identities.length,
    fte_count: fteCount,
    genuine_comparisons: v.genuine,
    impostor_comparisons: v.impostor,
    eer: v.eer,
    eer_threshold: v.eer_threshold,
    fnmr_at_fmr: v.at.map((p) => ({ fmr: p.target_fmr, fnmr: p.fnmr, threshold: p.threshold, measured_fmr: p.fmr, below_resolution: p.below_resolution })),
    identification: { ...id, gallery_note: galleryNote },
    extract_ms_mean: set.extractMs,
    verification: v,
    ...(set.perturbation ? { perturbation: set.perturbation } : {}),
  };
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
