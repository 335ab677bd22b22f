/**
 * `palmpay bench terminal`: the whole path from a palm on the glass to a decision, on a terminal data folder with
 * N people enrolled (folder.ts). Per scan, timed stage by stage:
 *   transfer  – the frame (640×480 by default) from the simulated serial module (its own process) over a socat pty,
 *               through the real SerialPort and ScannerClient (snap + chunked upload, CRC-checked);
 *   extract   – the kiosk's extractor (templateFromFrame);
 *   identify  – 1:N against the N enrolled, through the kiosk's PalmIdentifier loaded from the sealed snapshot;
 *   decide    – the purchase decision and the signed, durable record (SqliteBank.authorizePurchase: offline limits,
 *               Ed25519-signed journal append with synchronous=FULL).
 * Peers measured in the same run: (1) the same path with the frame handed over in memory (no transfer), scans
 * interleaved with the pty ones so both see the same machine load; (2) the sum of each stage's p50 measured alone
 * (stage loops); (3) unless `serialportPeer` is false, the same path over a second module's pty with the terminal's
 * side reading through serialport (the read path before `directReads`), interleaved too. Cold start (cold-start.ts): `palmpay terminal` started on the folder, to its first interactive screen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScannerClient } from '../../drivers/client/client.ts';
import { syntheticPalm, type GreyImage } from '../../drivers/sim/synthetic-palm.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { encodePalm, fuseCaptures, templateFromFrame, type Template } from '../../src/host/adapters/palm.ts';
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import { PalmPayError } from '../../src/util/errors.ts';
import { BENCH_CUSTOMER, prepareFolder } from './folder.ts';
import { measureColdStart, type ColdStartResult } from './cold-start.ts';
import { startModuleProcess, type ModuleProcess } from './module-process.ts';

export interface TerminalBenchOptions {
  n: number;
  scans: number;
  width: number;
  height: number;
  /** Also start `palmpay terminal` on the folder and time it to its first interactive screen. */
  coldStart: boolean;
  /** How the cold start runs the terminal: `node bin/palmpay.js` (default). */
  coldStartRuns?: number;
  /** Also time scans with the terminal reading through serialport (the old read path) as an in-run peer (default on). */
  serialportPeer?: boolean;
  /** Also time scans from a module whose frames the terminal asks for raw (not packed) as an in-run peer (default on). */
  rawFramesPeer?: boolean;
  /** A folder of real NIR images (CASIA layout): also time transfers of those frames, packed and raw, alternating. */
  nirFrames?: string;
  progress: (phase: string, done: number, total: number) => void;
  log: (line: string) => void;
}

export interface Percentiles {
  p50_ms: number;
  p95_ms: number;
}

/** A path's figures and its ratio (transfer + extract + identify p50) to the in-memory peer's extract + identify. */
export interface PathFigures {
  read_path: string;
  transfer: Percentiles;
  transfer_extract_identify: Percentiles;
  total: Percentiles;
  ratio_to_in_memory: number;
}

