// The 1:N benchmark (`palmpay bench match`): synthetic galleries of N palms, identification latency including
// stage 2, stage-1 bandwidth against the machine's sequential-read floor measured on the same buffer in the same
// run, the plain-JS peer, usearch HNSW (b1) and the memory per palm. Pure measurement: the CLI prints and saves.
import { matchScore, RIGID } from '../../src/biometrics/match.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { jsTopK } from '../../src/biometrics/identify/js-scan.ts';
import { CODE_BYTES, ENTRY_CODE_BYTES, type ScanKernel } from '../../src/biometrics/identify/kernel/kernel.ts';
import { DEFAULT_SCREEN, type ScreenPolicy } from '../../src/biometrics/identify/coarse-index.ts';
import { thresholdFor } from '../../src/biometrics/identify/decision.ts';
import { DEFAULT_POLICY, palmIdentifier } from '../../src/biometrics/identify/palm.ts';
import { hamming, rng } from '../../src/biometrics/identify/random.ts';
import { capture, FieldPool, modelTemplate, person, type SyntheticModel } from '../../src/biometrics/identify/synthetic.ts';

export interface BenchMatchOptions {
  ns: number[];
  k: number;
  /** Mated probes per N (as many non-mated probes again). */
  queries: number;
  /** Probes for the plain-JS peer (slow: ~0.2 s each at 10⁶). */
  jsQueries: number;
  /** Largest N for which usearch HNSW is built (its build is slow on one core). */
  usearchMax: number;
  /** K values whose cost in accuracy is reported. */
  kSweep: number[];
  seed: number;
  /** The screen policy under test (default: DEFAULT_SCREEN). */
  screen?: ScreenPolicy;
  model: SyntheticModel;
  progress: (phase: string, done: number, total: number) => void;
  log: (line: string) => void;
}

export interface KAccuracy {
  k: number;
  /** Mated probes whose enrolled mate is among the K stage-1 candidates. */
  mate_in_candidates_rate: number;
  /** Mated probes where stage 1 dropped a mate that would have beaten every one of the K candidates in stage 2
   * (an upper bound on "stage 1 lost the match exhaustive stage 2 would find"). */
  lost_match_upper_bound_rate: number;
  /** Mated probes whose mate the exact (unscreened) scan puts in its K but the screened search does not: what the
   * screen alone costs. */
  screen_lost_mate_rate: number;
}

export interface NResult {
  n: number;
  k: number;
  probes: { mated: number; non_mated: number };
  identify: { p50_ms: number; p99_ms: number; mean_ms: number };
  /**
   * Stage 1 as identification runs it: the screening pass streams every entry code (ENTRY_CODE_BYTES per slot, the
   * bytes counted here), then the slots it keeps are scored exactly against the probe's shifted codes.
   */
  stage1: {
    probes: number;
    p50_ms: number;
    bytes_scanned: number;
    bytes_per_s: number;
    ratio_to_floor: number;
    refined_per_search: number;
    refined_fraction: number;
    /** The screening pass alone (the same search keeping one slot per block): what the exact scoring adds is the rest. */
    screen_pass_p50_ms: number;
    screen_pass_ratio_to_floor: number;
  };
  /** The exact scan (stage 1 before screening): every plain code against all the probe's shifted codes, same index. */
  exact_scan: { p50_ms: number; bytes_per_s: number; screened_speedup: number };
  /**
   * The screening pass alone over the first `slots_in_cache` slots, repeated so they stay in L2: its rate with no
   * memory cost at all. Above 1 × the floor, the pass is bound by memory, not by its arithmetic.
   */
  compute_ceiling: { slots_in_cache: number; screen_bytes_per_s: number; screen_ratio_to_floor: number };
  stage2: { p50_ms: number };
  /** One probe against one 3-capture enrolment (stage 2's unit of work in production), elastic and rigid, same pairs. */
  one_to_one: OneToOne;
  floor: { sum_1_stream_bytes_per_s: number; sum_4_streams_bytes_per_s: number; bytes_per_s: number; memcpy_bytes_per_s: number };
  /** Stage 1 as identification runs it: stage1.bytes_per_s / floor.bytes_per_s (= floor time / stage-1 time, same slots). */
  ratio_to_floor: number;
  plain_js: { p50_ms: number; bytes_per_s: number; speedup_wasm_over_js: number; identical_to_wasm: boolean };
  usearch: null | { n: number; build_s: number; p50_ms: number; p99_ms: number; recall_at_1: number; connectivity: number; expansion_add: number; expansion_search: number };
  k_accuracy: KAccuracy[];
  decisions: { threshold: number; mated_correct_match_rate: number; mated_ambiguous_rate: number; mated_no_match_rate: number; non_mated_false_match_rate: number; non_mated_ambiguous_rate: number };
  memory: { index_bytes_per_palm: number; coarse_code_bytes: number; process_bytes_per_palm: number };
  gallery_build_s: number;
}

