// Every listing and verification a technician scripts takes --json, with self-explanatory keys; --version answers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { main } from '../../src/cli/main.ts';
import { makeTerminal, purchase, tempDir } from '../ledger/helpers.ts';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  const t = makeTerminal(dir, 'T-JSON');
  for (let i = 1; i <= 3; i++) t.ledger.append(purchase({ amountMinor: 100 * i }));
  t.close();
});
afterAll(() => cleanup());

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    return { code: await main(['node', 'palmpay', ...args]), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

describe('palmpay --version', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run('--version');
    expect(r.out.trim()).toBe(version);
  });
});

describe('--json on the terminal side', () => {
  it('outbox status', async () => {
    const r = await run('outbox', 'status', '--data', dir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ pending: 3, in_flight: 0, journal_records: 3, next_attempt_ms: expect.any(Number) });
  });

  it('journal verify, good and bad (a bad journal still exits 1, with the verdict in JSON)', async () => {
    const ok = await run('journal', 'verify', '--data', dir, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, terminal_id: 'T-JSON', record_count: 3, head_seq: 3 });
    const db = new Database(join(dir, 'terminal.db'));
    db.pragma('foreign_keys = OFF');
    db.prepare("UPDATE journal SET body = replace(body, '\"amountMinor\":200', '\"amountMinor\":900') WHERE seq = 2").run();
    db.close();
    const bad = await run('journal', 'verify', '--data', dir, '--json');
    expect(bad.code).toBe(1);
    const verdict = JSON.parse(bad.out.slice(0, bad.out.lastIndexOf('}') + 1)) as Record<string, unknown>;
    expect(verdict).toMatchObject({ ok: false, terminal_id: 'T-JSON', first_bad_seq: 2, verified_count: 1 });
    expect(bad.err).toMatch(/journal BAD/);
  });
});

describe('--json at the centre', () => {
  it('terminal list and review list', async () => {
    const centre = ['server', '--data', dir];
    expect((await run(...centre, 'terminal', 'add', '--name', 'Counter 1', '--branch', 'B1', '--region', 'R1', '--id', 'T-A')).code).toBe(0);
    const list = await run(...centre, 'terminal', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual([{ id: 'T-A', status: expect.any(String), branch: 'B1', region: 'R1', head_seq: 0, last_seen_ms: null }]);
    const review = await run(...centre, 'review', 'list', '--json');
    expect(review.code).toBe(0);
    expect(JSON.parse(review.out)).toEqual([]);
  });
});

describe('palmpay scanner list --json', () => {
  it('prints the serial ports and HID devices found, and what --scanner auto would take', async () => {
    const r = await run('scanner', 'list', '--json');
    expect(r.code, r.err).toBe(0);
    const l = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(l).sort()).toEqual(['auto_would_pick', 'hid_devices', 'hid_error', 'serial_ports']);
    expect(Array.isArray(l.serial_ports) && Array.isArray(l.hid_devices)).toBe(true);
    for (const p of l.serial_ports as Array<Record<string, unknown>>) expect(Object.keys(p).sort()).toEqual(['known_bridge', 'manufacturer', 'path', 'serial_number', 'usb_id']);
  });
});
