// Attack: another local user reads /proc/PID/cmdline of the kiosk's Chromium (world-readable) or the terminal's
// console and log, and takes the kiosk token (full API access: pay out salary) or a receipt (names, amounts).
// The real `palmpay terminal` opens a real Chromium (ozone headless: no display here); while the kiosk shows its
// lock screen — proof the token reached the page — every process's command line, the console and the log files
// must be free of the token. The receipt painter's headless Chromium is watched the same way while it paints.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumReceiptPainter } from '../../src/host/adapters/receipt-picture.ts';
import { ensureBuilt, rendererOutput } from '../../src/host/app-build.ts';
import { findChromium } from '../../src/host/chromium.ts';
import { ADDRESS_FILE } from '../../src/host/terminal.ts';
import { REPO_ROOT } from '../../src/util/repo-root.ts';
import { CLI, ROOT } from '../e2e/spawn-terminal.ts';

const browser = findChromium();
const scratch = mkdtempSync(join(tmpdir(), 'palmpay-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every process's command line we can read, as its arguments. */
function allCommandLines(): Array<{ pid: number; args: string[] }> {
  const out: Array<{ pid: number; args: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const raw = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (raw) out.push({ pid: Number(name), args: raw.split('\0').filter(Boolean) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe.skipIf(!browser || process.platform !== 'linux')('no secret on a command line or in the log', () => {
  beforeAll(() => ensureBuilt(REPO_ROOT, { renderer: true }), 120_000);

  it('the kiosk token reaches the page but no command line, console line or log file', async () => {
    const data = join(scratch, 'data-kiosk');
    // The real Chromium without a display; the test (not the product) also opens a DevTools port to look at the page.
    const wrapper = join(scratch, 'chromium-headless');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${browser}' --ozone-platform=headless --remote-debugging-port=0 "$@"\n`);
    chmodSync(wrapper, 0o755);
    const child = spawn(process.execPath, [CLI, 'terminal', '--browser', '--demo', '--port', '0', '--data', data], {
      cwd: ROOT,
      env: { ...process.env, PALMPAY_BROWSER: wrapper, DISPLAY: ':99' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 90_000, interval: 200 }).toMatch(/opened in .* \(kiosk mode\)/);
      const origin = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      // The kiosk's browser process: found by its throw-away profile; its DevTools port is in that profile.
      const kiosk = allCommandLines().find((p) => p.args.includes('--kiosk') && p.args.some((a) => a.includes('palmpay-kiosk-')));
      expect(kiosk, 'the kiosk Chromium is running').toBeDefined();
      const profile = kiosk!.args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
      await expect.poll(() => existsSync(join(profile, 'DevToolsActivePort')), { timeout: 30_000 }).toBe(true);
      const port = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]!;
      const cdp = await playwright.connectOverCDP(`http://127.0.0.1:${port}`);
      try {
        const page = cdp.contexts().flatMap((c) => c.pages()).find((p) => p.url().startsWith(origin));
        expect(page, 'the kiosk page was opened').toBeDefined();
        await page!.getByTestId('locked').waitFor({ timeout: 30_000 }); // the API accepted the token
        const token = new URLSearchParams(new URL(page!.url()).hash.slice(1)).get('token')!;
        expect(token.length).toBeGreaterThanOrEqual(40);

        const leaks = allCommandLines().filter((p) => p.args.some((a) => a.includes(token)));
        expect(leaks, 'processes with the token on their command line').toEqual([]);
        expect(allCommandLines().filter((p) => p.args.some((a) => a.includes(origin) || a.includes('palmpay-kiosk-'))).length).toBeGreaterThan(0);
        expect(out).not.toContain(token);
        for (const f of filesUnder(join(data, 'logs'))) expect(readFileSync(f, 'utf8'), f).not.toContain(token);
        expect(existsSync(join(data, ADDRESS_FILE))).toBe(false); // our own kiosk needs no address file
      } finally {
        await cdp.close().catch(() => {});
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('palmpay terminal: stopped');
  }, 180_000);

  it('a receipt being painted is on no command line', async () => {
    const painter = chromiumReceiptPainter({ browser: browser!, rendererDir: rendererOutput(REPO_ROOT), paperDots: 576 });
    const marker = 'Zuhair-Secret-7731';
    const receipt = {
      kind: 'payout' as const, recordId: 'rec-secret-7731', seq: 1, terminalId: 'T', at: '2026-12-05T10:00:00.000Z', operatorId: 'op',
      personName: { ar: 'زهير', latin: marker },
      lines: [],
    };
    const seen = new Map<number, string[]>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const p of allCommandLines()) if (p.args.some((a) => a.includes('palmpay-receipt-'))) seen.set(p.pid, p.args);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const picture = await painter.paint(receipt, { language: 'en', digits: 'latn', copy: false }).finally(() => (watching = false));
    await watch;
    expect(picture.height).toBeGreaterThan(100); // it did paint
    expect(seen.size, 'the painting Chromium was seen').toBeGreaterThan(0);
    for (const args of seen.values()) {
      expect(args.filter((a) => a.includes(marker) || a.includes('rec-secret-7731') || a.includes('receipt.html'))).toEqual([]);
      // Nothing but switches, and the empty start page: no URL that could carry a fragment (paths: the browser and
      // Debian's /usr/bin/chromium launcher script run by /bin/sh).
      expect(args.filter((a) => !a.startsWith('--') && !a.startsWith('/'))).toEqual(args.includes('--headless') ? ['about:blank'] : []);
    }
  }, 90_000);
});
