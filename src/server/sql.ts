// The two storage drivers behind one small SQL connection interface: embedded SQLite (default) and PostgreSQL.
// SQL is written once with `?` placeholders; the PostgreSQL driver rewrites them to $1, $2, …
import { PalmPayError } from '../util/errors.ts';

export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

/** One connection inside (or outside) a transaction. */
export interface SqlConn {
  all<T = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs fn in one transaction (serialised: one writer at a time), committing on success, rolling back on throw. */
  tx<T>(fn: (c: SqlConn) => Promise<T>): Promise<T>;
  /** Runs DDL (several statements). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export class StorageError extends PalmPayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVER_STORAGE', message, options);
  }
}

/** `sqlite:FILE`, `sqlite::memory:`, a bare file path, or `postgres://…`. */
export async function openSqlDb(url: string): Promise<SqlDb> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (!file) throw new StorageError(`no database file in "${url}" (use sqlite:FILE or postgres://…)`);
  return openSqlite(file);
}

/** A FIFO lock so async transactions on one connection never interleave. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

async function openSqlite(file: string): Promise<SqlDb> {
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw new StorageError(`cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged upload must survive a power cut at the centre.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const cache = new Map<string, import('better-sqlite3').Statement>();
  const prep = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const conn: SqlConn = {
    all: async <T>(sql: string, params: SqlValue[] = []) => prep(sql).all(...params) as T[],
    get: async <T>(sql: string, params: SqlValue[] = []) => prep(sql).get(...params) as T | undefined,
    run: async (sql, params = []) => ({ changes: prep(sql).run(...params).changes }),
  };
  const mutex = new Mutex();
  return {
    dialect: 'sqlite',
    tx: (fn) =>
      mutex.lock(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(conn);
          db.exec('COMMIT');
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }),
    exec: async (sql) => void db.exec(sql),
    close: async () => mutex.lock(async () => void db.close()),
  };
}

async function openPostgres(url: string): Promise<SqlDb> {
  const { default: pg } = await import('pg');
  // BIGINT (int8) and NUMERIC come back as JS numbers: amounts are safe integers by contract.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 || oid === 1700 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
  } as unknown as import('pg').CustomTypesConfig;
  const pool = new pg.Pool({ connectionString: url, max: 4, types });
  pool.on('error', () => undefined); // an idle client dying is not fatal; the next query reconnects
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StorageError(`cannot connect to PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  const rewrite = new Map<string, string>();
  const toPg = (sql: string) => {
    let s = rewrite.get(sql);
    if (s === undefined) {
      let n = 0;
      s = sql.replace(/\?/g, () => `$${++n}`);
      rewrite.set(sql, s);
    }
    return s;
  };
  const connOf = (client: import('pg').PoolClient): SqlConn => ({
    all: async <T>(sql: string, params: SqlValue[] = []) => (await client.query(toPg(sql), params)).rows as T[],
    get: async <T>(sql: string, params: SqlValue[] = []) => (await client.query(toPg(sql), params)).rows[0] as T | undefined,
    run: async (sql, params = []) => ({ changes: (await client.query(toPg(sql), params)).rowCount ?? 0 }),
  });
  return {
    dialect: 'postgres',
    tx: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // One writer at a time: ingestion reads balances and chain heads, then writes; serialising keeps that simple
        // and correct (no lost updates, no deadlocks). Throughput stays well above what the terminals produce.
        await client.query('SELECT pg_advisory_xact_lock(727001)');
        const out = await fn(connOf(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    close: async () => {
      await pool.end();
    },
  };
}
