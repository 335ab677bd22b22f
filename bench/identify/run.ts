// Runs `palmpay bench match`: fits the synthetic model (dev data when present), benchmarks each N, times the
// start-up load, and formats the report.
import { calibrate, type Calibration, type Distribution } from './calibrate.ts';
import { benchMatchN, type BenchMatchOptions, type NResult } from './match.ts';
import { DEV_DATA_DIR, devDataPresent, loadDevSamples } from './dev-data.ts';
import { benchLoad, type LoadResult } from './load.ts';
import { defaultModel } from '../../src/biometrics/identify/synthetic.ts';

export interface RunOptions extends Omit<BenchMatchOptions, 'model'> {
  load: number;
}

export interface CalibrationSummary {
  bitProbMeanAbsDiff: number;
  real: { genuine: Distribution; impostor: Distribution };
  synthetic: { genuine: Distribution; impostor: Distribution };
}

export interface BenchMatchReport {
  machine: { node: string; cpu_cores: number; note: string };
  synthetic_model: { source: string; blur: number; genuine_mu: number; genuine_sigma: number; calibration: CalibrationSummary | null };
  results: NResult[];
  load: LoadResult | null;
}

export async function runBenchMatch(o: RunOptions): Promise<BenchMatchReport> {
  let model = defaultModel();
  let cal: Calibration | null = null;
  if (devDataPresent()) {
    const samples = loadDevSamples(DEV_DATA_DIR, (d, t) => o.progress('dev data: extracting', d, t));
    const ok = samples.flatMap((s) => (s.template ? [{ identity: s.identity, template: s.template }] : []));
    o.progress('synthetic model: fitting', 0, 1);
    cal = calibrate(ok, { trials: 100 });
    model = cal.model;
    o.progress('synthetic model: fitting', 1, 1);
  } else {
    o.log(`dev data absent (${DEV_DATA_DIR}): synthetic gallery uses the unfitted default model`);
  }
  const results: NResult[] = [];
  for (const n of o.ns) {
    const res = await benchMatchN(n, { ...o, model });
    results.push(res);
    o.log(`done: N = ${n}: identify p50 ${res.identify.p50_ms.toFixed(2)} ms, p99 ${res.identify.p99_ms.toFixed(2)} ms (full report at the end)`);
  }
  const load = o.load > 0 ? await benchLoad(o.load, model, o.progress) : null;
  const { cpus } = await import('node:os');
  return {
    machine: { node: process.version, cpu_cores: cpus().length, note: 'shared, noisy machine: compare ratios measured in this run' },
    synthetic_model: {
      source: model.source,
      blur: model.blur,
      genuine_mu: model.genuineMu,
      genuine_sigma: model.genuineSigma,
      calibration: cal
        ? {
            bitProbMeanAbsDiff: cal.bitProbMeanAbsDiff,
            real: { genuine: cal.real.genuine, impostor: cal.real.impostor },
            synthetic: { genuine: cal.synthetic.genuine, impostor: cal.synthetic.impostor },
          }
        : null,
    },
    results,
    load,
  };
}

const f = (x: number, d = 2) => x.toFixed(d);
const gb = (bps: number) => `${f(bps / 1e9)} GB/s`;

