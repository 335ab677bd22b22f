// Nightly backups of the terminal database to a second folder (ideally another disk or a USB stick): SQLite's
// online backup (`db.backup()`, consistent while the counter keeps working), checked by opening the copy, then
// renamed into place, so a half-written file is never taken for a backup. One file per day, the newest `keep` kept.
import type Database from 'better-sqlite3';
import BetterSqlite from 'better-sqlite3';
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PalmPayError } from '../util/errors.ts';

const NAME = /^terminal-(\d{4}-\d{2}-\d{2})\.db$/;

export interface BackupResult {
  file: string;
  bytes: number;
  pruned: string[];
}

/** The backup file name for a day (UTC). */
export function backupName(atMs: number): string {
  return `terminal-${new Date(atMs).toISOString().slice(0, 10)}.db`;
}

/** Backups in `dir`, newest first. */
export function listBackups(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => NAME.test(n)).sort().reverse();
}

/** Copies the live database into `dir`, verifies the copy, keeps the newest `keep` days. */
export async function backupDatabase(db: Database.Database, dir: string, opts: { nowMs?: number; keep?: number } = {}): Promise<BackupResult> {
  const keep = Math.max(1, opts.keep ?? 7);
  const name = backupName(opts.nowMs ?? Date.now());
  const final = join(dir, name);
  const partial = `${final}.partial`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(partial, { force: true });
    await db.backup(partial);
    if (process.platform !== 'win32') chmodSync(partial, 0o600); // personal data and sealed templates
    const copy = new BetterSqlite(partial, { readonly: true });
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy fails quick_check: ${String(check)}`);
    } finally {
      copy.close();
    }
    renameSync(partial, final);
  } catch (err) {
    try {
      rmSync(partial, { force: true });
    } catch {
      // the folder itself is unusable: nothing was written there
    }
    throw new PalmPayError('BACKUP_FAILED', `backup to ${dir} failed: ${(err as Error).message}`, { cause: err });
  }
  const pruned = listBackups(dir).slice(keep);
  for (const old of pruned) rmSync(join(dir, old), { force: true });
  return { file: final, bytes: statSync(final).size, pruned };
}

export interface BackupSchedule {
  /** Runs a backup now if today's is missing (also what the timer calls). */
  runIfDue(): Promise<BackupResult | null>;
  /** Stops the timer; resolves when a backup in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Backs up once a day: at start when today's file is missing, then whenever the day turns (checked hourly).
 * Failures are reported, never thrown into the counter's work.
 */
export function scheduleBackups(db: Database.Database, dir: string, report: (line: string) => void, opts: { keep?: number; checkEveryMs?: number; now?: () => number } = {}): BackupSchedule {
  const now = opts.now ?? Date.now;
  let running: Promise<BackupResult | null> | null = null;
  const runIfDue = (): Promise<BackupResult | null> => {
    if (running) return running;
    if (listBackups(dir)[0] === backupName(now())) return Promise.resolve(null);
    running = backupDatabase(db, dir, { nowMs: now(), keep: opts.keep })
      .then((r) => {
        report(`backup: ${r.file} (${r.bytes} bytes${r.pruned.length ? `; removed ${r.pruned.join(', ')}` : ''})`);
        return r;
      })
      .catch((err: unknown) => {
        report(`backup FAILED: ${(err as Error).message}`);
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void runIfDue(), opts.checkEveryMs ?? 3_600_000);
  timer.unref();
  void runIfDue();
  return {
    runIfDue,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
