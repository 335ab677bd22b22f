// The composed kiosk across restarts: the first start rebuilds the palm index from the rows and writes the sealed
// index snapshot; the next start loads the snapshot and recognises palms through it (operator login, a statement);
// a revocation from the feed reaches the running index.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk, type KioskOptions } from '../../src/host/compose.ts';

let dir: string;
let k: Kiosk | undefined;
const logs: string[] = [];
const options = (): KioskOptions => ({
  dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true },
  hooks: { log: (m) => void logs.push(m) },
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-restart-'));
});
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kiosk restart through the palm index snapshot', () => {
  it('first start rebuilds and writes the snapshot; the restart loads it and identifies palms through it', async () => {
    k = await createKiosk(options());
    // The index loads after the kiosk is up (cold start: after the first screen, here at once): wait for it.
    await expect.poll(() => k!.status.palms.status().state).toBe('ready');
    expect(logs.find((m) => m.startsWith('palm index: snapshot missing; rebuilt from the rows'))).toBeDefined();
    expect(logs.find((m) => m.startsWith('palm index: snapshot written (16 templates'))).toBeDefined();
    await k.close();
    k = undefined;

    logs.length = 0;
    k = await createKiosk(options());
    await expect.poll(() => k!.status.palms.status().state).toBe('ready');
    expect(logs.find((m) => m.startsWith('palm index: loaded from the snapshot (16 templates; 0 added since opened'))).toBeDefined();
    expect(k.identifier.size).toBe(16);

    // Operator login is palm + PIN: the operator's palm is identified through the snapshot-loaded index.
    k.host.sessionSend({ type: 'login.start' });
    k.present({ identity: 'op-cashier' });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    k.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await k.host.waitForSession((s) => s.step === 'active');
    const g = k.host.start('statement');
    k.present({ identity: 'emp-ahmad' });
    expect((await k.host.waitFor(g.flowId, (s) => s.step === 'shown')).step).toBe('shown');
  });

  it('a revocation applied by the feed drops the person from the running index', async () => {
    const kiosk = k!;
    expect(kiosk.identifier.revoke('nobody')).toBe(0);
    kiosk.link!.sync.emit('palms', { added: [], revoked: ['emp-ahmad'] });
    expect(kiosk.identifier.size).toBe(15);
    expect(logs.find((m) => m === 'palm index: person emp-ahmad revoked by the centre (1 templates dropped)')).toBeDefined();
    const g = kiosk.host.start('statement');
    kiosk.present({ identity: 'emp-ahmad' });
    expect(await kiosk.host.waitFor(g.flowId, (s) => s.step === 'refused')).toMatchObject({ reason: 'unknown-palm' });
  });
});
