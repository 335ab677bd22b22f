/**
 * The drivers bench: frames from the simulated serial module over a socat pty, through the real
 * SerialPort on both ends. Reports frame-transfer throughput and capture-to-frame latency, and as the
 * peer measured in the same run, the raw pty throughput (the same bytes, written with no protocol).
 * Images are rendered before timing starts, so the figures are the wire's, not the image generator's.
 */
import { ScannerClient } from '../../drivers/client/client.ts';
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import { syntheticPalm, type GreyImage } from '../../drivers/sim/synthetic-palm.ts';
import { PtyPair } from '../../drivers/sim/pty.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { DriverError } from '../../drivers/errors.ts';

export interface DriversBenchOptions {
  frames: number;
  width: number;
  height: number;
  chunkBytes?: number;
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
  const sim = new SimulatedScanner({ protocol: 'serial', width: o.width, height: o.height, source: { name: 'pre-rendered', image: async () => images[shot++ % images.length]! } });
  sim.autoPresent(() => ({ identity: 'bench' }));
  const pty = await sim.startPty();
  const chunk = o.chunkBytes ?? 4096;
  const client = new ScannerClient(new SerialTransport({ path: pty.hostPath }), { serial: { chunkBytes: chunk } });
  const lat: number[] = [];
  let bytes = 0;
  let secs = 0;
  try {
    await client.open();
    await client.info();
    await client.capture(); // warm-up, not timed
    const t0 = performance.now();
    for (let f = 0; f < o.frames; f++) {
      const s = performance.now();
      const cap = await client.capture();
      lat.push(performance.now() - s);
      if (cap.kind === 'frame') bytes += cap.pixels.length;
      o.onProgress?.('frames over the pty', f + 1, o.frames);
    }
    secs = (performance.now() - t0) / 1000;
  } finally {
    await client.close();
    await sim.stop();
  }
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
    capture_to_frame_max_ms: r2(Math.max(...lat)),
    raw_pty_frame_p50_ms: r2(raw.p50),
    frames_per_s: r2(o.frames / secs),
  };
}
