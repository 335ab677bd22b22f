// Opening the terminal database: WAL, synchronous=FULL (a committed transaction survives a power cut),
// foreign keys on, migrations applied. Every failure becomes a typed error.
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { migrate } from './migrations.ts';
import { mapSqliteError, StoreCorruptError } from './errors.ts';

export interface OpenOptions {
  /** Run PRAGMA quick_check at open (reads every page: ~tens of ms per 10 MB). Default false. */
  quickCheck?: boolean;
  /** Only for tests: stop migrating at this version. */
  migrateTo?: number;
  /** Only for tests of a full disk: cap the database at this many pages. */
  maxPageCount?: number;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    const fresh = file !== ':memory:' && !existsSync(file);
    db = new Database(file);
    // Personal data and sealed templates live here: owner-only (SQLite gives -wal/-shm the same mode).
    if (fresh && process.platform !== 'win32') chmodSync(file, 0o600);
    // Reading the schema proves the header is SQLite's (a garbage file fails here with SQLITE_NOTADB).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && file !== ':memory:') throw new Error(`could not switch to WAL (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (opts.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(opts.maxPageCount)}`);
    if (opts.quickCheck) {
      const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
      if (rows[0]?.quick_check !== 'ok') throw new StoreCorruptError(file, `quick_check: ${rows.map((r) => r.quick_check).slice(0, 3).join('; ')}`);
    }
    migrate(db, file, opts.migrateTo);
    return db;
  } catch (err) {
    db?.close();
    const mapped = mapSqliteError(err, file);
    if (mapped === err && !existsSync(file)) throw err;
    throw mapped;
  }
}
