// The demo's simulator panel: only with --demo (or test hooks); it lays real synthetic palms through the real pipeline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { kioskHandlers } from '../../src/host/kiosk-handlers.ts';

let dir: string;
let k: Kiosk;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-simpanel-'));
  k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true } });
});
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulator panel', () => {
  it('is refused on a production terminal (neither --demo nor test hooks)', () => {
    const h = kioskHandlers(k, { testHooks: false, demo: false });
    expect(() => h['sim.palms']()).toThrow(expect.objectContaining({ code: 'SIM_PANEL_OFF' }));
    expect(() => h['sim.present']({ palm: 'op-cashier' })).toThrow(expect.objectContaining({ code: 'SIM_PANEL_OFF' }));
    expect(() => h['test.present']({ identity: 'op-cashier' })).toThrow(expect.objectContaining({ code: 'TEST_HOOKS_DISABLED' }));
  });

  it('in demo mode lists the demo hands plus a stranger, refuses others, and a laid palm signs the cashier in', async () => {
    const h = kioskHandlers(k, { testHooks: false, demo: true });
    const { palms } = h['sim.palms']();
    expect(palms).toEqual(expect.arrayContaining(['op-cashier', 'emp-ahmad', 'twin', 'stranger']));
    expect(() => h['sim.present']({ palm: 'nobody' })).toThrow(expect.objectContaining({ code: 'SIM_UNKNOWN_PALM' }));
    expect(() => h['test.fault']({ linkUp: false })).toThrow(expect.objectContaining({ code: 'TEST_HOOKS_DISABLED' }));

    k.host.sessionSend({ type: 'login.start' });
    expect(h['sim.present']({ palm: 'op-cashier' })).toEqual({ ok: true });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    k.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    expect(await k.host.waitForSession((s) => s.step === 'active')).toMatchObject({ step: 'active' });
  });
});
