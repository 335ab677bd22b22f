// Typed errors of the store. SQLite's own errors are mapped here so callers switch on a stable `code`.
import { PalmPayError } from '../util/errors.ts';

/** The database was written by a newer PalmPay: refusing it protects data this version does not understand. */
export class StoreTooNewError extends PalmPayError {
  constructor(readonly found: number, readonly supported: number, file: string) {
    super('STORE_TOO_NEW', `database ${file} is schema version ${found}, newer than this PalmPay supports (${supported}); update PalmPay, do not downgrade`);
  }
}

/** The file is not a SQLite database or its pages are damaged. The terminal must not pay from it. */
export class StoreCorruptError extends PalmPayError {
  constructor(file: string, detail: string, cause?: unknown) {
    super('STORE_CORRUPT', `database ${file} is damaged (${detail}); payments are refused until it is restored from the centre or a backup`, { cause });
  }
}

/** The disk (or the page limit) is full: the write was rolled back and nothing earlier was touched. */
export class StoreFullError extends PalmPayError {
  constructor(cause?: unknown) {
    super('STORE_FULL', 'the terminal’s storage is full: the record was NOT saved (nothing earlier was harmed); free space or sync, then retry', { cause });
  }
}

/** Any other SQLite failure, with its SQLite code kept for diagnosis. */
export class StoreIoError extends PalmPayError {
  constructor(readonly sqliteCode: string, message: string, cause?: unknown) {
    super('STORE_IO', `storage error (${sqliteCode}): ${message}`, { cause });
  }
}

/** Maps a better-sqlite3 error to a typed one; passes PalmPayErrors and non-SQLite errors through. */
export function mapSqliteError(err: unknown, file = 'the database'): unknown {
  if (err instanceof PalmPayError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const message = (err as Error).message;
  if (code.startsWith('SQLITE_FULL')) return new StoreFullError(err);
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) return new StoreCorruptError(file, message, err);
  return new StoreIoError(code, message, err);
}

/** Runs fn and rethrows SQLite errors as typed ones. */
export function mappingErrors<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapSqliteError(err, file);
  }
}
