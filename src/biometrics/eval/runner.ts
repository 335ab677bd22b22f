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
import { identification, verification, type IdentificationResult, type Search, type VerificationResult } from './metrics.ts';

export type Protocol = 'all-pairs' | 'cross-session';

export interface EvalOptions {
  data: string;
  protocol: Protocol;
  extract?: ExtractOptions;
  dumpRoi?: string;
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
  if (opts.dumpRoi) mkdirSync(opts.dumpRoi, { recursive: true });
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const frame = loadFrame(s.path);
    const t0 = performance.now();
    const r = extract(frame, { ...opts.extract, hand: s.hand, wantRoi: !!opts.dumpRoi });
    extractMs += performance.now() - t0;
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
  return { data: opts.data, layout: ds.layout, samples, duplicates: ds.duplicates, extracted, fails, dist, extractMs: extractMs / Math.max(1, n) };
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