export function formatBenchMatch(r: BenchMatchReport): string {
  const out: string[] = [];
  const c = r.synthetic_model.calibration;
  out.push(`synthetic gallery: ${r.synthetic_model.source}; blur ${r.synthetic_model.blur}, capture noise log(1-ρ²) ~ N(${f(r.synthetic_model.genuine_mu)}, ${f(r.synthetic_model.genuine_sigma)})`);
  if (c) {
    const d = (x: Distribution) => `mean ${f(x.mean, 3)} sd ${f(x.sd, 3)} q1/50/99 ${f(x.q[0]!, 3)}/${f(x.q[3]!, 3)}/${f(x.q[6]!, 3)}`;
    out.push(`  genuine  real ${d(c.real.genuine)} | synthetic ${d(c.synthetic.genuine)}`);
    out.push(`  impostor real ${d(c.real.impostor)} | synthetic ${d(c.synthetic.impostor)}`);
    out.push(`  per-bit probability: mean |real − synthetic| = ${f(c.bitProbMeanAbsDiff, 4)}`);
  }
  for (const x of r.results) {
    out.push(`\nN = ${x.n} (K = ${x.k}, ${x.probes.mated} mated + ${x.probes.non_mated} non-mated probes; gallery built in ${f(x.gallery_build_s, 1)} s)`);
    out.push(`  identify (stage 1 + 2 + decision): p50 ${f(x.identify.p50_ms)} ms, p99 ${f(x.identify.p99_ms)} ms   [stage 1 p50 ${f(x.stage1.p50_ms)} ms, stage 2 p50 ${f(x.stage2.p50_ms)} ms]`);
    out.push(`  floor (the entry slots, ${f(x.stage1.bytes_scanned / 1e6, 1)} MB): ${gb(x.floor.bytes_per_s)} (read 1 stream ${gb(x.floor.sum_1_stream_bytes_per_s)}, 4 streams ${gb(x.floor.sum_4_streams_bytes_per_s)}; memcpy ${gb(x.floor.memcpy_bytes_per_s)})`);
    out.push(`  1:1, probe against a 3-capture enrolment: elastic p50 ${f(x.one_to_one.elastic_p50_us, 0)} µs, rigid ${f(x.one_to_one.rigid_p50_us, 0)} µs (elastic = ${f(x.one_to_one.elastic_to_rigid_ratio)} × rigid); stage 2 with ${x.k} 3-capture candidates ≈ ${f(x.one_to_one.stage2_three_capture_ms)} ms`);
    out.push(`  stage 1 as used (screen, then ${f(x.stage1.refined_per_search, 0)} slots = ${f(100 * x.stage1.refined_fraction, 2)} % scored against ${x.stage1.probes} shifted probe codes): ${f(x.stage1.p50_ms)} ms, ${gb(x.stage1.bytes_per_s)} — ratio to floor ${f(x.ratio_to_floor)}`);
    out.push(`    of which the screening pass alone: ${f(x.stage1.screen_pass_p50_ms)} ms — ratio to floor ${f(x.stage1.screen_pass_ratio_to_floor)}`);
    out.push(`  exact scan (no screen: every plain code against the ${x.stage1.probes} probe codes): ${f(x.exact_scan.p50_ms)} ms — the screened stage 1 is ${f(x.exact_scan.screened_speedup, 1)}× faster`);
    const c = x.compute_ceiling;
    out.push(`  compute ceiling (screening pass, ${c.slots_in_cache} slots kept in L2): ${gb(c.screen_bytes_per_s)} = ${f(c.screen_ratio_to_floor)} × floor`);
    out.push(`  plain JS: p50 ${f(x.plain_js.p50_ms, 1)} ms (${gb(x.plain_js.bytes_per_s)}), WASM is ${f(x.plain_js.speedup_wasm_over_js, 1)}× faster; identical results: ${x.plain_js.identical_to_wasm}`);
    if (x.usearch) {
      out.push(`  usearch HNSW b1 (M=${x.usearch.connectivity}, ef_add=${x.usearch.expansion_add}, ef=${x.usearch.expansion_search}, 1 thread): build ${f(x.usearch.build_s, 1)} s, p50 ${f(x.usearch.p50_ms, 3)} ms, p99 ${f(x.usearch.p99_ms, 3)} ms, recall@1 vs exact (one probe code) ${f(x.usearch.recall_at_1, 3)}`);
    } else out.push('  usearch: skipped at this N (--usearch-max)');
    out.push(`  K cost: ${x.k_accuracy.map((a) => `K=${a.k}: mate in candidates ${f(a.mate_in_candidates_rate, 3)}, lost ≤ ${f(a.lost_match_upper_bound_rate, 3)}, lost by the screen ${f(a.screen_lost_mate_rate, 3)}`).join('; ')}`);
    const d = x.decisions;
    out.push(`  decisions (threshold ${f(d.threshold, 4)} at this N): mated → match ${f(d.mated_correct_match_rate, 3)}, ambiguous ${f(d.mated_ambiguous_rate, 3)}, no-match ${f(d.mated_no_match_rate, 3)}; non-mated → false match ${f(d.non_mated_false_match_rate, 3)}, ambiguous ${f(d.non_mated_ambiguous_rate, 3)}`);
    out.push(`  memory: index ${f(x.memory.index_bytes_per_palm, 0)} B/palm (coarse code ${x.memory.coarse_code_bytes} B); whole process incl. templates ${f(x.memory.process_bytes_per_palm, 0)} B/palm`);
  }
  if (r.load) {
    const l = r.load;
    out.push(`\nstart-up load of ${l.n} sealed templates (${l.captures_per_template} captures, ${l.template_bytes} B each) from SQLite:`);
    out.push(`  per-row secretbox: ${f(l.per_row.total_ms, 0)} ms (sql ${f(l.per_row.sql_ms, 0)}, open ${f(l.per_row.open_ms, 0)}, decode ${f(l.per_row.decode_ms, 0)}, enrol ${f(l.per_row.enrol_ms, 0)}) — ${l.per_row.meets_1s ? 'meets' : 'MISSES'} 1 s`);
    out.push(`  sealed index snapshot: ${f(l.snapshot.total_ms, 0)} ms (sql ${f(l.snapshot.sql_ms, 0)}, open ${f(l.snapshot.open_ms, 0)}, index ${f(l.snapshot.index_ms, 0)}; ${f(l.snapshot.bytes / 1e6, 1)} MB) — ${l.snapshot.meets_1s ? 'meets' : 'MISSES'} 1 s; identify with lazily opened templates p50 ${f(l.lazy_stage2.identify_p50_ms)} ms`);
    out.push(`  skipped and reported: ${l.skipped.map((s) => `${s.entryId} (${s.code})`).join(', ') || 'none'}`);
  }
  return out.join('\n');
}