function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

/** Lets the progress bar's timer run between chunks of synchronous work. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function template(model: SyntheticModel, codes: Template['codes']): Template {
  return modelTemplate(model, codes);
}

export interface OneToOne {
  captures_per_enrolment: number;
  pairs: number;
  elastic_p50_us: number;
  rigid_p50_us: number;
  /** elastic / rigid on the same pairs in the same run. */
  elastic_to_rigid_ratio: number;
  /** K × the elastic p50: stage 2 when every candidate holds a 3-capture enrolment. */
  stage2_three_capture_ms: number;
}

/** Times matchScore of a fresh probe against 3-capture enrolments of synthetic people (mates and others). */
export function benchOneToOne(model: SyntheticModel, r: ReturnType<typeof rng>, k: number, pairs = 200): OneToOne {
  const people = Array.from({ length: 20 }, () => person(model, r));
  const enrolled = people.map((p) => template(model, [capture(model, p, r), capture(model, p, r), capture(model, p, r)]));
  const probes = people.map((p) => template(model, [capture(model, p, r, { shift: true })]));
  const el: number[] = [];
  const ri: number[] = [];
  for (let i = 0; i < pairs + 20; i++) {
    const a = probes[i % probes.length]!;
    const b = enrolled[(i * 7) % enrolled.length]!;
    const te = time(() => matchScore(a, b)) * 1000;
    const tr = time(() => matchScore(a, b, RIGID)) * 1000;
    if (i >= 20) { el.push(te); ri.push(tr); } // the first 20: warm-up
  }
  const e = quantile(el, 0.5);
  const g = quantile(ri, 0.5);
  return { captures_per_enrolment: 3, pairs, elastic_p50_us: e, rigid_p50_us: g, elastic_to_rigid_ratio: e / g, stage2_three_capture_ms: (k * e) / 1000 };
}

