// The kiosk with `--sim-images`: the simulated scanner shows REAL palm images (CASIA 940 nm dev data), the demo is
// enrolled from each hand's session-1 images and identified from its session-2 images. Skips without the data.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';

const DATA = join(import.meta.dirname, '../../../shared/data/casia-ms-940-dev');

describe.skipIf(!existsSync(DATA))('kiosk over real palm images (--sim-images)', () => {
  let dir: string;
  let k: Kiosk;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-real-'));
    k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: false, simImages: DATA });
  });
  afterAll(async () => {
    await k?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, identifies a payee cross-session, and tells a duplicate and a stranger apart', async () => {
    await expect.poll(() => k!.status.palms.status().state).toBe('ready'); // loaded after the kiosk is up
    expect(k.identifier.size).toBe(16);
    expect(k.placeholders[0]!.description).toContain('real palm images');
    k.host.sessionSend({ type: 'login.start' });
    k.present({ identity: 'op-cashier' });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    k.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await k.host.waitForSession((s) => s.step === 'active');
    const pay = k.host.start('payout');
    k.present({ identity: 'emp-ahmad', sample: 2 });
    await k.host.waitFor(pay.flowId, (s) => s.step === 'review');
    for (const [who, reason] of [['twin', 'ambiguous'], ['stranger', 'unknown-palm']] as const) {
      const f = k.host.start('payout');
      k.present({ identity: who });
      expect(await k.host.waitFor(f.flowId, (s) => s.step === 'refused')).toMatchObject({ reason });
    }
  });
});
