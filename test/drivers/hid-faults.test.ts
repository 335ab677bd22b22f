// The HID path with faults: HidTransport over an in-memory node-hid-like device, 200 frames with
// faults in 5 % of exchanges and transfers (lost, duplicated, corrupt chunks, stalls, restarts).
import { afterAll, describe, expect, it } from 'vitest';
import { DriverError, type DriverErrorCode } from '../../drivers/errors.ts';
import type { FaultKind } from '../../drivers/sim/faults.ts';
import type { SimHidScanner } from '../../drivers/sim/hid-scanner.ts';
import { SimulatedScanner, type InProcessScanner } from '../../drivers/sim/simulator.ts';
import { syntheticSource } from '../../drivers/sim/sources.ts';
import { crc32 } from '../../drivers/util/crc32.ts';

describe('HID scanner with injected faults', () => {
  let s: InProcessScanner | null = null;
  afterAll(async () => s?.close());

  it('captures 200 frames; every accepted frame is one the device sent, every fault typed or retried', async () => {
    const W = 200;
    const H = 150;
    const produced = new Set<number>();
    const base = syntheticSource({ width: W, height: H });
    const sim = new SimulatedScanner({
      protocol: 'hid',
      width: W,
      height: H,
      faults: { rate: 0.05, seed: 7, delayMs: [10, 500] },
      source: { name: 'rec', image: async (...a) => { const i = await base.image(...a); produced.add(crc32(i.pixels)); return i; } },
    });
    let n = 0;
    sim.autoPresent(() => ({ identity: `h${n++ % 5}` }));
    s = await sim.connectInProcess({ hid: { exchangeTimeoutMs: 150, chunkTimeoutMs: 150 } });
    let ok = 0;
    let calls = 0;
    const failures: Record<string, number> = {};
    while (ok < 200 && calls < 260) {
      calls++;
      try {
        const cap = await s.client.capture({ timeoutMs: 10_000 });
        if (cap.kind !== 'frame') throw new Error('frame expected');
        expect(produced.has(crc32(cap.pixels))).toBe(true);
        ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(DriverError);
        failures[(err as DriverError).code] = (failures[(err as DriverError).code] ?? 0) + 1;
      }
    }
    const dev = sim.device as SimHidScanner;
    console.log(JSON.stringify({ frames_ok: ok, capture_calls: calls, exchanges: dev.faults.exchanges, faults_injected: dev.faults.counts, typed_faults_seen: s.client.stats.faults, retries: s.client.stats.retries, failed_captures_by_code: failures }, null, 1));
    expect(ok).toBe(200);
    const observed = Object.values(s.client.stats.faults).reduce((a, b) => a + (b ?? 0), 0);
    expect(observed).toBeGreaterThanOrEqual(dev.faults.injected - (dev.faults.counts.delay ?? 0));
  }, 120_000);
});

// One fault kind at a time, on every exchange it can apply to: the capture still succeeds (by a
// bounded retry) and the fault shows up under its own typed code.
// [fault, the typed code it must show up as, rate]: faults that cost a timeout or a whole new
// capture get lower rates so the test stays fast and each capture can still succeed.
// The last column: whether recovery needs a retry (a duplicate or leading garbage is just dropped).
const HID_CASES: Array<[FaultKind, DriverErrorCode, number, boolean]> = [
  ['drop_chunk', 'PROTO_CHUNK_LOST', 0.3, true],
  ['dup_chunk', 'PROTO_CHUNK_DUP', 0.3, false],
  ['corrupt_chunk', 'PROTO_CRC', 0.3, true],
  ['stall', 'PROTO_TRANSFER_TIMEOUT', 0.2, true],
  ['garbage', 'PROTO_BAD_REPORT', 0.3, false],
  ['power_up', 'DEVICE_RESTARTED', 0.15, true],
  ['drop', 'SCANNER_TIMEOUT', 0.1, true],
  ['duplicate', 'PROTO_STALE_REPLY', 0.3, false],
];
const SERIAL_CASES: Array<[FaultKind, DriverErrorCode, number, boolean]> = [
  ['garbage', 'PROTO_GARBAGE', 0.3, false],
  ['bitflip', 'PROTO_PARITY', 0.1, true],
  ['drop', 'SCANNER_TIMEOUT', 0.06, true],
  ['duplicate', 'PROTO_STALE_REPLY', 0.3, false],
  ['truncate', 'PROTO_TRUNCATED', 0.06, true],
  ['power_up', 'DEVICE_RESTARTED', 0.04, true],
];

describe.each([
  ['hid', HID_CASES],
  ['serial', SERIAL_CASES],
] as const)('%s: each fault kind surfaces typed and is retried', (protocol, cases) => {
  it.each(cases)('%s → %s', async (kind, code, rate, needsRetry) => {
    const sim = new SimulatedScanner({ protocol, width: 96, height: 72, faults: { rate, kinds: [kind], seed: 3 } });
    sim.autoPresent(() => ({ identity: 'k' }));
    const s = await sim.connectInProcess({ hid: { exchangeTimeoutMs: 100, chunkTimeoutMs: 100, resendAttempts: 8 }, serial: { exchangeTimeoutMs: 100, attempts: 8, chunkBytes: 512, captureAttempts: 5 } });
    try {
      let ok = 0;
      for (let i = 0; i < 8; i++) {
        const cap = await s.client.capture({ timeoutMs: 10_000 }).catch((e: unknown) => {
          expect(e).toBeInstanceOf(DriverError);
          return null;
        });
        if (cap?.kind === 'frame' && cap.pixels.length === 96 * 72) ok++;
      }
      if (process.env.DEBUG_FAULTS) console.log(kind, ok, sim.device.faults.counts, s.client.stats);
      expect(sim.device.faults.counts[kind] ?? 0).toBeGreaterThan(0);
      expect(s.client.stats.faults[code] ?? 0).toBeGreaterThan(0);
      if (needsRetry) expect(s.client.stats.retries).toBeGreaterThan(0);
      expect(ok).toBeGreaterThanOrEqual(6);
    } finally {
      await s.close();
    }
  });
});
