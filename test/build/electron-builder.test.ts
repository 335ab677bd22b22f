// Proves build/electron-builder.config.cjs with a real `electron-builder --dir` run against a stand-in
// Electron distribution (the real one cannot be downloaded here): the files allowlist, asarUnpack of
// native modules, the udev rules, and the Electron fuses electron-builder flips (`electronFuses`).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { getCurrentFuseWire, FuseV1Options } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../src/host/app-build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as { listPackage(path: string, opts: object): string[] };
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's shipped defaults: RunAsNode on, cookie encryption off, NODE_OPTIONS on, --inspect on,
// asar integrity off, only-asar off, browser V8 snapshot off, file:// extra privileges on.
const SHIPPED_WIRE = '10110001';
const FuseState = { DISABLE: 0x30, ENABLE: 0x31 } as const; // ASCII '0' / '1' on the wire

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-builder-'));
const out = join(scratch, 'out');
const unpacked = join(out, 'linux-unpacked');

beforeAll(async () => {
  await ensureBuilt(ROOT, { renderer: true, electron: true });
  // The stand-in Electron: a script carrying a real fuse wire (sentinel, version 1, length, fuse states).
  const dist = join(scratch, 'electron-dist');
  mkdirSync(dist);
  writeFileSync(join(dist, 'electron'), Buffer.concat([Buffer.from(`#!/bin/sh\necho stand-in\n# ${SENTINEL}`), Buffer.from([1, SHIPPED_WIRE.length]), Buffer.from(SHIPPED_WIRE + '\n')]));
  chmodSync(join(dist, 'electron'), 0o755);
  const cli = join(ROOT, 'node_modules', 'electron-builder', 'cli.js');
  await promisify(execFile)(
    process.execPath,
    [cli, '--dir', '--linux', '--x64', '--config', 'build/electron-builder.config.cjs', `-c.electronDist=${dist}`, '-c.npmRebuild=false', `-c.directories.output=${out}`],
    { cwd: ROOT, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }, maxBuffer: 16 * 1024 * 1024 },
  );
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('electron-builder --dir (stand-in Electron)', () => {
  it('packs the app under the configured executable name', () => {
    expect(readFileSync(join(unpacked, 'palmpay'), 'utf8')).toContain('echo stand-in'); // the stand-in, renamed
    expect(existsSync(join(unpacked, 'resources', 'app.asar'))).toBe(true);
  });

  it('electron-builder flipped the fuses: RunAsNode off, asar integrity on', async () => {
    const wire = await getCurrentFuseWire(join(unpacked, 'palmpay'));
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(FuseState.DISABLE);
  });

  it('the asar holds only the allowlisted app files (plus runtime node_modules)', () => {
    const entries = asar.listPackage(join(unpacked, 'resources', 'app.asar'), {}).map((p) => p.replaceAll('\\', '/'));
    const appFiles = entries.filter((p) => !p.startsWith('/node_modules'));
    expect(appFiles).toContain('/dist/electron/main.cjs');
    expect(appFiles).toContain('/dist/electron/preload.cjs');
    expect(appFiles).toContain('/dist/renderer/index.html');
    expect(appFiles).toContain('/package.json');
    // Nothing else from the checkout: no sources, tests, maps, data, configs.
    const unexpected = appFiles.filter((p) => !/^\/(dist(\/electron(\/(main|preload)\.cjs)?|\/renderer(\/.*)?)?|package\.json)$/.test(p));
    expect(unexpected).toEqual([]);
    expect(entries.some((p) => p.startsWith('/node_modules/tsx/'))).toBe(false);
    expect(entries.some((p) => p.startsWith('/node_modules/esbuild/'))).toBe(false);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(entries.some((p) => p.startsWith('/node_modules/vitest/') || p.startsWith('/node_modules/electron/'))).toBe(false);
    expect(Object.keys(pkg.devDependencies)).toContain('vitest');
  });

  it('unpacks the native modules next to the asar', () => {
    const native = join(unpacked, 'resources', 'app.asar.unpacked', 'node_modules');
    for (const name of ['better-sqlite3', 'node-hid', 'usb', '@serialport']) expect(existsSync(join(native, name)), name).toBe(true);
  });

  it('ships the udev rules for scanners and serial modules', () => {
    const rules = readFileSync(join(unpacked, 'resources', 'udev', '99-palmpay.rules'), 'utf8');
    expect(rules).toMatch(/SUBSYSTEM=="hidraw".*TAG\+="uaccess"/);
    expect(rules).toMatch(/SUBSYSTEM=="tty".*GROUP="dialout"/);
  });
});
