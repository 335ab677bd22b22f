// The technician's commands end to end: `palmpay sim serial --dialect family` (a family-only module on a
// socat pty, scripted on stdin) and `palmpay scanner info|enrol|verify|users|delete` against it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/palmpay.js', import.meta.url).pathname;
const run = promisify(execFile);

async function palmpay(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('palmpay scanner … against a family-only module', () => {
  let sim: ChildProcess;
  let port = '';
  const say = (line: string) => sim.stdin!.write(`${line}\n`);

  beforeAll(async () => {
    sim = spawn('node', [BIN, 'sim', 'serial', '--dialect', 'family', '--no-auto', '--size', '320x240'], { stdio: ['pipe', 'pipe', 'pipe'] });
    port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: sim.stdout! }).once('line', (l) => resolve(l.trim()));
      sim.once('exit', (c) => reject(new Error(`sim exited ${c}`)));
    });
  }, 60_000);
  afterAll(async () => {
    if (sim && sim.exitCode === null) {
      sim.kill('SIGTERM');
      await new Promise((r) => sim.once('exit', r));
    }
  });

  it('info, enrol, verify, users, delete', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'palmpay-cli-')), 'info.json');
    const info = await palmpay('scanner', 'info', '--port', port, '--json', json);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/capabilities: family, family_images/);
    const written = JSON.parse(readFileSync(json, 'utf8')) as { version: string; capabilities: string[]; users: number };
    expect(written).toMatchObject({ users: 0, capabilities: ['family', 'family_images'] });
    expect(written.version).toContain('family');

    const refused = await palmpay('scanner', 'enrol', '--port', port, '--user', 'Amira Haddad');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CONFIG_BAD_PSEUDONYM');

    say('present alice');
    const enrol = await palmpay('scanner', 'enrol', '--port', port, '--user', 'pp-a1', '--wait', '3000');
    say('remove');
    expect(enrol.code, enrol.stderr).toBe(0);
    const id = Number(/module user id (\d+)/.exec(enrol.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);

    say('present alice');
    const verify = await palmpay('scanner', 'verify', '--port', port, '--wait', '3000');
    say('remove');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`user ${id} (pp-a1)`);
    expect(verify.stdout).toContain('not a proof');

    const users = await palmpay('scanner', 'users', '--port', port, '--json');
    expect(JSON.parse(users.stdout)).toEqual([{ user_id: id, user_name: 'pp-a1', admin: false }]);

    const none = await palmpay('scanner', 'verify', '--port', port, '--wait', '1000');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('NO_PALM');

    say('present bob');
    const png = join(mkdtempSync(join(tmpdir(), 'palmpay-cli-')), 'palm.png');
    const capture = await palmpay('scanner', 'capture', '--port', port, '--out', png, '--timeout', '20000');
    say('remove');
    expect(capture.code, capture.stderr).toBe(0);
    expect(capture.stdout).toMatch(/frame 320×240/);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    expect((await palmpay('scanner', 'delete', '--port', port, '--user', String(id))).code).toBe(0);
    expect(JSON.parse((await palmpay('scanner', 'users', '--port', port, '--json')).stdout)).toEqual([]);
    const bad = await palmpay('scanner', 'delete', '--port', port);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('exactly one of --user N or --all');
    expect((await palmpay('scanner', 'delete', '--port', port, '--all')).code).toBe(0);
  }, 120_000);
});
