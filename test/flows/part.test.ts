// The kiosk as a runtime part: calls wait for it, status follows it, and the test hooks refuse without the flag.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKioskPart, type KioskEvent } from '../../src/host/kiosk-part.ts';
import { silentLogger } from '../../src/util/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-part-'));
const events: KioskEvent[] = [];
const part = startKioskPart({ dataDir: dir, log: silentLogger(), emit: (e) => events.push(e), demo: true, testHooks: false });
afterAll(async () => {
  await part.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kiosk part', () => {
  it('answers calls made before it is ready, and refuses the test hooks without --test-hooks', async () => {
    const session = await part.handlers['kiosk.session']();
    expect(session.state.step).toBe('locked');
    await expect(part.handlers['test.present']({ identity: 'emp-ahmad' })).rejects.toMatchObject({ code: 'TEST_HOOKS_DISABLED' });
    await expect(part.handlers['test.fault']({ linkUp: false })).rejects.toMatchObject({ code: 'TEST_HOOKS_DISABLED' });
    await expect(part.handlers['kiosk.start']({ kind: 'payout' })).rejects.toMatchObject({ code: 'SESSION_LOCKED' });
  });

  it('reports the scanner and the link once composed, and pushes session events', async () => {
    await part.ready;
    expect(part.status.scanner.status()).toMatchObject({ kind: 'simulated', placeholder: true });
    expect(part.status.scanner.placeholder?.description).toMatch(/^simulated scanner/);
    await part.handlers['kiosk.sessionSend']({ event: { type: 'login.start' } });
    expect(events.some((e) => e.type === 'session' && e.session.state.step === 'login')).toBe(true);
  });
});