export interface TerminalBenchResult {
  n: number;
  scans: number;
  frame: { width: number; height: number; bytes: number };
  serial: { link: string; capabilities: string[]; chunk_bytes: number; window: number };
  outcomes: Record<string, number>;
  over_pty: { read_path: string; transfer: Percentiles; extract: Percentiles; identify: Percentiles; decide: Percentiles; transfer_extract_identify: Percentiles; total: Percentiles; ratio_to_in_memory: number };
  /** Peer (3): the terminal reading through serialport; null with `serialportPeer: false`. */
  /** How the frames crossed the wire: packing ratio and CPU on the bench's own renders (the very captures the module
   * sends, synthetic palms) and, with --nir-frames, on real NIR frames; the raw-frames peer; real frames' transfer. */
  frame_packing: {
    encoding: 'up+deflate' | 'raw';
    synthetic_wire_bytes_to_raw: number;
    module_pack_cpu_p50_ms: number;
    host_unpack_cpu_p50_ms: number;
    nir_frames: { source: string; wire_bytes_to_raw: number; transfer_packed: Percentiles; transfer_raw: Percentiles; transfer_packed_p50_to_raw: number } | null;
  };
  raw_frames_peer: (PathFigures & { transfer_p50_to_peer: number }) | null;
  serialport_peer: (PathFigures & { transfer_p50_to_peer: number; host_cpu_transfer_p50_ms: number }) | null;
  in_memory: { extract: Percentiles; identify: Percentiles; decide: Percentiles; extract_identify: Percentiles; total: Percentiles };
  stages_alone: { transfer_p50_ms: number; extract_p50_ms: number; identify_p50_ms: number; decide_p50_ms: number; sum_p50_ms: number };
  ratios: { transfer_extract_identify_p50_to_in_memory: number; transfer_extract_identify_p95_to_in_memory: number; total_p50_to_stage_sum: number; cpu_transfer_extract_identify_p50_to_in_memory: number };
  /** This process's CPU time per scan (p50): far less inflated by other load than the wall-clock figures. The module
   * is its own process (a device), so its CPU is not in the transfer's. */
  host_cpu: { transfer_p50_ms: number; extract_identify_over_pty_p50_ms: number; extract_identify_in_memory_p50_ms: number };
  targets: { scan_to_decision_p95_ms: 250; meets_p95: boolean; ratio_max: 2; meets_ratio: boolean; cold_start_ms: 2000; meets_cold_start: boolean | null };
  cold_start: ColdStartResult | null;
  setup: { folder_s: number; snapshot_bytes: number };
  machine: { node: string; cpu_cores: number; loadavg_1m: number; note: string };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const pp = (xs: number[]): Percentiles => ({ p50_ms: r2(pct(xs, 50)), p95_ms: r2(pct(xs, 95)) });

export async function runTerminalBench(o: TerminalBenchOptions): Promise<TerminalBenchResult> {
  if (!(o.n >= 1) || !(o.scans >= 1) || !(o.width >= 64 && o.width <= 2048) || !(o.height >= 64 && o.height <= 2048)) throw new PalmPayError('CONFIG_INVALID', 'bench terminal: --n ≥ 1, --scans ≥ 1, frame sides 64..2048');
  const frame = { width: o.width, height: o.height };
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-bench-terminal-'));
  const dataDir = join(dir, 'data');
  const { startServer } = await import('../../src/server/index.ts');
  const { registerWithCentre } = await import('../../src/sync/index.ts');
  const centre = await startServer({ db: `sqlite:${join(dir, 'centre.db')}` });
  const t0 = performance.now();
  let module: ModuleProcess | null = null;
  let client: ScannerClient | null = null;
  let peerModule: ModuleProcess | null = null;
  let peerClient: ScannerClient | null = null;
  const extra: Array<{ module: ModuleProcess; client: ScannerClient }> = [];
  const openModule = async (o: { framesDir?: string; packedFrames: boolean }) => {
    const module = await startModuleProcess({ identity: BENCH_CUSTOMER, width: frame.width, height: frame.height, ...(o.framesDir ? { framesDir: o.framesDir } : {}) });
    const client = new ScannerClient(new SerialTransport({ path: module.path }), { serial: { packedFrames: o.packedFrames } });
    extra.push({ module, client });
    await client.open();
    await client.info();
    await client.capture({ want: 'frame' }); // warm-up
    return client;
  };
  try {
    // Registered with a real centre (its own SQLite), so the cold start runs as a provisioned counter would.
    const folder = await prepareFolder(dataDir, {
      n: o.n,
      frame,
      progress: o.progress,
      register: async (t) => {
        const { code } = await centre.central.addTerminal({ id: t.ledger.terminalId, name: 'bench counter', branch: 'bench', region: 'bench' });
        await registerWithCentre({ store: t.store, serverUrl: centre.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
      },
    });
    const folderS = (performance.now() - t0) / 1000;
    o.log(`folder: ${folder.enrolled} templates enrolled, snapshot ${(folder.snapshotBytes / 1e6).toFixed(1)} MB, ${folderS.toFixed(1)} s`);
    const { terminal, identifier } = folder;
    const bank = new SqliteBank<Template>({ terminal, encode: encodePalm, fuse: fuseCaptures });

    // The customer's live captures, rendered before timing (the simulator's own sample/shot numbering for live palms).
    const shots: GreyImage[] = [];
    for (let i = 0; i < 8; i++) shots.push(syntheticPalm(BENCH_CUSTOMER, 1 + (i % 3), i, o.width, o.height));
    // The module is its own process (module.ts), as a real one is its own device, with the same pre-rendered captures.
    module = await startModuleProcess({ identity: BENCH_CUSTOMER, width: o.width, height: o.height });
    const hostTransport = new SerialTransport({ path: module.path });
    client = new ScannerClient(hostTransport);
    await client.open();
    const info = await client.info();
    await client.capture({ want: 'frame' }); // warm-up
    const readPath = hostTransport.readPath ?? 'closed';
    if (o.serialportPeer ?? true) {
      // A module of its own (one reader per pty), with the terminal's side on serialport's reads and writes.
      peerModule = await startModuleProcess({ identity: BENCH_CUSTOMER, width: o.width, height: o.height });
      peerClient = new ScannerClient(new SerialTransport({ path: peerModule.path, directReads: false }));
      await peerClient.open();
      await peerClient.info();
      await peerClient.capture({ want: 'frame' }); // warm-up
    }
    // A module of its own whose frames this terminal asks for raw: what packing saves, in this run.
    const rawClient = (o.rawFramesPeer ?? true) ? await openModule({ packedFrames: false }) : null;
    const nir = o.nirFrames ? { packed: await openModule({ framesDir: o.nirFrames, packedFrames: true }), raw: await openModule({ framesDir: o.nirFrames, packedFrames: false }) } : null;

    let req = 0;
    const outcomes: Record<string, number> = {};
    const decide = (personId: string | null): string => {
      if (!personId) return 'no-decision';
      const r = bank.authorizePurchase({ requestId: `bench-${process.pid}-${++req}`, kind: 'purchase', personId, amount: { currency: 'SYP', minor: 100 }, operatorId: folder.operator, overrideBy: null, pinVerified: false });
      return r.ok ? 'approved' : `declined:${r.reason}`;
    };
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const scan = async (pixels: (() => Promise<GreyImage>) | GreyImage) => {
      const ca = cpu();
      const a = performance.now();
      const img = typeof pixels === 'function' ? await pixels() : pixels;
      const b = performance.now();
      const cb = cpu();
      const read = templateFromFrame({ width: img.width, height: img.height, pixels: img.pixels });
      const c = performance.now();
      const outcome = read.ok ? identifier.identify(read.template) : { kind: 'no-hand' as const };
      const d = performance.now();
      const cd = cpu();
      const decision = decide(outcome.kind === 'match' ? outcome.personId : null);
      const e = performance.now();
      const key = `${read.ok ? outcome.kind : `fta:${read.reason}`}${outcome.kind === 'match' && outcome.personId !== BENCH_CUSTOMER ? ':WRONG-PERSON' : ''} → ${decision}`;
      return { transfer: b - a, extract: c - b, identify: d - c, decide: e - d, total: e - a, key, cpuTransfer: cb - ca, cpuExtractIdentify: cd - cb };
    };
    const overPty = async (via: ScannerClient = client!): Promise<GreyImage> => {
      const cap = await via.capture({ want: 'frame' });
      if (cap.kind !== 'frame') throw new PalmPayError('BENCH_FAILED', 'the module answered without a frame');
      return { width: cap.width, height: cap.height, pixels: cap.pixels };
    };

    const C = { transfer: [] as number[], pty_ei: [] as number[], memory_ei: [] as number[] };
    const P = { transfer: [] as number[], extract: [] as number[], identify: [] as number[], decide: [] as number[], tei: [] as number[], total: [] as number[] };
    const S = { transfer: [] as number[], tei: [] as number[], total: [] as number[], cpuTransfer: [] as number[] };
    const R = { transfer: [] as number[], tei: [] as number[], total: [] as number[] };
    const N = { packed: [] as number[], raw: [] as number[] };
    const M = { extract: [] as number[], identify: [] as number[], decide: [] as number[], ei: [] as number[], total: [] as number[] };
    for (let i = 0; i < o.scans; i++) {
      let received: GreyImage | null = null;
      const p = await scan(async () => (received = await overPty()));
      P.transfer.push(p.transfer);
      P.extract.push(p.extract);
      P.identify.push(p.identify);
      P.decide.push(p.decide);
      P.tei.push(p.transfer + p.extract + p.identify);
      P.total.push(p.total);
      C.transfer.push(p.cpuTransfer);
      C.pty_ei.push(p.cpuExtractIdentify);
      outcomes[`pty: ${p.key}`] = (outcomes[`pty: ${p.key}`] ?? 0) + 1;
      // The in-memory peer: the very frame that just crossed the wire (a copy), handed over without the wire. The
      // module's captures are not the bench's own renders pixel for pixel, and extraction time depends on the picture.
      const m = await scan({ ...received!, pixels: received!.pixels.slice() });
      M.extract.push(m.extract);
      M.identify.push(m.identify);
      M.decide.push(m.decide);
      M.ei.push(m.extract + m.identify);
      M.total.push(m.total);
      C.memory_ei.push(m.cpuExtractIdentify);
      outcomes[`memory: ${m.key}`] = (outcomes[`memory: ${m.key}`] ?? 0) + 1;
      if (peerClient) {
        const sp = await scan(() => overPty(peerClient!));
        S.transfer.push(sp.transfer);
        S.tei.push(sp.transfer + sp.extract + sp.identify);
        S.total.push(sp.total);
        S.cpuTransfer.push(sp.cpuTransfer);
        outcomes[`serialport peer: ${sp.key}`] = (outcomes[`serialport peer: ${sp.key}`] ?? 0) + 1;
      }
      if (rawClient) {
        const rp = await scan(() => overPty(rawClient));
        R.transfer.push(rp.transfer);
        R.tei.push(rp.transfer + rp.extract + rp.identify);
        R.total.push(rp.total);
        outcomes[`raw frames peer: ${rp.key}`] = (outcomes[`raw frames peer: ${rp.key}`] ?? 0) + 1;
      }
      if (nir) {
        // Real frames are not the enrolled customer's palm: their transfer alone is timed, packed and raw in turn.
        for (const [via, into] of i % 2 ? ([[nir.raw, N.raw], [nir.packed, N.packed]] as const) : ([[nir.packed, N.packed], [nir.raw, N.raw]] as const)) {
          const a = performance.now();
          await overPty(via);
          into.push(performance.now() - a);
        }
      }
      o.progress(peerClient ? 'scans (pty, in memory, serialport)' : 'scans (pty + in memory)', i + 1, o.scans);
    }

    // Peer 2: each stage alone, in its own loop.
    const alone = { transfer: [] as number[], extract: [] as number[], identify: [] as number[], decide: [] as number[] };
    const reps = Math.max(5, Math.min(o.scans, 30));
    const templates: Template[] = [];
    for (let i = 0; i < reps; i++) {
      const a = performance.now();
      await overPty();
      alone.transfer.push(performance.now() - a);
      o.progress('stages alone', i + 1, 4 * reps);
    }
    for (let i = 0; i < reps; i++) {
      const img = shots[i % shots.length]!;
      const a = performance.now();
      const read = templateFromFrame({ width: img.width, height: img.height, pixels: img.pixels });
      alone.extract.push(performance.now() - a);
      if (read.ok) templates.push(read.template);
      o.progress('stages alone', reps + i + 1, 4 * reps);
    }
    for (let i = 0; i < reps; i++) {
      const a = performance.now();
      if (templates.length) identifier.identify(templates[i % templates.length]!);
      alone.identify.push(performance.now() - a);
      o.progress('stages alone', 2 * reps + i + 1, 4 * reps);
    }
    for (let i = 0; i < reps; i++) {
      const a = performance.now();
      decide(BENCH_CUSTOMER);
      alone.decide.push(performance.now() - a);
      o.progress('stages alone', 3 * reps + i + 1, 4 * reps);
    }
    const caps = client.moduleCapabilities;
    const stats = client.stats;
    const packing = await measurePacking(shots, caps?.info?.canPackFrames === true, nir ? o.nirFrames! : null, frame);
    for (const e of extra.splice(0)) {
      await e.client.close();
      await e.module.stop();
    }
    await client.close();
    client = null;
    await module.stop();
    module = null;
    await peerClient?.close();
    peerClient = null;
    await peerModule?.stop();
    peerModule = null;
    terminal.close();

    let cold: ColdStartResult | null = null;
    if (o.coldStart) cold = await measureColdStart({ dataDir, centreUrl: centre.url, runs: o.coldStartRuns ?? 3, frame, progress: o.progress, log: o.log });

    const sumAlone = pct(alone.transfer, 50) + pct(alone.extract, 50) + pct(alone.identify, 50) + pct(alone.decide, 50);
    const tei = pp(P.tei);
    const ei = pp(M.ei);
    const total = pp(P.total);
    const { cpus, loadavg } = await import('node:os');
    return {
      n: folder.enrolled,
      scans: o.scans,
      frame: { ...frame, bytes: o.width * o.height },
      serial: { link: 'socat pty, 115200 8N1 set on both ends (a pty moves bytes at memory speed: the baud rate is not enforced)', capabilities: info.capabilities ?? [], chunk_bytes: caps?.info?.maxChunk ?? 0, window: caps?.info?.window ?? 1 },
      outcomes: { ...outcomes, ...(stats.retries ? { 'driver retries': stats.retries } : {}) },
      over_pty: { read_path: readPath, transfer: pp(P.transfer), extract: pp(P.extract), identify: pp(P.identify), decide: pp(P.decide), transfer_extract_identify: tei, total, ratio_to_in_memory: r2(tei.p50_ms / ei.p50_ms) },
      frame_packing: {
        ...packing,
        nir_frames: packing.nir_frames && N.packed.length ? { ...packing.nir_frames, transfer_packed: pp(N.packed), transfer_raw: pp(N.raw), transfer_packed_p50_to_raw: r2(pct(N.packed, 50) / pct(N.raw, 50)) } : null,
      },
      raw_frames_peer: R.transfer.length ? { read_path: readPath, transfer: pp(R.transfer), transfer_extract_identify: pp(R.tei), total: pp(R.total), ratio_to_in_memory: r2(pct(R.tei, 50) / ei.p50_ms), transfer_p50_to_peer: r2(pct(P.transfer, 50) / pct(R.transfer, 50)) } : null,
      serialport_peer: S.transfer.length
        ? { read_path: 'serialport', transfer: pp(S.transfer), transfer_extract_identify: pp(S.tei), total: pp(S.total), ratio_to_in_memory: r2(pct(S.tei, 50) / ei.p50_ms), transfer_p50_to_peer: r2(pct(P.transfer, 50) / pct(S.transfer, 50)), host_cpu_transfer_p50_ms: r2(pct(S.cpuTransfer, 50)) }
        : null,
      in_memory: { extract: pp(M.extract), identify: pp(M.identify), decide: pp(M.decide), extract_identify: ei, total: pp(M.total) },
      stages_alone: { transfer_p50_ms: r2(pct(alone.transfer, 50)), extract_p50_ms: r2(pct(alone.extract, 50)), identify_p50_ms: r2(pct(alone.identify, 50)), decide_p50_ms: r2(pct(alone.decide, 50)), sum_p50_ms: r2(sumAlone) },
      ratios: {
        transfer_extract_identify_p50_to_in_memory: r2(tei.p50_ms / ei.p50_ms),
        transfer_extract_identify_p95_to_in_memory: r2(tei.p95_ms / ei.p95_ms),
        total_p50_to_stage_sum: r2(total.p50_ms / sumAlone),
        cpu_transfer_extract_identify_p50_to_in_memory: r2(pct(C.transfer.map((t, i) => t + C.pty_ei[i]!), 50) / pct(C.memory_ei, 50)),
      },
      host_cpu: { transfer_p50_ms: r2(pct(C.transfer, 50)), extract_identify_over_pty_p50_ms: r2(pct(C.pty_ei, 50)), extract_identify_in_memory_p50_ms: r2(pct(C.memory_ei, 50)) },
      targets: {
        scan_to_decision_p95_ms: 250,
        meets_p95: total.p95_ms <= 250,
        ratio_max: 2,
        meets_ratio: tei.p50_ms / ei.p50_ms <= 2,
        cold_start_ms: 2000,
        meets_cold_start: cold ? cold.to_screen.p50_ms <= 2000 : null,
      },
      cold_start: cold,
      setup: { folder_s: r2(folderS), snapshot_bytes: folder.snapshotBytes },
      machine: { node: process.version, cpu_cores: cpus().length, loadavg_1m: r2(loadavg()[0] ?? 0), note: 'shared, noisy machine: compare the ratios measured in this run' },
    };
  } finally {
    await client?.close().catch(() => undefined);
    await module?.stop().catch(() => undefined);
    await peerClient?.close().catch(() => undefined);
    await peerModule?.stop().catch(() => undefined);
    for (const e of extra) {
      await e.client.close().catch(() => undefined);
      await e.module.stop().catch(() => undefined);
    }
    await centre.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Packing of the frames the module sends (the same 8 renders as module.ts) and, with a folder, of real NIR frames:
 * wire bytes / raw bytes, and the CPU of packing (the module's cost, measured here on this machine's cores) and
 * unpacking (this process's) per frame.
 */
async function measurePacking(shots: GreyImage[], packed: boolean, nirDir: string | null, frame: { width: number; height: number }) {
  const { packFrame, unpackFrame } = await import('../../drivers/serial-module/frame-packing.ts');
  const ratio = (imgs: GreyImage[]) => r2(imgs.reduce((a, img) => a + packFrame(img.pixels, img.width).length / img.pixels.length, 0) / imgs.length);
  const pack: number[] = [];
  const unpack: number[] = [];
  for (let i = 0; i < 24; i++) {
    const img = shots[i % shots.length]!;
    const a = performance.now();
    const p = packFrame(img.pixels, img.width);
    const b = performance.now();
    unpackFrame(p, img.width, img.height);
    unpack.push(performance.now() - b);
    pack.push(b - a);
  }
  let nir: { source: string; wire_bytes_to_raw: number } | null = null;
  if (nirDir) {
    const { folderSource } = await import('../../drivers/sim/sources.ts');
    const real = await folderSource(nirDir, frame);
    const imgs: GreyImage[] = [];
    for (const id of real.identities.slice(0, 30)) imgs.push(await real.image(id, 1, 0));
    nir = { source: `${real.identities.length} identities in ${nirDir} resized to ${frame.width}×${frame.height} (first sample of 30 of them)`, wire_bytes_to_raw: ratio(imgs) };
  }
  return {
    encoding: packed ? ('up+deflate' as const) : ('raw' as const),
    synthetic_wire_bytes_to_raw: packed ? ratio(shots) : 1,
    module_pack_cpu_p50_ms: r2(pct(pack, 50)),
    host_unpack_cpu_p50_ms: r2(pct(unpack, 50)),
    nir_frames: nir,
  };
}
