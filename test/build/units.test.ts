// The service files a technician installs must start commands that exist, with options the CLI accepts, and keep
// the centre's files owner-only. (systemd-analyze cannot run in this container: no systemd manager.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';

const read = (f: string) => readFileSync(new URL(`../../build/linux/${f}`, import.meta.url), 'utf8');

/** key=value lines of a unit (or desktop) file; a key may repeat. */
function entries(text: string): Array<[string, string]> {
  return text.split('\n').filter((l) => /^[A-Za-z][\w-]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}
const value = (text: string, key: string) => entries(text).find(([k]) => k === key)?.[1];

function optionNames(cmd: Command): Set<string> {
  return new Set(cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x))));
}

describe('palmpay-server.service', () => {
  const unit = read('palmpay-server.service');

  it('runs `palmpay server` with options the command accepts', () => {
    const exec = value(unit, 'ExecStart')!;
    const args = exec.split(/\s+/);
    expect(args.slice(0, 3)).toEqual(['/usr/bin/node', '/opt/palmpay-centre/bin/palmpay.js', 'server']);
    const server = buildProgram().commands.find((c) => c.name() === 'server')!;
    const known = optionNames(server);
    const used = args.filter((a) => a.startsWith('--'));
    expect(used.length).toBeGreaterThan(3);
    for (const flag of used) expect(known, `palmpay server has no ${flag}`).toContain(flag);
    // a non-loopback bind must come with TLS (or the server refuses to start: SERVER_INSECURE)
    expect(used).toEqual(expect.arrayContaining(['--host', '--tls-cert', '--tls-key']));
  });

  it('keeps files owner-only, stops gracefully, and confines the process', () => {
    expect(value(unit, 'UMask')).toBe('0077');
    expect(value(unit, 'StateDirectoryMode')).toBe('0700');
    expect(value(unit, 'KillSignal')).toBe('SIGTERM');
    expect(Number(value(unit, 'TimeoutStopSec'))).toBeGreaterThanOrEqual(15);
    for (const k of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) expect(value(unit, k)).toBe('yes');
    expect(value(unit, 'ProtectSystem')).toBe('strict');
    expect(value(unit, 'User')).toBe('palmpay');
  });
});

describe('kiosk autostart', () => {
  it('the user unit and the XDG autostart entry start the packaged app, with arguments the shell accepts', () => {
    const svc = value(read('palmpay-kiosk.service'), 'ExecStart')!;
    const desktop = value(read('palmpay-kiosk.desktop'), 'Exec')!;
    const exe = '/opt/PalmPay/palmpay'; // electron-builder linux.executableName, installed by the deb under /opt/PalmPay
    expect(svc).toBe(exe);
    expect(desktop).toBe(exe);
    expect(value(read('palmpay-kiosk.service'), 'Restart')).toBe('always');
    expect(value(read('palmpay-kiosk.desktop'), 'Type')).toBe('Application');
  });

  it('ships inside the installer', async () => {
    const { createRequire } = await import('node:module');
    const config = createRequire(import.meta.url)('../../build/electron-builder.config.cjs') as { extraResources: Array<{ from: string }>; linux: { executableName: string } };
    expect(config.linux.executableName).toBe('palmpay');
    expect(config.extraResources.map((r) => r.from)).toEqual(expect.arrayContaining(['build/linux/palmpay-kiosk.desktop', 'build/linux/palmpay-kiosk.service']));
  });
});
