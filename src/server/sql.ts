// The two storage drivers behind one small SQL connection interface: embedded SQLite (default) and PostgreSQL.
// SQL is written once as a tagged template (`sql\`… WHERE id = ${id}\``): the values never enter the text, and the
// query layer writes each driver's native placeholder (`?` for SQLite, `$n` for PostgreSQL) where a value was
// interpolated. Nothing rewrites SQL text, so a `?` inside a literal or a JSONB operator stays what it is.
import { PalmPayError } from '../util/errors.ts';

export type SqlValue = string | number | null | Uint8Array;
/** A bound value as the driver receives it: a scalar, or (PostgreSQL only, from `anyOf`) a text array. */
export type SqlParam = SqlValue | readonly string[];
export type Row = Record<string, SqlValue>;
export type Dialect = 'sqlite' | 'postgres';

const FRAGMENT = Symbol('sql fragment');
/** A piece of SQL (from `sql`, `raw`, `list`, `dialect`), composable inside another `sql` template. */
export interface Fragment {
  readonly [FRAGMENT]: true;
  /** Appends this fragment's text to `out`, pushing its values and writing one placeholder per value. */
  render(d: Dialect, out: { text: string; params: SqlParam[] }): void;
  /** Set by `prepared`: a read worth a named prepared statement on PostgreSQL (see statementName). */
  readonly prepare?: true;
}

function isFragment(v: unknown): v is Fragment {
  return typeof v === 'object' && v !== null && (v as Fragment)[FRAGMENT] === true;
}

function placeholder(d: Dialect, params: SqlParam[]): string {
  return d === 'postgres' ? `$${params.length}` : '?';
}

/** The query builder: every `${value}` becomes a bound parameter; a `${fragment}` is spliced in. */
export function sql(strings: TemplateStringsArray, ...values: Array<SqlValue | Fragment>): Fragment {
  return {
    [FRAGMENT]: true,
    render(d, out) {
      out.text += strings[0];
      values.forEach((v, i) => {
        if (isFragment(v)) v.render(d, out);
        else {
          out.params.push(v);
          out.text += placeholder(d, out.params);
        }
        out.text += strings[i + 1];
      });
    },
  };
}

/** Trusted SQL text (identifiers, keywords) written by the programmer, never data. */
export function raw(text: string): Fragment {
  return { [FRAGMENT]: true, render: (_d, out) => void (out.text += text) };
}

/** `a, b, c` as bound parameters (for `IN (…)` and multi-row VALUES). */
export function list(values: readonly SqlValue[]): Fragment {
  if (values.length === 0) throw new RangeError('sql list(): empty list');
  return {
    [FRAGMENT]: true,
    render(d, out) {
      values.forEach((v, i) => {
        if (i > 0) out.text += ', ';
        out.params.push(v);
        out.text += placeholder(d, out.params);
      });
    },
  };
}

/**
 * `column IN (…)` for a set of text values. On PostgreSQL `column = ANY($n::text[])`: one bound array, so the text
 * is the same whatever the set's size and the statement is parsed and planned once per connection (`statementName`);
 * an `IN` list's text changes with its length, so each size was parsed and planned anew. SQLite: `IN (?, …)`.
 */
export function anyOf(column: Fragment, values: readonly string[]): Fragment {
  if (values.length === 0) throw new RangeError('sql anyOf(): empty set');
  return {
    [FRAGMENT]: true,
    render(d, out) {
      column.render(d, out);
      if (d === 'postgres') {
        out.text += ' = ANY(';
        textArray(values).render(d, out);
        out.text += ')';
      } else {
        out.text += ' IN (';
        list(values).render(d, out);
        out.text += ')';
      }
    },
  };
}

/**
 * A read run on every batch, whose text does not change with its values (`anyOf`, no `SELECT *`): named on
 * PostgreSQL, so each connection parses and plans it once.
 */
export function prepared(q: Fragment): Fragment {
  return { [FRAGMENT]: true, render: (d, out) => q.render(d, out), prepare: true };
}

/** Fragments joined by a separator (e.g. several `(?, ?)` rows). */
export function join(parts: readonly Fragment[], separator = ', '): Fragment {
  return {
    [FRAGMENT]: true,
    render(d, out) {
      parts.forEach((p, i) => {
        if (i > 0) out.text += separator;
        p.render(d, out);
      });
    },
  };
}

/** A fragment that differs by dialect (e.g. `FOR UPDATE`, which SQLite has no use for: its writers are serialised). */
export function dialect(by: Record<Dialect, Fragment | string>): Fragment {
  return {
    [FRAGMENT]: true,
    render(d, out) {
      const f = by[d];
      if (typeof f === 'string') out.text += f;
      else f.render(d, out);
    },
  };
}

/** Row locks: PostgreSQL takes them; SQLite needs none (one writer holds the whole database). */
export const FOR_UPDATE = dialect({ postgres: ' FOR UPDATE', sqlite: '' });

