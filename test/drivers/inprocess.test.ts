// The ScannerClient against the in-process simulator, both protocols: capture, palm script, busy,
// abort, unresponsive device, unplug/replug.
import { SIM_FEATURE_BYTES } from '../../drivers/serial-module/feature-families.ts';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeImageFile, folderSource } from '../../drivers/sim/sources.ts';
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import type { InProcessScanner } from '../../drivers/sim/simulator.ts';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { DriverError } from '../../drivers/errors.ts';

const open: Array<InProcessScanner> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function setup(protocol: 'serial' | 'hid', size = { width: 160, height: 120 }) {
  const sim = new SimulatedScanner({ protocol, ...size });
  const s = await sim.connectInProcess({ connection: { backoff: { initialMs: 20, maxMs: 100 } } });
  open.push(s);
  return { sim, ...s };
}

describe.each(['serial', 'hid'] as const)('in-process %s scanner', (protocol) => {
  it('reports info and captures the scripted palm intact', async () => {
    const { sim, client } = await setup(protocol);
    const info = await client.info();
    expect(info.kind).toBe(protocol === 'serial' ? 'serial-module' : 'hid-image');
    expect([info.width, info.height]).toEqual([160, 120]);
    sim.enqueue({ identity: 'alice', sample: 2 });
    const palm = await client.waitForPalm({ timeoutMs: 2000 });
    expect(palm.state).toBe('present');
    const cap = await client.capture();
    if (cap.kind !== 'frame') throw new Error('expected a frame');
    expect(Buffer.from(cap.pixels).equals(Buffer.from(syntheticPalm('alice', 2, 0, 160, 120).pixels))).toBe(true);
  });

  it('sets the indicator (and the exposure on HID), resets, and keeps working', async () => {
    const { sim, client } = await setup(protocol);
    await client.setIndicator('ok', { beepMs: 120 });
    expect(sim.device.indicator).toEqual({ led: 'ok', beepMs: 120 });
    if (protocol === 'hid') {
      await client.setExposure(1800);
      expect((sim.device as { exposureUs: number }).exposureUs).toBe(1800);
    } else await expect(client.setExposure(1800)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await client.reset();
    await expect(client.info()).resolves.toMatchObject({ width: 160 });
  });

  it('gives a typed busy error to a second caller, and honours abort', async () => {
    const { client } = await setup(protocol);
    const ac = new AbortController();
    const waiting = client.waitForPalm({ signal: ac.signal });
    await expect(client.info()).rejects.toMatchObject({ code: 'SCANNER_BUSY' });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'SCANNER_ABORTED' });
    await expect(client.info()).resolves.toMatchObject({ width: 160 });
  });

  it('aborts a capture in the middle of a frame, typed, and captures again afterwards', async () => {
    const { sim, client } = await setup(protocol, { width: 320, height: 240 });
    sim.autoPresent(() => ({ identity: 'dana' }));
    const ac = new AbortController();
    sim.onFrameBytes((offset) => offset > 10_000 && ac.abort());
    await expect(client.capture({ signal: ac.signal })).rejects.toMatchObject({ code: 'SCANNER_ABORTED' });
    sim.onFrameBytes(null);
    await expect(client.capture()).resolves.toMatchObject({ kind: 'frame', width: 320 });
  });

  it('times out on a silent device, reports unresponsive, and recovers when it answers again', async () => {
    const { sim, client } = await setup(protocol);
    const states: string[] = [];
    client.on('state', (s) => states.push(s));
    sim.silent = true;
    const err = await client.info({ timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).code).toBe('SCANNER_UNRESPONSIVE');
    expect(states).toContain('unresponsive');
    sim.silent = false;
    await expect(client.info()).resolves.toMatchObject({ height: 120 });
    expect(client.state).toBe('ready');
  });

  it('recovers from an unplug in the middle of a frame within 2 s', async () => {
    const { sim, client, unplugMidFrame } = await setup(protocol, { width: 320, height: 240 });
    sim.autoPresent(() => ({ identity: 'bob' }));
    const states: string[] = [];
    client.on('state', (s) => states.push(s));
    unplugMidFrame({ afterBytes: 20_000, downMs: 100 });
    const first = await client.capture({ timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(states).toContain('disconnected');
    const t0 = Date.now();
    // The interrupted capture either failed typed or was retried transparently after the reconnect.
    if (first instanceof Error) expect(first).toBeInstanceOf(DriverError);
    const cap = await client.capture({ timeoutMs: 5000 });
    expect(cap.kind).toBe('frame');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('serial module user store', () => {
  it('enrols, verifies, moves features and deletes on the module', async () => {
    const { sim, client } = await setup('serial');
    sim.present('carol');
    const { userId: id } = await client.enrol({ name: 'pp-carol', timeoutS: 2 });
    await expect(client.verify()).resolves.toMatchObject({ userId: id, name: 'pp-carol', verdictUnconfirmed: true, evidence: { kind: 'capture_feature' } });
    const feat = await client.getFeature(id);
    expect(feat.length).toBe(SIM_FEATURE_BYTES);
    await client.putFeature(77, 'pp-carol-2', feat);
    await expect(client.getFeature(77)).resolves.toEqual(feat);
    await expect(client.users()).resolves.toContainEqual({ userId: 77, name: 'pp-carol-2', admin: false });
    await client.deleteUser(77);
    await client.putFeature(77, 'pp-carol-2', feat);
    await expect(client.putFeature(78, 'Carol Haddad', feat)).rejects.toMatchObject({ code: 'CONFIG_BAD_PSEUDONYM' });
    await client.deleteUser(77);
    await client.deleteUser(id);
    await expect(client.verify()).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
    await client.deleteAll();
    await expect(client.getFeature(77)).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
    const cap = await client.capture({ want: 'feature' });
    expect(cap.kind).toBe('feature');
  });

  it('says NO_PALM when nobody presents a palm', async () => {
    const { client } = await setup('serial');
    await expect(client.capture({ timeoutMs: 5000 })).rejects.toMatchObject({ code: 'NO_PALM' });
  });
});

const CASIA = new URL('../../../shared/data/casia-ms-940-dev/', import.meta.url).pathname;
describe.skipIf(!existsSync(CASIA))('folder image source (CASIA 940 nm dev set)', () => {
  it('serves the real 768×576 images, byte for byte', async () => {
    const source = await folderSource(CASIA);
    expect(source.identities.length).toBeGreaterThan(0);
    const sim = new SimulatedScanner({ protocol: 'hid', width: 768, height: 576, source });
    const s = await sim.connectInProcess();
    open.push(s);
    sim.present({ identity: '002', sample: 4 });
    const cap = await s.client.capture();
    const want = await decodeImageFile(`${CASIA}002_l_940_04.jpg`);
    expect(cap).toMatchObject({ kind: 'frame', width: 768, height: 576 });
    if (cap.kind === 'frame') expect(Buffer.compare(Buffer.from(cap.pixels), Buffer.from(want.pixels))).toBe(0);
  });
});
if (!existsSync(CASIA)) console.log(`skipping the folder-source test: ${CASIA} is absent`);
