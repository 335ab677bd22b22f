// Acceptance over a real socat pty with the real SerialPort on both ends, for each simulator dialect:
// frames with faults in 5 % of exchanges (no corrupt frame accepted, every fault typed or retried), and
// unplug/replug. The family and palm dialects upload JPEG files the family's way (no CRC): an accepted
// frame must be the picture the module took, up to JPEG's loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerClient } from '../../drivers/client/client.ts';
import { DriverError } from '../../drivers/errors.ts';
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import { syntheticSource } from '../../drivers/sim/sources.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { crc32 } from '../../drivers/util/crc32.ts';
import type { PtyPair } from '../../drivers/sim/pty.ts';
import { SERIAL_DIALECTS, type SimSerialModule } from '../../drivers/sim/serial-module.ts';

const W = 320;
const H = 240;

/** Mean absolute difference of two equal-sized frames. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe.each(SERIAL_DIALECTS)('serial scanner over a socat pty (%s dialect)', (dialect) => {
  let sim: SimulatedScanner;
  let pty: PtyPair;
  let client: ScannerClient;
  const produced = new Map<number, Uint8Array>(); // crc → every image the simulator ever sent
  const lossless = dialect === 'extended';
  const FRAMES = lossless ? 200 : 40;

  beforeAll(async () => {
    const base = syntheticSource({ width: W, height: H });
    const source = {
      name: 'recorded synthetic',
      async image(id: string, sample: number, shot: number) {
        const img = await base.image(id, sample, shot);
        produced.set(crc32(img.pixels), img.pixels);
        return img;
      },
    };
    sim = new SimulatedScanner({ protocol: 'serial', dialect, width: W, height: H, source, faults: { rate: 0.05, seed: 42 } });
    let n = 0;
    sim.autoPresent(() => ({ identity: `id${n % 7}`, sample: 1 + (n++ % 3) }));
    pty = await sim.startPty();
    client = new ScannerClient(new SerialTransport({ path: pty.hostPath }), {
      serial: { exchangeTimeoutMs: 200, familySnapTimeoutMs: 1500 },
      connection: { backoff: { initialMs: 25, maxMs: 200 } },
    });
    await client.open({ timeoutMs: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  it('captures frames with 5 % faulty exchanges; no corrupt frame is ever accepted', async () => {
    // The extended dialect's frames cross packed (PP_INFO bit 4), so the faults land in packed streams too.
    if (dialect === 'extended') expect((await client.info()).capabilities).toContain('pp_packed_frames');
    let ok = 0;
    let calls = 0;
    const failures: Record<string, number> = {};
    while (ok < FRAMES && calls < FRAMES * 1.3) {
      calls++;
      try {
        const cap = await client.capture({ timeoutMs: 10_000 });
        if (cap.kind !== 'frame') throw new Error('expected a frame');
        expect([cap.width, cap.height]).toEqual([W, H]);
        if (lossless) {
          const sent = produced.get(crc32(cap.pixels));
          expect(sent, 'an accepted frame must be byte-identical to one the simulator sent').toBeDefined();
          expect(Buffer.compare(Buffer.from(sent!), Buffer.from(cap.pixels))).toBe(0);
        } else {
          const best = Math.min(...[...produced.values()].slice(-6).map((p) => meanAbsDiff(p, cap.pixels)));
          expect(best, 'an accepted frame must be a picture the module took (up to JPEG loss)').toBeLessThan(2.5);
        }
        ok++;
      } catch (err) {
        expect(err, 'every failure is typed').toBeInstanceOf(DriverError);
        const code = (err as DriverError).code;
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
    const device = sim.device as SimSerialModule;
    const injected = device.faults.counts;
    const injectedTotal = device.faults.injected;
    const observed = Object.values(client.stats.faults).reduce((a, b) => a + (b ?? 0), 0);
    console.log(
      JSON.stringify({ dialect, frames_ok: ok, capture_calls: calls, exchanges_served: device.faults.exchanges, faults_injected: injected, faults_injected_total: injectedTotal, typed_faults_seen: client.stats.faults, retries: client.stats.retries, failed_captures_by_code: failures }, null, 1),
    );
    expect(ok).toBe(FRAMES);
    expect(injectedTotal / device.faults.exchanges).toBeGreaterThan(0.03);
    expect(injectedTotal / device.faults.exchanges).toBeLessThan(0.07);
    // Every injected fault other than a short delay is visible as a typed fault event.
    expect(observed).toBeGreaterThanOrEqual(injectedTotal - (injected.delay ?? 0));
    expect(client.stats.retries).toBeGreaterThan(0);
  }, 150_000);

  it('recovers within 2 s when the device end disappears mid-frame and comes back', async () => {
    const device = sim.device as SimSerialModule;
    device.faults.plan.rate = 0;
    const states: string[] = [];
    client.on('state', (s) => states.push(s));
    let replugAt = 0;
    let pulled = false;
    device.onUploadChunk = (offset, total) => {
      if (pulled || offset < total / 2) return;
      pulled = true;
      void pty.unplug().then(async () => {
        await new Promise((r) => setTimeout(r, 300));
        await pty.replug();
        replugAt = Date.now();
      });
    };
    const first = await client.capture({ timeoutMs: 8000 }).catch((e: unknown) => e);
    expect(pulled).toBe(true);
    if (first instanceof Error) expect(first).toBeInstanceOf(DriverError);
    while (!replugAt) await new Promise((r) => setTimeout(r, 20));
    const cap = await client.capture({ timeoutMs: 5000 });
    expect(cap.kind).toBe('frame');
    const recoveredMs = Date.now() - replugAt;
    console.log(JSON.stringify({ unplug_first_capture: first instanceof DriverError ? first.code : 'ok', recovered_ms_after_replug: recoveredMs, states }));
    expect(recoveredMs).toBeLessThan(2000);
    expect(states).toContain('disconnected');
  }, 30_000);
});

// The windowed image upload (PP_UPLOAD, several chunk requests in flight) over the real pty at the edges of its range:
// one request at a time (a module whose PP_INFO says window 1, an older one: raw frames, no bit 4) and the driver's
// most (16, frames packed), each with 5 % of the
// module's answers dropped, garbled (garbage, a flipped bit, cut short), duplicated or late. Every accepted frame
// must be byte-identical to one the module took.
describe.each([1, 16])('windowed image upload over a socat pty (module window %i)', (window) => {
  let sim: SimulatedScanner;
  let client: ScannerClient;
  const produced = new Map<number, Uint8Array>();

  beforeAll(async () => {
    const base = syntheticSource({ width: W, height: H });
    const source = {
      name: 'recorded synthetic',
      async image(id: string, sample: number, shot: number) {
        const img = await base.image(id, sample, shot);
        produced.set(crc32(img.pixels), img.pixels);
        return img;
      },
    };
    sim = new SimulatedScanner({ protocol: 'serial', dialect: 'extended', window, packFrames: window > 1, width: W, height: H, source, faults: { rate: 0.05, seed: 7 + window, kinds: ['drop', 'garbage', 'bitflip', 'truncate', 'duplicate', 'delay'] } });
    let n = 0;
    sim.autoPresent(() => ({ identity: `id${n % 5}`, sample: 1 + (n++ % 3) }));
    const pty = await sim.startPty();
    client = new ScannerClient(new SerialTransport({ path: pty.hostPath }), { serial: { exchangeTimeoutMs: 200 }, connection: { backoff: { initialMs: 25, maxMs: 200 } } });
    await client.open({ timeoutMs: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  it('gets the exact bytes of every frame through dropped and garbled answers', async () => {
    await client.info();
    expect(client.moduleCapabilities?.info?.window).toBe(window);
    expect(client.moduleCapabilities?.info?.canPackFrames).toBe(window > 1);
    const FRAMES = 40;
    let ok = 0;
    let calls = 0;
    while (ok < FRAMES && calls < FRAMES * 1.3) {
      calls++;
      const cap = await client.capture({ want: 'frame', timeoutMs: 10_000 }).catch((err: unknown) => {
        expect(err, 'every failure is typed').toBeInstanceOf(DriverError);
        return null;
      });
      if (!cap) continue;
      if (cap.kind !== 'frame') throw new Error('expected a frame');
      const sent = produced.get(crc32(cap.pixels));
      expect(sent, 'an accepted frame must be byte-identical to one the simulator sent').toBeDefined();
      expect(Buffer.compare(Buffer.from(sent!), Buffer.from(cap.pixels))).toBe(0);
      ok++;
    }
    const device = sim.device as SimSerialModule;
    console.log(JSON.stringify({ window, frames_ok: ok, capture_calls: calls, faults_injected: device.faults.counts, retries: client.stats.retries }));
    expect(ok).toBe(FRAMES);
    expect(device.faults.counts.drop ?? 0, 'answers were dropped').toBeGreaterThan(0);
    expect((device.faults.counts.garbage ?? 0) + (device.faults.counts.bitflip ?? 0) + (device.faults.counts.truncate ?? 0), 'answers were garbled').toBeGreaterThan(0);
    expect(client.stats.retries).toBeGreaterThan(0);
  }, 120_000);
});
