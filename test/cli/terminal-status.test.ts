// `palmpay terminal status [--json]`: a counter's health, read from its data folder while it may be running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { readTerminalStatus } from '../../src/host/terminal-status.ts';
import { backupDatabase } from '../../src/store/backup.ts';
import { makeTerminal, purchase, tempDir } from '../ledger/helpers.ts';
import { join } from 'node:path';

let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  const t = makeTerminal(dir, 'T-STATUS');
  for (let i = 1; i <= 4; i++) t.ledger.append(purchase({ amountMinor: 100 * i }));
  t.store.outbox.markDone([1]); // the centre acknowledged #1: the oldest unsent is #2
  await backupDatabase(t.store.db, join(dir, 'backups'));
  t.close();
});
afterAll(() => cleanup());

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await main(['node', 'palmpay', ...args]), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('palmpay terminal status', () => {
  it('--json reports identity, queue with its oldest record, journal head, feed age, backups and disk', async () => {
    const r = await run('terminal', 'status', '--data', dir, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({
      terminal_id: 'T-STATUS',
      key_protection: 'file-permissions',
      registered_with_centre: false,
      journal: { records: 4, head_seq: 4 },
      feed: { age_ms: null, stale: true },
      last_sync_age_ms: null,
      backup: { count: 1 },
    });
    expect(s.queue).toMatchObject({ pending: 3, in_flight: 0, oldest_unsent_seq: 2 });
    expect(s.queue.oldest_unsent_age_ms).toBeGreaterThanOrEqual(0);
    expect(s.backup.latest).toMatch(/^terminal-\d{4}-\d{2}-\d{2}\.db$/);
    expect(s.disk.free_bytes).toBeGreaterThan(0);
    expect(s.public_key_fingerprint).toMatch(/^[0-9a-f]{16}…[0-9a-f]{8}$/);
  });

  it('prints lines a person reads without --json', async () => {
    const r = await run('terminal', 'status', '--data', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/terminal T-STATUS .*NOT registered with a centre/);
    expect(r.out).toMatch(/journal: 4 records, head #4/);
    expect(r.out).toMatch(/never synced with the centre/);
  });

  it('a folder with no terminal is a typed error, one line, exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'palmpay-empty-'));
    try {
      expect(() => readTerminalStatus(empty)).toThrow(expect.objectContaining({ code: 'NOT_PROVISIONED' }));
      const r = await run('terminal', 'status', '--data', empty, '--json');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/no terminal in/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
