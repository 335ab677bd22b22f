// createScanner: the configuration entry point the host uses.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createScanner } from '../../drivers/index.ts';
import { createSimScanner, SimulatedScanner } from '../../drivers/sim/index.ts';

describe('createScanner', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of stops) await s();
  });

  it('builds an in-process simulator the flows can script', async () => {
    const s = await createSimScanner({ protocol: 'hid', width: 64, height: 48 });
    stops.push(s.close);
    expect(s.sim).toBeInstanceOf(SimulatedScanner);
    s.sim.enqueue({ identity: 'amira', afterMs: 50 });
    const palms: string[] = [];
    s.client.on('palm', (p) => palms.push(p.state));
    await s.client.waitForPalm({ timeoutMs: 2000 });
    await expect(s.client.capture()).resolves.toMatchObject({ kind: 'frame', width: 64, height: 48 });
    expect(palms).toContain('present');
    s.sim.present({ identity: 'amira', distanceMm: 160 });
    await new Promise((r) => setTimeout(r, 50));
    expect(palms).toContain('too_far'); // the HID distance hint
  });

  it('opens a serial scanner by path (a simulator on a socat pty)', async () => {
    const sim = new SimulatedScanner({ protocol: 'serial', width: 64, height: 48 });
    const pty = await sim.startPty();
    stops.push(() => sim.stop());
    const s = await createScanner({ kind: 'serial', path: pty.hostPath });
    stops.unshift(s.close);
    await expect(s.client.info()).resolves.toMatchObject({ kind: 'serial-module', model: 'PalmSim-L015' });
  });

  it('the product entry point does not import the simulator', () => {
    const src = readFileSync(new URL('../../drivers/index.ts', import.meta.url), 'utf8');
    expect(src).not.toMatch(/from '\.\/sim\//);
  });

  it('fails typed on bad or absent configuration', async () => {
    await expect(createScanner({ kind: 'hid' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(createScanner({ kind: 'hid', usbId: 'nope' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(createScanner({ kind: 'serial', path: '/nonexistent/tty' }, { openTimeoutMs: 300 })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });
});
