// The monthly partitions of `records` on PostgreSQL (migration 8): the months ahead are made before records arrive
// for them, and an old month is detached into a plain table to archive. SQLite keeps one table (nothing to do).
import { PalmPayError } from '../util/errors.ts';
import { ADVISORY_LOCK, raw, sql, type SqlDb } from './sql.ts';

/** Months made ahead of the current one: a server that runs for weeks never writes into the default partition. */
const MONTHS_AHEAD = 2;

/** `YYYY-MM` of a UTC instant. Pure. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The partition of a month: its table name and its [from, to) range of received_at (ms). Pure. */
export function monthPartition(month: string): { table: string; from: number; to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const y = m ? Number(m[1]) : NaN;
  const mo = m ? Number(m[2]) : NaN;
  if (!m || mo < 1 || mo > 12) throw new PalmPayError('RECORDS_MONTH_INVALID', `a month is YYYY-MM, got ${month}`);
  return { table: `records_${m[1]}_${m[2]}`, from: Date.UTC(y, mo - 1, 1), to: Date.UTC(y, mo, 1) };
}

/** The months from the one holding `now` to MONTHS_AHEAD after it. Pure. */
export function monthsAhead(now: number): string[] {
  const d = new Date(now);
  return Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i, 1)));
}

/** Whether `records` is partitioned here (PostgreSQL at migration 8 or later). */
async function partitioned(db: SqlDb): Promise<boolean> {
  if (db.dialect !== 'postgres') return false;
  const row = await db.get<{ p: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('records')) AS p`);
  return row?.p === true;
}

/**
 * Makes the partitions of this month and the next ones that do not exist yet (idempotent; several processes at
 * once wait on one lock). Returns the months made. A month whose rows already sit in the default partition (a clock
 * that ran ahead) cannot be made: its rows stay there, and the month is reported in `blocked`.
 */
export async function ensureRecordMonths(db: SqlDb, now: number): Promise<{ made: string[]; blocked: string[] }> {
  const out = { made: [] as string[], blocked: [] as string[] };
  if (!(await partitioned(db))) return out;
  for (const month of monthsAhead(now)) {
    const p = monthPartition(month);
    try {
      const made = await db.tx(async (c) => {
        await c.run(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.partition})`);
        if ((await c.get(sql`SELECT to_regclass(${p.table}) AS t`))?.t) return false;
        await c.run(raw(`CREATE TABLE ${p.table} PARTITION OF records FOR VALUES FROM (${p.from}) TO (${p.to})`));
        return true;
      });
      if (made) out.made.push(month);
    } catch (err) {
      // 23514: rows of that range already in records_default.
      if ((err as { code?: string }).code !== '23514') throw err;
      out.blocked.push(month);
    }
  }
  return out;
}

/** The attached month partitions, oldest first, with their row counts. */
export async function listRecordMonths(db: SqlDb): Promise<Array<{ month: string; table: string; rows: number }>> {
  if (!(await partitioned(db))) return [];
  const rows = await db.tx((c) =>
    c.all<{ t: string }>(sql`SELECT c.relname AS t FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('records') ORDER BY c.relname`),
  );
  const out: Array<{ month: string; table: string; rows: number }> = [];
  for (const { t } of rows) {
    const m = /^records_(\d{4})_(\d{2})$/.exec(t);
    if (!m) continue;
    const n = await db.get<{ n: number }>(raw(`SELECT COUNT(*) AS n FROM ${t}`));
    out.push({ month: `${m[1]}-${m[2]}`, table: t, rows: Number(n?.n ?? 0) });
  }
  return out;
}

/**
 * Detaches one month of records into a plain table of the same name (to dump, archive and drop by the operator).
 * Refused for the current month and later ones, and for the last `keepMonths` months before it (default 3), which
 * the centre still reads: a duplicate upload is answered from its stored record, a void or refund reads its target.
 */
export async function detachRecordMonth(db: SqlDb, month: string, now: number, keepMonths = 3): Promise<{ table: string; rows: number }> {
  const p = monthPartition(month);
  if (!(await partitioned(db))) throw new PalmPayError('RECORDS_NOT_PARTITIONED', 'records are partitioned by month on PostgreSQL only');
  const d = new Date(now);
  const oldestKept = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - keepMonths, 1);
  if (p.from >= oldestKept) throw new PalmPayError('RECORDS_MONTH_IN_USE', `${month} is too recent to detach: the centre still reads the last ${keepMonths} months and the current one`);
  const attached = await db.get(sql`SELECT 1 AS x FROM pg_inherits WHERE inhparent = to_regclass('records') AND inhrelid = to_regclass(${p.table})`);
  if (!attached) throw new PalmPayError('RECORDS_MONTH_UNKNOWN', `no attached partition ${p.table} for ${month}`);
  const n = await db.get<{ n: number }>(raw(`SELECT COUNT(*) AS n FROM ${p.table}`));
  await db.tx((c) => c.run(raw(`ALTER TABLE records DETACH PARTITION ${p.table}`)));
  return { table: p.table, rows: Number(n?.n ?? 0) };
}
