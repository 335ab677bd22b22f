// `palmpay server --workers N|auto`: auto is one process per core on PostgreSQL (one on SQLite); anything else is
// refused before a process starts.
import { availableParallelism } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { MAX_WORKERS, runCluster, workerCount } from '../../src/server/cluster.ts';
import { main } from '../../src/cli/main.ts';

describe('server --workers', () => {
  it('auto is one process per core on PostgreSQL and one on SQLite; a number is taken as given', () => {
    expect(workerCount('auto', true)).toBe(availableParallelism());
    expect(workerCount('auto', false)).toBe(1);
    expect(workerCount('auto', true, 96)).toBe(64); // a larger host still starts, at the most processes allowed
    expect(workerCount('3', true)).toBe(3);
    expect(workerCount('3', false)).toBe(3);
  });

  it('refuses what is not 1…64 or auto, with a typed error', () => {
    for (const bad of ['0', '65', '2.5', 'all', '', '-1']) expect(() => workerCount(bad, true), bad).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  it('runCluster holds the same bound for a caller that skips the CLI', async () => {
    expect(MAX_WORKERS).toBe(64);
    await expect(runCluster({ db: 'sqlite:/nonexistent/dir/centre.db', workers: MAX_WORKERS + 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('the command refuses a bad count before it opens a database or a port', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = await main(['node', 'palmpay', 'server', '--db', 'sqlite:/nonexistent/dir/centre.db', '--workers', 'many']);
      expect(code).toBe(1);
      expect(errors.mock.calls.flat().join(' ')).toMatch(/--workers must be 1…64 or auto, got many/);
    } finally {
      errors.mockRestore();
    }
  });
});