export async function benchMatchN(n: number, o: BenchMatchOptions): Promise<NResult> {
  const r = rng(o.seed + n);
  const q = Math.min(o.queries, n);
  const memBefore = memoryNow();
  const t0 = performance.now();
  const screen = o.screen ?? DEFAULT_SCREEN;
  const id = palmIdentifier({ k: o.k, initialCapacity: n, policy: DEFAULT_POLICY, screen });
  const probes: Array<{ t: Template; mate: string | null }> = [];
  // The first q people get a full enrolment capture and a separate probe capture; everyone else is an impostor
  // for every probe, and an impostor's capture is statistically the same as a fresh field (synthetic.ts), so it is
  // drawn as the person's fields (from a pool, see FieldPool) with a real mask: a fraction of the cost at 10⁶.
  const pool = new FieldPool(o.model, r);
  for (let i = 0; i < n; i++) {
    const p = i < q ? person(o.model, r) : pool.person(o.model, r);
    const enrolled = template(o.model, [capture(o.model, p, r, { exact: i >= q })]);
    id.enrol({ entryId: `e${i}`, personId: `p${i}`, hand: 'left', template: enrolled });
    if (i < q) probes.push({ t: template(o.model, [capture(o.model, p, r, { shift: true })]), mate: `e${i}` });
    if ((i & 4095) === 0) {
      o.progress(`gallery N=${n}`, i, n);
      await tick();
    }
  }
  for (let i = 0; i < q; i++) probes.push({ t: template(o.model, [capture(o.model, person(o.model, r), r, { shift: true })]), mate: null });
  o.progress(`gallery N=${n}`, n, n);
  const galleryS = (performance.now() - t0) / 1000;
  const memAfter = memoryNow();

  // Latency of the whole identification, and of stage 1 alone.
  for (const p of probes.slice(0, 5)) id.identify(p.t); // warm-up
  const total: number[] = [];
  const stage1: number[] = [];
  const stage2: number[] = [];
  const exactScan: number[] = [];
  let refined = 0;
  const results: Array<ReturnType<typeof id.identify>> = [];
  for (const [i, p] of probes.entries()) {
    const code = id.probeCodes(p.t);
    let cands: ReturnType<typeof id.coarseIndex.nearest> = [];
    stage1.push(
      time(() => {
        const search = id.coarseIndex.begin(code, o.k);
        search.step(Infinity);
        refined += search.refined;
        cands = search.finish();
      }),
    );
    exactScan.push(time(() => id.coarseIndex.nearestExact(code, o.k)));
    stage2.push(time(() => cands.forEach((c) => matchScore(p.t, id.entry(c.id)!.template))));
    let res: ReturnType<typeof id.identify> | undefined;
    total.push(time(() => (res = id.identify(p.t))));
    o.progress(`identify N=${n}`, i + 1, probes.length);
    results.push(res!);
    await tick();
  }
  const bytesScanned = id.coarseIndex.slots * ENTRY_CODE_BYTES;
  const stage1P50 = quantile(stage1, 0.5);

  // Before the floor's copy peer takes scratch memory past the index.
  const indexBytes = id.indexBytes;
  // The floor: the cheapest possible read of the same bytes, 1 and 4 streams, and a bulk copy.
  const kernel = id.coarseIndex.scanKernel;
  const floorFns = kernel.readFloor(id.coarseIndex.slots);
  const reps = 11;
  const sum1 = quantile(Array.from({ length: reps }, () => time(floorFns.sum1)), 0.5);
  const sum4 = quantile(Array.from({ length: reps }, () => time(floorFns.sum4)), 0.5);
  const copy = kernel.copyPeer(floorFns.bytes);
  const copyMs = quantile(Array.from({ length: reps }, () => time(copy)), 0.5);
  const bps = (ms: number) => floorFns.bytes / (ms / 1000);
  const floorBps = Math.max(bps(sum1), bps(sum4));
  o.progress(`floor N=${n}`, 1, 1);
  const ceiling = computeCeiling(kernel, id.probeCodes(probes[0]!.t), id.coarseIndex.slots);
  const screenPass = quantile(
    probes.map((p) => {
      const code = id.probeCodes(p.t);
      return time(() => {
        const search = id.coarseIndex.begin(code, o.k, { fraction: 1e-9, minKeep: 0 }); // keeps one slot a block
        search.step(Infinity);
        search.finish();
      });
    }),
    0.5,
  );
  const exactP50 = quantile(exactScan, 0.5);

  // Plain JS: the same screened search over a copy of the same codes.
  const slots = id.coarseIndex.slots;
  const gallery = { codes: new Uint32Array(slots * (ENTRY_CODE_BYTES / 4)), count: slots };
  for (let s = 0; s < slots; s++) gallery.codes.set(new Uint32Array(kernel.code(s).slice().buffer), s * (ENTRY_CODE_BYTES / 4));
  const jsTimes: number[] = [];
  let identical = true;
  for (let i = 0; i < Math.min(o.jsQueries, probes.length); i++) {
    const code = id.probeCodes(probes[i]!.t);
    let js: Array<{ distance: number; slot: number }> = [];
    const words = code.map((c) => new Uint32Array(c.slice().buffer));
    jsTimes.push(time(() => (js = jsTopK(gallery, words, o.k, screen))));
    const wasm = id.coarseIndex.nearest(code, o.k);
    identical &&= js.length === wasm.length && js.every((x, j) => x.distance === wasm[j]!.distance);
    o.progress(`plain JS N=${n}`, i + 1, o.jsQueries);
    await tick();
  }
  const jsP50 = quantile(jsTimes, 0.5);

  // What K costs: the mate's stage-1 rank against the stage-2 score it would have needed.
  const kMax = Math.max(...o.kSweep, o.k);
  const mated = probes.filter((p) => p.mate !== null);
  const kAcc = o.kSweep.map((k) => ({ k, inside: 0, lost: 0, screenLost: 0 }));
  for (const [i, p] of mated.entries()) {
    const code = id.probeCodes(p.t);
    const cands = id.coarseIndex.nearest(code, kMax);
    const exactRank = id.coarseIndex.nearestExact(code, kMax).findIndex((c) => c.id === p.mate);
    const fine = cands.map((c) => matchScore(p.t, id.entry(c.id)!.template));
    const rank = cands.findIndex((c) => c.id === p.mate);
    const mateScore = matchScore(p.t, id.entry(p.mate!)!.template);
    for (const a of kAcc) {
      if (rank >= 0 && rank < a.k) a.inside++;
      else if (mateScore < Math.min(...fine.slice(0, a.k))) a.lost++;
      if (exactRank >= 0 && exactRank < a.k && !(rank >= 0 && rank < a.k)) a.screenLost++;
    }
    o.progress(`K sweep N=${n}`, i + 1, mated.length);
    await tick();
  }

  // usearch HNSW over the same plain coarse codes, b1 quantisation, Hamming metric, one thread; exact = the
  // kernel's exact scan with the same single probe code.
  const us = n <= o.usearchMax ? await benchUsearch(id, probes.map((p) => id.probeCodes(p.t)[0]!), n, o) : null;

  const dec = (list: typeof results, pred: (r: (typeof results)[number], i: number) => boolean) => list.filter(pred).length / Math.max(1, list.length);
  const matedRes = results.slice(0, q);
  const nonRes = results.slice(q);
  return {
    n,
    k: o.k,
    probes: { mated: q, non_mated: probes.length - q },
    identify: { p50_ms: quantile(total, 0.5), p99_ms: quantile(total, 0.99), mean_ms: total.reduce((a, b) => a + b, 0) / total.length },
    stage1: {
      probes: id.probeCodes(probes[0]!.t).length,
      p50_ms: stage1P50,
      bytes_scanned: bytesScanned,
      bytes_per_s: bytesScanned / (stage1P50 / 1000),
      ratio_to_floor: bytesScanned / (stage1P50 / 1000) / floorBps,
      refined_per_search: refined / probes.length,
      refined_fraction: refined / probes.length / n,
      screen_pass_p50_ms: screenPass,
      screen_pass_ratio_to_floor: bytesScanned / (screenPass / 1000) / floorBps,
    },
    exact_scan: { p50_ms: exactP50, bytes_per_s: (slots * ENTRY_CODE_BYTES) / (exactP50 / 1000), screened_speedup: exactP50 / stage1P50 },
    stage2: { p50_ms: quantile(stage2, 0.5) },
    one_to_one: benchOneToOne(o.model, rng(o.seed + 7), o.k),
    floor: { sum_1_stream_bytes_per_s: bps(sum1), sum_4_streams_bytes_per_s: bps(sum4), bytes_per_s: floorBps, memcpy_bytes_per_s: bps(copyMs) },
    compute_ceiling: { slots_in_cache: ceiling.slots, screen_bytes_per_s: ceiling.screen, screen_ratio_to_floor: ceiling.screen / floorBps },
    ratio_to_floor: bytesScanned / (stage1P50 / 1000) / floorBps,
    plain_js: { p50_ms: jsP50, bytes_per_s: bytesScanned / (jsP50 / 1000), speedup_wasm_over_js: jsP50 / stage1P50, identical_to_wasm: identical },
    usearch: us,
    k_accuracy: kAcc.map((a) => ({ k: a.k, mate_in_candidates_rate: a.inside / mated.length, lost_match_upper_bound_rate: a.lost / mated.length, screen_lost_mate_rate: a.screenLost / mated.length })),
    decisions: {
      threshold: thresholdFor(DEFAULT_POLICY, n),
      mated_correct_match_rate: dec(matedRes, (x, i) => x.decision.kind === 'match' && x.decision.entryId === probes[i]!.mate),
      mated_ambiguous_rate: dec(matedRes, (x) => x.decision.kind === 'ambiguous'),
      mated_no_match_rate: dec(matedRes, (x) => x.decision.kind === 'no-match'),
      non_mated_false_match_rate: dec(nonRes, (x) => x.decision.kind === 'match'),
      non_mated_ambiguous_rate: dec(nonRes, (x) => x.decision.kind === 'ambiguous'),
    },
    memory: {
      index_bytes_per_palm: indexBytes / n,
      coarse_code_bytes: ENTRY_CODE_BYTES,
      process_bytes_per_palm: (memAfter - memBefore) / n,
    },
    gallery_build_s: galleryS,
  };
}

