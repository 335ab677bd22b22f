// Commit-ordered positions. A reader that pages by a position ("everything after N") must never find a row
// appear behind its cursor later. A sequence value taken inside a transaction does not promise that: transactions
// commit in another order than they took their values. So the feed and the persons' change log are written with a
// NULL position, and positions are handed out after commit, in order, by `publish`, which holds the row lock of its
// counter: two publishers run one after the other, each sees every row committed before it took the lock, and a
// row committed later gets a larger position from a later run. A reader's snapshot sees a prefix of the runs.
// This is the one serialised step of a write, and it is a few-row UPDATE after the write's own commit.
import { raw, sql, type SqlConn } from './sql.ts';

/** What is published: the feed (`feed.pos`) and the persons' change log (`persons.change_pos`, read by palm-index). */
export type Published = 'feed' | 'persons';

const TABLES: Record<Published, { table: string; pos: string; key: string }> = {
  feed: { table: 'feed', pos: 'pos', key: 'seq' },
  persons: { table: 'persons', pos: 'change_pos', key: 'id' },
};

/** Gives every unpublished row of `what` the next positions, in write order; returns how many it published. */
export async function publish(c: SqlConn, what: Published): Promise<number> {
  const t = TABLES[what];
  const counter = await c.get<{ value: number }>(sql`UPDATE counters SET value = value WHERE name = ${what} RETURNING value`);
  if (!counter) throw new Error(`counter ${what} is missing (schema not migrated?)`);
  const base = Number(counter.value);
  if (c.dialect === 'postgres') {
    // One statement, so one snapshot (taken after the lock is held): rows committed after it started wait for the
    // next run. The positions and the counter's new value in one round trip, so the lock is held one trip shorter.
    const done = await c.get<{ n: number }>(sql`
      WITH s AS (SELECT ${raw(t.key)} AS k, row_number() OVER (ORDER BY ${raw(t.key)}) AS rn FROM ${raw(t.table)} WHERE ${raw(t.pos)} IS NULL),
      u AS (UPDATE ${raw(t.table)} SET ${raw(t.pos)} = ${base} + s.rn FROM s WHERE ${raw(t.table)}.${raw(t.key)} = s.k RETURNING ${raw(t.table)}.${raw(t.pos)} AS p)
      UPDATE counters SET value = GREATEST(value, COALESCE((SELECT MAX(p) FROM u), value)) WHERE name = ${what} RETURNING (SELECT COUNT(*) FROM u) AS n`);
    return Number(done?.n ?? 0);
  }
  // One statement, so one snapshot: rows committed after it started wait for the next run.
  const rows = await c.all<{ p: number }>(sql`
    WITH s AS (SELECT ${raw(t.key)} AS k, row_number() OVER (ORDER BY ${raw(t.key)}) AS rn FROM ${raw(t.table)} WHERE ${raw(t.pos)} IS NULL)
    UPDATE ${raw(t.table)} SET ${raw(t.pos)} = ${base} + s.rn FROM s WHERE ${raw(t.table)}.${raw(t.key)} = s.k RETURNING ${raw(t.table)}.${raw(t.pos)} AS p`);
  if (rows.length === 0) return 0;
  const top = rows.reduce((m, r) => Math.max(m, Number(r.p)), base);
  await c.run(sql`UPDATE counters SET value = ${top} WHERE name = ${what}`);
  return rows.length;
}

/** True when rows of `what` wait for a position (cheap: a partial index holds only those; one statement, no transaction). */
export async function hasUnpublished(c: Pick<SqlConn, 'get'>, what: Published): Promise<boolean> {
  const t = TABLES[what];
  return (await c.get(sql`SELECT 1 AS x FROM ${raw(t.table)} WHERE ${raw(t.pos)} IS NULL LIMIT 1`)) !== undefined;
}

/**
 * One publisher per process: a write that committed asks for a run that starts after its commit, and every write
 * that asks while a run is in progress shares the one next run. So the counter's row lock is wanted by at most one
 * run per process at a time, not by every connection after every commit (which queued all writes and reads of the
 * centre behind it), and one run publishes the rows of many commits in one short transaction.
 */
export class Publisher {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private wanted = new Set<Published>();

  constructor(private readonly run: (what: Published[]) => Promise<void>) {}

  /** Resolves once a run that started after this call has published `what` (rejects if that run failed). */
  request(what: Iterable<Published>): Promise<void> {
    for (const w of what) this.wanted.add(w);
    this.next ??= (async () => {
      await this.running?.catch(() => undefined);
      this.next = undefined;
      const batch = [...this.wanted];
      this.wanted = new Set();
      this.running = this.run(batch);
      try {
        await this.running;
      } finally {
        this.running = undefined;
      }
    })();
    return this.next;
  }
}
