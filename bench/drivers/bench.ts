/**
 * The drivers bench: frames from the simulated serial module over a socat pty, through SerialTransport on both
 * ends (its default read path: Node's tty stream on Linux). Reports frame-transfer throughput and capture-to-frame
 * latency, and as peers measured in the same run: the raw pty throughput (the same bytes, written with no
 * protocol), and unless `serialportPeer` is false, the same frames with the host reading through serialport (the
 * read path before `directReads`; the module's side unchanged, as a device's would be).
 * Images are rendered before timing starts, so the figures are the wire's, not the image generator's.
 */
import { ScannerClient } from '../../drivers/client/client.ts';
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import { syntheticPalm, type GreyImage } from '../../drivers/sim/synthetic-palm.ts';
import { PtyPair } from '../../drivers/sim/pty.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { DriverError } from '../../drivers/errors.ts';
import { maxOf } from '../../src/util/arrays.ts';

export interface DriversBenchOptions {
  frames: number;
  width: number;
  height: number;
  chunkBytes?: number;
  /** Also capture the frames with the host's side on serialport's reads (default on). */
  serialportPeer?: boolean;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface DriversBenchResult {
  frames: number;
  width: number;
  height: number;
  frame_bytes: number;
  chunk_bytes: number;
  exchanges_per_frame: number;
  transfer_MB_per_s: number;
  raw_pty_MB_per_s: number;
  ratio_to_raw_pty: number;
  capture_to_frame_p50_ms: number;
  capture_to_frame_p95_ms: number;
  capture_to_frame_max_ms: number;
  raw_pty_frame_p50_ms: number;
  frames_per_s: number;
  /** The host's read path in the main run. */
  read_path: string;
  p50_ms: number;
  p95_ms: number;
  /** Peer: the host reading through serialport; null when skipped. */
  serialport_peer: { p50_ms: number; p95_ms: number; transfer_MB_per_s: number } | null;
  /** capture-to-frame p50, this run / the serialport peer. */
  ratio_to_serialport_peer: number | null;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

/** The peer: push the same frame bytes through a pty pair in 4 KiB writes, no protocol. */
async function rawPty(frames: number, bytes: number, onProgress?: DriversBenchOptions['onProgress']): Promise<{ mbps: number; p50: number }> {
  const pty = await PtyPair.start();
  const a = new SerialTransport({ path: pty.hostPath });
  const b = new SerialTransport({ path: pty.devicePath });
  try {
    await a.open();
    await b.open();
    const payload = new Uint8Array(bytes).map((_, i) => i & 0xff);
    let received = 0;
    let want = 0;
    let wake: (() => void) | null = null;
    b.on('data', (d) => {
      received += d.length;
      if (received >= want) wake?.();
    });
    const times: number[] = [];
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      const s = performance.now();
      want += bytes;
      const done = new Promise<void>((resolve) => (wake = resolve));
      for (let o = 0; o < bytes; o += 4096) await a.write(payload.subarray(o, o + 4096));
      if (received < want) await done;
      times.push(performance.now() - s);
      onProgress?.('raw pty (peer)', f + 1, frames);
    }
    const secs = (performance.now() - t0) / 1000;
    return { mbps: (frames * bytes) / secs / 1e6, p50: pct(times, 50) };
  } finally {
    await a.close();
    await b.close();
    await pty.stop();
  }
}

export async function runDriversBench(o: DriversBenchOptions): Promise<DriversBenchResult> {
  if (!(o.frames >= 1) || !(o.width >= 8 && o.width <= 2048) || !(o.height >= 8 && o.height <= 2048)) throw new DriverError('CONFIG_INVALID', 'bench: frames ≥ 1, sizes 8..2048');
  // Pre-rendered images, so timing measures the wire.
  const images: GreyImage[] = [];
  for (let i = 0; i < Math.min(o.frames, 8); i++) {
    images.push(syntheticPalm(`bench${i}`, 1, 0, o.width, o.height));
    o.onProgress?.('render images', i + 1, Math.min(o.frames, 8));
  }
  let shot = 0;
  const chunk = o.chunkBytes ?? 4096;
  /** A module on its own pty, the host's side on the given read path, warmed up. */
  const link = async (directReads: boolean | undefined) => {
    const sim = new SimulatedScanner({ protocol: 'serial', width: o.width, height: o.height, source: { name: 'pre-rendered', image: async () => images[shot++ % images.length]! } });
    sim.autoPresent(() => ({ identity: 'bench' }));
    const pty = await sim.startPty();
    const transport = new SerialTransport({ path: pty.hostPath, directReads });
    const client = new ScannerClient(transport, { serial: { chunkBytes: chunk } });
    const figures = { lat: [] as number[], bytes: 0, secs: 0, readPath: 'closed' };
    const close = async () => {
      await client.close().catch(() => undefined);
      await sim.stop();
    };
    try {
      await client.open();
      await client.info();
      await client.capture(); // warm-up, not timed
    } catch (err) {
      await close();
      throw err;
    }
    figures.readPath = transport.readPath ?? 'closed';
    const capture = async () => {
      const s = performance.now();
      const cap = await client.capture();
      const ms = performance.now() - s;
      figures.lat.push(ms);
      figures.secs += ms / 1000;
      if (cap.kind === 'frame') figures.bytes += cap.pixels.length;
    };
    return { figures, capture, close };
  };
  // Captures alternate between the two links, so both see the same machine load.
  const mainLink = await link(undefined);
  const peerLink = (o.serialportPeer ?? true) ? await link(false).catch(async (err: unknown) => {
    await mainLink.close();
    throw err;
  }) : null;
  try {
    for (let f = 0; f < o.frames; f++) {
      await mainLink.capture();
      await peerLink?.capture();
      o.onProgress?.(peerLink ? 'frames (direct, serialport)' : 'frames over the pty', f + 1, o.frames);
    }
  } finally {
    await mainLink.close();
    await peerLink?.close();
  }
  const main = mainLink.figures;
  const peer = peerLink?.figures ?? null;
  const { lat, bytes, secs } = main;
  const frameBytes = o.width * o.height;
  const raw = await rawPty(o.frames, frameBytes, o.onProgress);
  const mbps = bytes / secs / 1e6;
  return {
    frames: o.frames,
    width: o.width,
    height: o.height,
    frame_bytes: frameBytes,
    chunk_bytes: chunk,
    exchanges_per_frame: 1 + Math.ceil(frameBytes / chunk),
    transfer_MB_per_s: r2(mbps),
    raw_pty_MB_per_s: r2(raw.mbps),
    ratio_to_raw_pty: r2(mbps / raw.mbps),
    capture_to_frame_p50_ms: r2(pct(lat, 50)),
    capture_to_frame_p95_ms: r2(pct(lat, 95)),
    capture_to_frame_max_ms: r2(maxOf(lat)),
    raw_pty_frame_p50_ms: r2(raw.p50),
    frames_per_s: r2(o.frames / secs),
    read_path: main.readPath,
    p50_ms: r2(pct(lat, 50)),
    p95_ms: r2(pct(lat, 95)),
    serialport_peer: peer ? { p50_ms: r2(pct(peer.lat, 50)), p95_ms: r2(pct(peer.lat, 95)), transfer_MB_per_s: r2(peer.bytes / peer.secs / 1e6) } : null,
    ratio_to_serialport_peer: peer ? r2(pct(lat, 50) / pct(peer.lat, 50)) : null,
  };
}