/** Slots screened for the compute ceiling: 1 MiB of entry codes, well inside this machine's 2 MiB L2 per core. */
const CACHE_SLOTS = (1 << 20) / ENTRY_CODE_BYTES;

/** Bytes/s of the screening pass over slots that stay in L2 (see NResult.compute_ceiling). */
function computeCeiling(kernel: ScanKernel, probeCodes: Uint8Array[], slots: number): { slots: number; screen: number } {
  const m = Math.floor(Math.min(slots, CACHE_SLOTS) / 4) * 4;
  if (m === 0) return { slots: 0, screen: NaN };
  const reps = 8;
  kernel.setProbes(probeCodes);
  kernel.screenDistances(0, m); // warm: the slice is now in cache
  const ms = quantile(
    Array.from({ length: 15 }, () => time(() => { for (let r = 0; r < reps; r++) kernel.screenDistances(0, m); })),
    0.5,
  );
  return { slots: m, screen: (m * ENTRY_CODE_BYTES * reps) / (ms / 1000) };
}

function memoryNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

async function benchUsearch(id: ReturnType<typeof palmIdentifier>, probes: Uint8Array[], n: number, o: BenchMatchOptions): Promise<NResult['usearch']> {
  const { Index, MetricKind, ScalarKind } = await import('usearch');
  const cfg = { connectivity: 16, expansion_add: 64, expansion_search: 64 };
  const index = new Index({ dimensions: CODE_BYTES * 8, metric: MetricKind.Hamming, quantization: ScalarKind.B1, multi: false, ...cfg });
  const slots = id.coarseIndex.slots;
  const kernel = id.coarseIndex.scanKernel;
  const unpack = (code: Uint8Array, out: Int8Array, at: number) => {
    for (let b = 0; b < CODE_BYTES * 8; b++) out[at + b] = (code[b >> 3]! >> (b & 7)) & 1;
  };
  const batch = 4096;
  const t0 = performance.now();
  for (let s = 0; s < slots; s += batch) {
    const m = Math.min(batch, slots - s);
    const vecs = new Int8Array(m * CODE_BYTES * 8);
    for (let j = 0; j < m; j++) unpack(kernel.plain(s + j), vecs, j * CODE_BYTES * 8);
    index.add(BigUint64Array.from({ length: m }, (_, j) => BigInt(s + j)), vecs, 1);
    o.progress(`usearch build N=${n}`, s + m, slots);
    await tick();
  }
  const buildS = (performance.now() - t0) / 1000;
  const lat: number[] = [];
  let hits = 0;
  probes.forEach((p, i) => {
    const v = new Int8Array(CODE_BYTES * 8);
    unpack(p, v, 0);
    let keys: BigUint64Array = new BigUint64Array(0);
    lat.push(time(() => (keys = index.search(v, 1, 1).keys)));
    const exact = id.coarseIndex.nearestExact(p, 1)[0]!.distance;
    if (keys.length > 0 && hamming(kernel.plain(Number(keys[0]!)), p) === exact) hits++;
    o.progress(`usearch search N=${n}`, i + 1, probes.length);
  });
  return { n, build_s: buildS, p50_ms: quantile(lat, 0.5), p99_ms: quantile(lat, 0.99), recall_at_1: hits / probes.length, ...cfg };
}
