// The technician's scanner check (issue 14 §2): the flow alone (pure), then through the whole in-process kiosk on
// the simulated scanner over the HID protocol and the real ScannerClient: a supervisor sees which scanner it is and
// a capture judged by the payment extractor, with a preview; a cashier cannot open it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageBytes } from '../../drivers/util/image-file.ts';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { reduceScannerCheck, startScannerCheck, type ScannerCheckState, type ScannerIdentity } from '../../src/flows/scanner-check.ts';
import { run } from '../../src/flows/machine.ts';

const identity: ScannerIdentity = { transport: 'serial', where: 'serial /dev/ttyACM0', model: 'M', serial: 'S', firmware: 'F', captures: 'frame', width: 640, height: 480, capabilities: [], users: null };

describe('scanner check flow (pure)', () => {
  it('asks who the scanner is, tests one capture at a time, keeps the last result, and ends on done', () => {
    const start = startScannerCheck('op-super');
    expect(start.effects).toEqual([{ type: 'identifyScanner' }]);
    const ready = run(reduceScannerCheck, start.state, [{ type: 'scanner.identified', identity }]);
    expect(ready.state).toMatchObject({ step: 'ready', identity, last: null });
    const testing = run(reduceScannerCheck, ready.state, [{ type: 'capture.test' }, { type: 'capture.test' }]);
    expect(testing.effects).toEqual([{ type: 'testCapture' }]); // a second press while testing asks nothing more
    const result = { ok: false as const, code: 'SCANNER_DISCONNECTED', message: 'unplugged' };
    const after = run(reduceScannerCheck, testing.state, [{ type: 'scanner.tested', result }]);
    expect(after.state).toMatchObject({ step: 'ready', last: result });
    expect(run(reduceScannerCheck, after.state, [{ type: 'done' }]).state.step).toBe('finished');
  });

  it('an unreachable scanner says why and can be asked again', () => {
    const s = run(reduceScannerCheck, startScannerCheck('op-super').state, [{ type: 'scanner.unavailable', code: 'SCANNER_DISCONNECTED', message: 'no scanner answers' }]);
    expect(s.state).toMatchObject({ step: 'unavailable', code: 'SCANNER_DISCONNECTED' });
    const again = reduceScannerCheck(s.state, { type: 'retry' });
    expect(again.state.step).toBe('reading');
    expect(again.effects).toEqual([{ type: 'identifyScanner' }]);
  });
});

describe('scanner check in the kiosk (simulated scanner, real client)', () => {
  let dir: string;
  let k: Kiosk;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-scanner-check-'));
    k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: false });
  });
  afterAll(async () => {
    await k?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(operator: string, pin: string) {
    k.host.sessionSend({ type: 'lock' });
    k.host.sessionSend({ type: 'login.start' });
    k.present({ identity: operator });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    k.host.sessionSend({ type: 'auth.submit', pin });
    await k.host.waitForSession((s) => s.step === 'active');
  }

  it('is a supervisor task: a cashier is refused', async () => {
    await login('op-cashier', '1234');
    expect(() => k.host.start('scannerCheck')).toThrow(expect.objectContaining({ code: 'ROLE_MISSING' }));
  });

  it("shows the scanner's identity, then a capture judged as a payment would judge it, with a small JPEG preview", async () => {
    await login('op-super', '9999');
    const recordsBefore = k.terminal.store.journal.count();
    const f = k.host.start('scannerCheck');
    const ready = (await k.host.waitFor(f.flowId, (s) => s.step === 'ready')) as Extract<ScannerCheckState, { step: 'ready' }>;
    expect(ready.identity).toMatchObject({ transport: 'simulated', captures: 'frame', width: 320, height: 240 });
    expect(ready.identity.model.length).toBeGreaterThan(0);
    expect(ready.identity.firmware.length).toBeGreaterThan(0);

    k.host.send(f.flowId, { type: 'capture.test' });
    k.present({ identity: 'emp-ahmad' });
    const good = (await k.host.waitFor(f.flowId, (s) => s.step === 'ready' && s.last !== null)) as Extract<ScannerCheckState, { step: 'ready' }>;
    expect(good.last).toMatchObject({ ok: true, moduleStatus: null, frame: { width: 320, height: 240, verdict: 'ok' } });
    const frame = good.last!.ok ? good.last!.frame! : null;
    expect(frame!.quality).toBeGreaterThan(0);
    const jpeg = Buffer.from(frame!.preview.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    const preview = decodeImageBytes(jpeg);
    expect(Math.max(preview.width, preview.height)).toBeLessThanOrEqual(240);
    expect(preview.width).toBeGreaterThan(100);

    // A hand held too far is judged as a payment would refuse it, with the same reason.
    k.host.send(f.flowId, { type: 'capture.test' });
    await k.host.waitFor(f.flowId, (s) => s.step === 'testing');
    k.present({ identity: 'emp-ahmad', distanceMm: 150 });
    const far = (await k.host.waitFor(f.flowId, (s) => s.step === 'ready' && s.last !== good.last)) as Extract<ScannerCheckState, { step: 'ready' }>;
    expect(far.last).toMatchObject({ ok: true, frame: { verdict: 'too-far' } });
    // Nothing was recorded.
    expect(k.terminal.store.journal.count()).toBe(recordsBefore);
  });
});
