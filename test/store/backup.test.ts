// Daily backups of the terminal database: a consistent, verified, owner-only copy per day in a second folder.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDatabase, backupName, listBackups, scheduleBackups } from '../../src/store/backup.ts';
import { openDatabase } from '../../src/store/db.ts';

const root = mkdtempSync(join(tmpdir(), 'palmpay-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 5, 23, 0);

function liveDb(name: string) {
  const db = openDatabase(join(root, name));
  db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
  return db;
}

describe('backupDatabase', () => {
  it('writes a verified 0600 copy holding every committed row, one per day, and keeps the newest N', async () => {
    const db = liveDb('a.db');
    const dir = join(root, 'a-backups');
    for (let day = 0; day < 5; day++) {
      db.prepare('INSERT INTO t VALUES (?)').run(day);
      const r = await backupDatabase(db, dir, { nowMs: T0 + day * DAY, keep: 3 });
      expect(r.file).toBe(join(dir, backupName(T0 + day * DAY)));
      const copy = new Database(r.file, { readonly: true });
      expect(copy.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: day + 1 });
      copy.close();
      expect(statSync(r.file).mode & 0o777).toBe(0o600);
    }
    expect(listBackups(dir)).toEqual(['terminal-2026-12-09.db', 'terminal-2026-12-08.db', 'terminal-2026-12-07.db']);
    expect(readdirSync(dir).some((f) => f.endsWith('.partial'))).toBe(false);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    db.close();
  });

  it('a folder it cannot write gives BACKUP_FAILED and leaves no partial file', async () => {
    const db = liveDb('b.db');
    const blocked = join(root, 'not-a-folder');
    writeFileSync(blocked, 'x');
    await expect(backupDatabase(db, join(blocked, 'sub'))).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    db.close();
  });
});

describe('scheduleBackups', () => {
  it('backs up at start when today has none, not again the same day, and again when the day turns', async () => {
    const db = liveDb('c.db');
    const dir = join(root, 'c-backups');
    let now = T0;
    const lines: string[] = [];
    const s = scheduleBackups(db, dir, (l) => lines.push(l), { now: () => now, checkEveryMs: 3_600_000 });
    await s.runIfDue(); // the start-up run is in flight; this joins it
    expect(listBackups(dir)).toEqual([backupName(T0)]);
    expect(await s.runIfDue()).toBeNull();
    now += DAY;
    expect((await s.runIfDue())?.file).toBe(join(dir, backupName(T0 + DAY)));
    await s.stop();
    expect(lines.filter((l) => l.startsWith('backup: '))).toHaveLength(2);
    db.close();
  });

  it('a failing backup is reported, not thrown into the counter', async () => {
    const db = liveDb('d.db');
    const blocked = join(root, 'd-not-a-folder');
    writeFileSync(blocked, 'x');
    const lines: string[] = [];
    const s = scheduleBackups(db, join(blocked, 'inner'), (l) => lines.push(l));
    expect(await s.runIfDue()).toBeNull();
    await s.stop();
    expect(lines.some((l) => l.startsWith('backup FAILED'))).toBe(true);
    db.close();
  });
});