/**
 * Every PostgreSQL advisory lock key the centre takes, in one place so no two uses share one by accident (settlement
 * and partition making once both took 727 101, so a long settlement held up the next month's partitions). The single
 * keys (migration, settlement, partitions) and the first key of lockNames' two-key spaces are different lock spaces
 * to PostgreSQL; they are kept distinct all the same.
 */
export const ADVISORY_LOCK = {
  migration: 727_100,
  settlement: 727_101,
  accountBinding: 727_102,
  subscriber: 727_103,
  capture: 727_104,
  partition: 727_105,
} as const;

/**
 * Locks names that have no row to lock yet (an account nobody holds, a subscriber with no mandate), until the
 * transaction ends, so two transactions that read "none" and then write one run one after the other. PostgreSQL:
 * advisory locks in the two-key space (`space`: its ADVISORY_LOCK key), taken sorted so two transactions never wait
 * crosswise; SQLite: its write lock already does it.
 */
export async function lockNames(c: SqlConn, space: number, names: readonly string[]): Promise<void> {
  if (c.dialect !== 'postgres' || names.length === 0) return;
  const sorted = [...new Set(names)].sort();
  // One round trip for the whole set (a bill file names thousands of subscribers), taken in the sorted order:
  // unnest … WITH ORDINALITY gives the array's order, and the lock, a volatile call, is evaluated after the sort.
  await c.run(sql`SELECT pg_advisory_xact_lock(${space}, hashtext(t.n)) FROM unnest(${textArray(sorted)}) WITH ORDINALITY AS t(n, i) ORDER BY t.i`);
}

/** A PostgreSQL `text[]` bound as one parameter (for `unnest`, a set of rows in one statement). PostgreSQL only. */
export function textArray(values: readonly string[]): Fragment {
  return {
    [FRAGMENT]: true,
    render(d, out) {
      if (d !== 'postgres') throw new StorageError('textArray is PostgreSQL only');
      out.params.push(values);
      out.text += `${placeholder(d, out.params)}::text[]`;
    },
  };
}

export function render(q: Fragment, d: Dialect): { text: string; params: SqlParam[] } {
  const out = { text: '', params: [] as SqlParam[] };
  q.render(d, out);
  return out;
}

/** One connection inside (or outside) a transaction. */
export interface SqlConn {
  readonly dialect: Dialect;
  all<T = Row>(q: Fragment): Promise<T[]>;
  get<T = Row>(q: Fragment): Promise<T | undefined>;
  run(q: Fragment): Promise<{ changes: number }>;
}

export interface PoolStats {
  /** Connections open now, idle now, and requests waiting for one (PostgreSQL; 1/1/0 for SQLite). */
  total: number;
  idle: number;
  waiting: number;
  /** Errors the pool reported on idle connections since start (a dropped connection, a restarted server). */
  errors: number;
  /** Transactions retried after a serialisation failure or a deadlock. */
  retries: number;
}

export interface SqlDb {
  readonly dialect: Dialect;
  /**
   * Runs fn in one transaction, committing on success, rolling back on throw. On PostgreSQL a transaction that
   * fails with a serialisation failure or a deadlock is run again from the start (fn must have no effect outside
   * the transaction); on SQLite one writer runs at a time.
   */
  tx<T>(fn: (c: SqlConn) => Promise<T>): Promise<T>;
  /** One row of one read, outside any explicit transaction (a statement is atomic on its own): one round trip. */
  get<T = Row>(q: Fragment): Promise<T | undefined>;
  /**
   * A connection whose every statement commits on its own (PostgreSQL: each from the pool, no BEGIN/COMMIT round
   * trips and no connection held between statements; SQLite: each under the writers' lock). For reads that need no
   * snapshot across statements (PostgreSQL's READ COMMITTED gives each statement its own snapshot anyway).
   */
  autocommit(): SqlConn;
  /** Runs DDL (several statements). */
  exec(sql: string): Promise<void>;
  stats(): PoolStats;
  close(): Promise<void>;
}

export class StorageError extends PalmPayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVER_STORAGE', message, options);
  }
}

export interface OpenSqlOptions {
  /** Largest number of PostgreSQL connections this process opens (default 10). */
  poolMax?: number;
  /** Called for each error an idle pooled connection reports (logged by the server; counted in stats()). */
  onPoolError?: (err: Error) => void;
  /** Attempts of a transaction that keeps meeting serialisation failures or deadlocks (default 8). */
  maxAttempts?: number;
}

