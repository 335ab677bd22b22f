// How `palmpay terminal` picks its mode: Electron when its binary is present, the browser kiosk otherwise;
// and how the kiosk browser is found and started (the real Chromium and its secrets: kiosk-secrets.test.ts).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BLANK_APP_PAGE, findChromium, hasDisplay, kioskArgs } from '../../src/host/chromium.ts';
import { ADDRESS_FILE } from '../../src/host/terminal.ts';
import { CLI, ROOT } from '../e2e/spawn-terminal.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-launch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('kiosk browser', () => {
  it('finds an installed Chromium on PATH, or an explicit PALMPAY_BROWSER', () => {
    const fake = join(scratch, 'my-browser');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    expect(findChromium({ PATH: scratch, PALMPAY_BROWSER: fake }, 'linux')).toBe(fake);
    expect(findChromium({ PATH: scratch }, 'linux')).toBeNull();
    if (existsSync('/usr/bin/chromium')) expect(findChromium({ PATH: '/usr/local/bin:/usr/bin' }, 'linux')).toBe('/usr/bin/chromium');
  });

  it('needs a display on Linux only', () => {
    expect(hasDisplay({}, 'linux')).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBe(true);
    expect(hasDisplay({}, 'win32')).toBe(true);
  });

  it('opens the app in kiosk mode with a fresh profile and without background networking', () => {
    const args = kioskArgs('/tmp/p', false);
    expect(args).toContain(`--app=${BLANK_APP_PAGE}`); // the page itself comes over the DevTools pipe
    expect(args).toContain('--kiosk');
    expect(args).toContain('--user-data-dir=/tmp/p');
    for (const flag of ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run']) expect(args).toContain(flag);
    expect(args).not.toContain('--no-sandbox');
    expect(kioskArgs('/tmp/p', true)).toContain('--no-sandbox');
  });
});

describe('palmpay terminal: mode choice', () => {
  it('starts Electron (with the bundled main and the data folder) when its binary is present', async () => {
    // A stand-in Electron binary: electron's own index.js honours ELECTRON_OVERRIDE_DIST_PATH.
    const dist = join(scratch, 'electron-dist');
    const argsFile = join(scratch, 'electron-args');
    const data = join(scratch, 'data');
    rmSync(dist, { recursive: true, force: true });
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nexit 3\n`);
    chmodSync(join(dist, 'electron'), 0o755);
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'terminal', '--data', data, '--lang', 'ku'], {
        cwd: ROOT,
        env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: dist, DISPLAY: ':99' },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(result.out).toContain('palmpay terminal: Electron mode');
    expect(result.code).toBe(3); // Electron's exit code is passed through
    const args = readFileSync(argsFile, 'utf8').trim().split('\n');
    expect(args[0]).toBe(join(ROOT, 'dist', 'electron', 'main.cjs'));
    expect(args.slice(1, 5)).toEqual(['--data', data, '--lang', 'ku']);
    expect(existsSync(join(ROOT, 'dist', 'electron', 'preload.cjs'))).toBe(true);
  });
});

describe('palmpay terminal: browser kiosk launch', () => {
  it('a browser that cannot be driven: the address goes to an owner-only file (never the console), removed at stop', async () => {
    const argsFile = join(scratch, 'browser-args');
    const browser = join(scratch, 'kiosk-browser');
    // Stand-in browser: records its arguments, checks its profile folder exists, then closes without opening a page.
    writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nfor a in "$@"; do case "$a" in --user-data-dir=*) [ -d "\${a#--user-data-dir=}" ] && echo profile-ok >> '${argsFile}';; esac; done\nsleep 1\n`);
    chmodSync(browser, 0o755);
    const data = join(scratch, 'data-kiosk');
    const child = spawn(process.execPath, [CLI, 'terminal', '--browser', '--data', data], {
      cwd: ROOT,
      env: { ...process.env, PALMPAY_BROWSER: browser, DISPLAY: ':99' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await expect.poll(() => out, { timeout: 60_000 }).toContain('readable only by this user');
    const file = join(data, ADDRESS_FILE);
    expect(out).toContain(`could not open ${browser}`);
    expect(out).toContain(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = /#token=([\w-]+)/.exec(readFileSync(file, 'utf8'))![1]!;
    expect(out).not.toContain(token);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('palmpay terminal: stopped');
    expect(existsSync(file)).toBe(false);
    const args = readFileSync(argsFile, 'utf8').trim().split('\n');
    expect(args).toContain(`--app=${BLANK_APP_PAGE}`);
    expect(args).toContain('--remote-debugging-pipe');
    expect(args).toContain('--kiosk');
    expect(args).toContain('profile-ok');
    expect(args.join(' ')).not.toContain(token);
    const profile = args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    expect(existsSync(profile)).toBe(false); // removed after the browser closed
  }, 90_000);
});