/** True for a PostgreSQL URL (`postgres://…` or `postgresql://…`); anything else is SQLite to openSqlDb. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** `sqlite:FILE`, `sqlite::memory:`, a bare file path, or `postgres://…`. */
export async function openSqlDb(url: string, opts: OpenSqlOptions = {}): Promise<SqlDb> {
  if (isPostgresUrl(url)) return openPostgres(url, opts);
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
  const prep = (q: Fragment) => {
    const { text, params } = render(q, 'sqlite');
    let s = cache.get(text);
    if (!s) {
      s = db.prepare(text);
      cache.set(text, s);
    }
    // anyOf renders an IN list here, so no array reaches SQLite.
    return { s, params: (params as SqlValue[]).map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p)) };
  };
  const conn: SqlConn = {
    dialect: 'sqlite',
    all: async <T>(q: Fragment) => {
      const { s, params } = prep(q);
      return s.all(...params) as T[];
    },
    get: async <T>(q: Fragment) => {
      const { s, params } = prep(q);
      return s.get(...params) as T | undefined;
    },
    run: async (q) => {
      const { s, params } = prep(q);
      return { changes: s.run(...params).changes };
    },
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
    // Under the writers' lock: on the one connection, a read between a transaction's statements would see its writes.
    get: <T>(q: Fragment) => mutex.lock(async () => conn.get<T>(q)),
    autocommit: () => ({
      dialect: 'sqlite',
      all: <T>(q: Fragment) => mutex.lock(async () => conn.all<T>(q)),
      get: <T>(q: Fragment) => mutex.lock(async () => conn.get<T>(q)),
      run: (q: Fragment) => mutex.lock(async () => conn.run(q)),
    }),
    exec: async (text) => void db.exec(text),
    stats: () => ({ total: 1, idle: 1, waiting: 0, errors: 0, retries: 0 }),
    close: async () => mutex.lock(async () => void db.close()),
  };
}

/**
 * Prepared statements on PostgreSQL: each distinct SQL text gets a name, so a connection parses and plans it once
 * and later sends only its values (a batch's multi-row INSERTs are long texts, parsed again at every batch before).
 * The names are capped per process (texts differ with the number of rows), and so per connection. Writes (INSERT,
 * WITH … INSERT), whose result shape never changes with a migration, unlike a prepared `SELECT *`; and the reads
 * marked `prepared` (named columns, texts of one size).
 */
const statementNames = new Map<string, string>();
const MAX_STATEMENTS = 400;
function statementName(text: string, marked: boolean): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_STATEMENTS && (marked || /^\s*(INSERT|WITH)\b/.test(text)) && !text.includes(';')) {
    name = `pp${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/** SQLSTATEs after which the whole transaction is safely run again: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);

async function openPostgres(url: string, opts: OpenSqlOptions): Promise<SqlDb> {
  const { default: pg } = await import('pg');
  // BIGINT (int8) and NUMERIC come back as JS numbers: amounts are safe integers by contract.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 || oid === 1700 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
  } as unknown as import('pg').CustomTypesConfig;
  const poolMax = opts.poolMax ?? 10;
  if (!Number.isInteger(poolMax) || poolMax < 1) throw new StorageError(`pool size must be a positive integer, got ${poolMax}`);
  const pool = new pg.Pool({ connectionString: url, max: poolMax, types });
  let poolErrors = 0;
  let retries = 0;
  // An idle client dying is not fatal (the next query opens a new connection), but it is logged and counted.
  pool.on('error', (err) => {
    poolErrors++;
    opts.onPoolError?.(err);
  });
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StorageError(`cannot connect to PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  // A statement on a pooled connection (a transaction's) or on the pool itself (autocommit): named alike.
  const queryOn = (on: Pick<import('pg').Pool, 'query'>, f: Fragment) => {
    const { text, params } = render(f, 'postgres');
    return on.query({ text, values: params, name: statementName(text, f.prepare === true) });
  };
  const connOf = (client: import('pg').PoolClient): SqlConn => {
    const q = (f: Fragment) => queryOn(client, f);
    return {
      dialect: 'postgres',
      all: async <T>(f: Fragment) => (await q(f)).rows as T[],
      get: async <T>(f: Fragment) => (await q(f)).rows[0] as T | undefined,
      run: async (f) => ({ changes: (await q(f)).rowCount ?? 0 }),
    };
  };
  const maxAttempts = opts.maxAttempts ?? 8;
  const once = async <T>(fn: (c: SqlConn) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(connOf(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  };
  return {
    dialect: 'postgres',
    tx: async (fn) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(fn);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= maxAttempts) throw err;
          retries++;
          // Back off a little, with jitter, so the transactions that collided do not collide again at once.
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        }
      }
    },
    get: async <T>(q: Fragment) => (await queryOn(pool, q)).rows[0] as T | undefined,
    autocommit: () => {
      const q = (f: Fragment) => queryOn(pool, f);
      return {
        dialect: 'postgres',
        all: async <T>(f: Fragment) => (await q(f)).rows as T[],
        get: async <T>(f: Fragment) => (await q(f)).rows[0] as T | undefined,
        run: async (f: Fragment) => ({ changes: (await q(f)).rowCount ?? 0 }),
      };
    },
    exec: async (text) => {
      await pool.query(text);
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, errors: poolErrors, retries }),
    close: async () => {
      await pool.end();
    },
  };
}
