// Numbered centre migrations on both backends: each applies on its own, keeps what the previous held, a newer
// database is refused, and the query layer writes native placeholders (a `?` in a literal or a JSONB operator stays).
import { afterEach, describe, expect, it } from 'vitest';
import { CENTRE_MIGRATIONS, migrate, pendingMigrations, SCHEMA_VERSION } from '../../src/server/migrations.ts';
import { Repo } from '../../src/server/repo.ts';
import { detachRecordMonth, ensureRecordMonths, listRecordMonths, monthOf, monthPartition, monthsAhead } from '../../src/server/record-months.ts';
import { join, openSqlDb, raw, sql, type SqlDb } from '../../src/server/sql.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb } from './helpers.ts';
import { coarseCode } from '../../src/biometrics/identify/coarse-code.ts';
import { sha256Hex } from '../../src/protocol/crypto.ts';
import { keyDirFor, loadCentreKeys, openTemplates } from '../../src/server/keys.ts';
import { enrolmentBytes, enrolmentTemplate } from '../support/synthetic-codes.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];

describe.each(backends)('centre migrations on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  const open: Array<{ close(): Promise<void> }> = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close().catch(() => undefined);
    for (const c of cleanups.splice(0)) await c();
  });
  async function fresh(): Promise<{ url: string; db: SqlDb }> {
    const t = await tempDb(kind);
    cleanups.push(t.cleanup);
    const db = await openSqlDb(t.url);
    open.push(db);
    return { url: t.url, db };
  }

  it.skipIf(skip)('numbers migrations 1…N without gaps, and an empty database needs them all', async () => {
    expect(CENTRE_MIGRATIONS.map((m) => m.version)).toEqual(CENTRE_MIGRATIONS.map((_, i) => i + 1));
    const { db } = await fresh();
    const p = await pendingMigrations(db);
    expect(p.current).toBe(0);
    expect(p.pending.map((m) => m.version)).toEqual(CENTRE_MIGRATIONS.map((m) => m.version));
  });

  it.skipIf(skip)('migration 1: the original schema, recorded as version 1', async () => {
    const { db } = await fresh();
    expect(await migrate(db, { upTo: 1 })).toMatchObject({ from: 0, to: 1, applied: [1] });
    await db.tx(async (c) => {
      await c.run(sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ('all', 'k', 'a', '{}', 1)`);
      expect(await c.get(sql`SELECT v FROM meta WHERE k = 'schema_version'`)).toEqual({ v: '1' });
    });
  });

  it.skipIf(skip)('migration 2: feed cursors held by terminals stay valid, new events come after them; persons get a change position', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 1 });
    await db.tx(async (c) => {
      for (const key of ['a', 'b', 'c']) await c.run(sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ('all', 'k', ${key}, '{}', 1)`);
      await c.run(sql`DELETE FROM feed WHERE key = 'c'`); // the newest row gone: its number must not be handed out again
      await c.run(sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, created_at, updated_at) VALUES ('P1', 'R', 'confirmed', 'T', 1, '[]', 1, 1)`);
    });
    expect(await migrate(db, { upTo: 2 })).toMatchObject({ from: 1, to: 2, applied: [2] });
    await migrate(db);
    await db.close();
    const repo = await Repo.open(url);
    open.push(repo);
    const before = await repo.tx((r) => r.feedSince(['all'], 0, 10));
    expect(before.map((f) => [f.key, Number(f.seq)])).toEqual([['a', 1], ['b', 2]]);
    await repo.tx((r) => r.appendFeed('all', 'k', 'd', {}, 2));
    const after = await repo.tx((r) => r.feedSince(['all'], 2, 10));
    expect(after.map((f) => f.key)).toEqual(['d']);
    expect(Number(after[0]!.seq)).toBeGreaterThan(3);
    expect(Number((await repo.tx((r) => r.getPerson('P1')))?.change_pos)).toBe(0);
  });

  it.skipIf(skip)('migration 3: stage-1 codes stored with the templates feed the palm index at start', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 2 });
    await db.tx((c) => c.run(sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, created_at, updated_at, change_pos)
      VALUES ('P1', 'R', 'confirmed', 'T', 1, '["d1"]', '["AAAA"]', 1, 1, 0)`));
    expect(await migrate(db, { upTo: 3 })).toMatchObject({ from: 2, applied: [3] });
    const code = new Uint8Array(128).fill(7);
    await db.tx((c) => c.run(sql`UPDATE persons SET codes = ${code}, code_hands = '["left"]', change_pos = NULL`));
    await db.close();
    const central = await Central.open(url);
    open.push(central);
    await central.startIndex();
    expect(central.palmIndex.stats()).toMatchObject({ persons: 1, entries: 1 });
  });

  it.skipIf(skip)('migration 14: vouchers of an older database keep their lease, with no move pending', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 13 });
    await db.tx((c) => c.run(sql`INSERT INTO vouchers (id, period, person_id, amount, currency, branch, lease_terminal, lease_id, status, redeemed_by, created_at)
      VALUES ('V1', '2026-11', 'E1', 100, 'SYP', 'B1', 'T1', 'L1', 'open', NULL, 1)`));
    expect(await migrate(db, { upTo: 14 })).toMatchObject({ from: 13, applied: [14] });
    await db.close();
    const repo = await Repo.open(url);
    open.push(repo);
    expect(await repo.tx((r) => r.getVoucher('V1'))).toMatchObject({ lease_terminal: 'T1', lease_id: 'L1', lease_pending: null, status: 'open' });
  });

  it.skipIf(skip)('migration 15: operator enrolment codes start empty; a code is found by its hash only, once', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 14 });
    expect(await migrate(db, { upTo: 15 })).toMatchObject({ from: 14, applied: [15] });
    await db.tx((c) => c.run(sql`INSERT INTO operator_enrol_codes (id, terminal_id, operator_id, code_hash, status, created_at, expires_at, updated_at)
      VALUES ('OC-1', 'T1', 'OP-1', 'h1', 'open', 1, 2, 1)`));
    await expect(db.tx((c) => c.run(sql`INSERT INTO operator_enrol_codes (id, terminal_id, operator_id, code_hash, status, created_at, expires_at, updated_at)
      VALUES ('OC-2', 'T2', 'OP-2', 'h1', 'open', 1, 2, 1)`))).rejects.toThrow();
    await db.close();
    const repo = await Repo.open(url);
    open.push(repo);
    expect(await repo.tx((r) => r.conn.all(sql`SELECT id, status, claimed_at, used_by FROM operator_enrol_codes`))).toEqual([{ id: 'OC-1', status: 'open', claimed_at: null, used_by: null }]);
  });

  it.skipIf(skip)('migration 16: palm module features start empty, one per person and family', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 15 });
    expect(await migrate(db, { upTo: 16 })).toMatchObject({ from: 15, applied: [16] });
    const put = (person: string, family: string) =>
      db.tx((c) => c.run(sql`INSERT INTO person_module_features (person_id, family, digest, sealed, created_at) VALUES (${person}, ${family}, 'd', 's1:x', 1)`));
    await put('P-1', 'PalmSim-L015');
    await put('P-1', 'Other-X');
    await expect(put('P-1', 'PalmSim-L015')).rejects.toThrow();
    await db.close();
    const repo = await Repo.open(url);
    open.push(repo);
    expect(await repo.tx((r) => r.conn.all(sql`SELECT person_id, family FROM person_module_features ORDER BY family`))).toEqual([
      { person_id: 'P-1', family: 'Other-X' },
      { person_id: 'P-1', family: 'PalmSim-L015' },
    ]);
  });

  it.skipIf(skip)('refuses a database newer than this server, and a server told not to migrate refuses an old one', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 1 });
    await db.close();
    await expect(Repo.open(url, { migrate: false })).rejects.toMatchObject({ code: 'SERVER_SCHEMA_OLD' });
    const repo = await Repo.open(url);
    await repo.tx((r) => r.setMeta('schema_version', String(SCHEMA_VERSION + 1)));
    await repo.close();
    await expect(Repo.open(url)).rejects.toMatchObject({ code: 'SERVER_SCHEMA_TOO_NEW' });
    await expect(Central.open(url)).rejects.toMatchObject({ code: 'SERVER_SCHEMA_TOO_NEW' });
  });

  // SQLite: one process holds the database (several would queue on its write lock); PostgreSQL: several at once.
  it.skipIf(kind !== 'postgres' || !PG_URL)('several servers starting at once migrate once and agree on one server key', async () => {
    const { db, url } = await fresh();
    await db.close();
    const centrals = await Promise.all([Central.open(url), Central.open(url), Central.open(url)]);
    open.push(...centrals);
    expect(new Set(centrals.map((c) => c.identity.publicKeyHex)).size).toBe(1);
    expect(await centrals[0]!.repo.tx((r) => r.getMeta('schema_version'))).toBe(String(SCHEMA_VERSION));
  });

  it.skipIf(kind !== 'postgres' || !PG_URL)('migration 8: records partitioned by month keep what they held; an old month is detached and archived', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 7 });
    const d = new Date();
    const monthAgo = (n: number, day = 15) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, day);
    const row = (tid: string, seq: number, at: number) => sql`(${tid}, ${seq}, 'h', 'purchase', '{}', 's', 'accepted', ${null}, ${at})`;
    await db.tx((c) => c.run(sql`INSERT INTO records (terminal_id, seq, hash, type, body, sig, status, reason, received_at)
      VALUES ${join([row('T0', 1, monthAgo(5)), row('T0', 2, monthAgo(5, 20)), row('T0', 3, monthAgo(4)), row('T0', 4, 5)])}`));
    expect(await migrate(db, { upTo: 8 })).toMatchObject({ from: 7, applied: [8] });
    await db.close();
    const where = async (c: Central) =>
      c.repo.db.tx((x) => x.all<{ seq: number; part: string }>(sql`SELECT seq, tableoid::regclass::text AS part FROM records ORDER BY terminal_id, seq`));
    const central = await Central.open(url);
    open.push(central);
    const old = monthPartition(monthOf(monthAgo(5)));
    // Each row in its month; a row from a clock decades off in the default partition.
    expect((await where(central)).map((r) => [Number(r.seq), r.part])).toEqual([[1, old.table], [2, old.table], [3, monthPartition(monthOf(monthAgo(4))).table], [4, 'records_default']]);
    // New records go to this month's partition, made in advance, as do the next months'.
    const t = await registeredTerminal(central, 'T1');
    await central.creditAccount('A1', 10_000, 'SYP');
    await enrolCustomer(central, t, 'P1', 'A1');
    expect((await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100))]))[0]).toMatchObject({ status: 'accepted' });
    const now = monthPartition(monthOf(Date.now())).table;
    expect((await where(central)).filter((r) => r.part === now)).toHaveLength(2);
    expect(await ensureRecordMonths(central.repo.db, Date.now())).toEqual({ made: [], blocked: [] });
    expect((await listRecordMonths(central.repo.db)).map((m) => m.month)).toEqual(expect.arrayContaining(monthsAhead(Date.now())));
    // Detach: recent months are refused; an old one leaves records and stays whole as a plain table to archive.
    await expect(detachRecordMonth(central.repo.db, monthOf(Date.now()), Date.now())).rejects.toMatchObject({ code: 'RECORDS_MONTH_IN_USE' });
    await expect(detachRecordMonth(central.repo.db, monthOf(monthAgo(1)), Date.now())).rejects.toMatchObject({ code: 'RECORDS_MONTH_IN_USE' });
    expect(await detachRecordMonth(central.repo.db, monthOf(monthAgo(5)), Date.now())).toEqual({ table: old.table, rows: 2 });
    expect((await where(central)).map((r) => Number(r.seq))).toEqual([3, 4, 1, 2]);
    const archived = await central.repo.db.tx((x) => x.get<{ n: number }>(raw(`SELECT COUNT(*) AS n FROM ${old.table}`)));
    expect(Number(archived!.n)).toBe(2);
    await expect(detachRecordMonth(central.repo.db, monthOf(monthAgo(5)), Date.now())).rejects.toMatchObject({ code: 'RECORDS_MONTH_UNKNOWN' });
    // The centre goes on: the terminal's next record is accepted, and its chain is intact.
    expect((await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 2, 'P1', 'A1', 100))]))[0]).toMatchObject({ status: 'accepted' });
  });

  it.skipIf(skip)('migration 17: the offline limits a terminal was last sent become the first version of its limits history', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 16 });
    const limits = { perTransactionMaxMinor: { SYP: 1_000, USD: 10 }, terminalStoredMaxMinor: { SYP: 100_000, USD: 1_000 }, maxStoredRecordAgeMs: 3_600_000, maxSinceLastSyncMs: 7_200_000 };
    await db.tx(async (c) => {
      await c.run(sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ('terminal:T1', 'terminal_limits', 'T1', ${JSON.stringify({ terminalId: 'T1', limits })}, 1234)`);
      await c.run(sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ('all', 'k', 'x', '{}', 1)`);
    });
    expect(await migrate(db, { upTo: 17 })).toMatchObject({ from: 16, applied: [17] });
    await db.close();
    const repo = await Repo.open(url);
    open.push(repo);
    const history = await repo.tx((r) => r.terminalLimitsHistory('T1'));
    expect(history.map((v) => ({ setAt: v.setAt, limits: JSON.parse(v.limits) as unknown }))).toEqual([{ setAt: 1234, limits }]);
    expect(await repo.tx((r) => r.terminalLimitsHistory('T2'))).toEqual([]);
  });

  it.skipIf(skip)('migration 18: templates move from the JSON text column into one sealed blob per person at start, the palm index unchanged', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 17 });
    const template = enrolmentBytes('P1');
    const code = coarseCode(enrolmentTemplate('P1'));
    await db.tx((c) => c.run(sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, codes, code_hands, created_at, updated_at, change_pos)
      VALUES ('P1', 'R1', 'confirmed', 'T', 1, ${JSON.stringify([sha256Hex(template)])}, ${JSON.stringify([template.toString('base64')])}, ${code}, '["left"]', 1, 1, NULL)`));
    expect(await migrate(db)).toMatchObject({ from: 17, applied: [18] });
    const before = await db.tx((c) => c.get<{ templates: unknown; templates_json: string }>(sql`SELECT templates, templates_json FROM persons WHERE id = 'P1'`));
    expect(before).toEqual({ templates: null, templates_json: JSON.stringify([template.toString('base64')]) });
    await db.close();
    const said: string[] = [];
    const central = await Central.open(url, { say: (line) => said.push(line) });
    open.push(central);
    // Whoever started it is told why it does not answer yet, and when it is done.
    expect(said[0]).toMatch(/moving the templates of 1 person .*migration 18/);
    expect(said.at(-1)).toMatch(/templates moved for 1 person in [0-9.]+ s/);
    const key = Buffer.from(loadCentreKeys(keyDirFor(url)).templateKey, 'base64');
    const p = (await central.repo.tx((r) => r.getPerson('P1')))!;
    expect(p.templates).toBeInstanceOf(Uint8Array);
    expect(openTemplates(key, 'P1', p.templates!)).toEqual([template]);
    expect(await central.repo.tx((r) => r.conn.get(sql`SELECT id FROM persons WHERE templates_json IS NOT NULL`))).toBeUndefined();
    await central.startIndex(1e9);
    expect(central.palmIndex.stats()).toMatchObject({ persons: 1, entries: 1 });
  });

  // PostgreSQL: several server processes share one database there; a SQLite centre is one process (the cluster's primary opens it once).
  it.skipIf(skip || kind === 'sqlite')('migration 18: two centres starting at once move 2,500 people once between them, every blob opening to its own templates', async () => {
    const { db, url } = await fresh();
    await migrate(db, { upTo: 17 });
    const plain = (i: number) => [Buffer.from(`left ${i}`), Buffer.from(`right ${i}`)];
    const rows = Array.from({ length: 2500 }, (_, i) => sql`(${`P${String(i).padStart(4, '0')}`}, 'R1', 'confirmed', 'T', ${i + 1}, '[]', ${JSON.stringify(plain(i).map((b) => b.toString('base64')))}, 1, 1, ${i + 1})`);
    await db.tx((c) => c.run(sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, created_at, updated_at, change_pos) VALUES ${join(rows)}`));
    await migrate(db);
    await db.close();
    const both = await Promise.all([Central.open(url), Central.open(url)]);
    open.push(...both);
    const key = Buffer.from(loadCentreKeys(keyDirFor(url)).templateKey, 'base64');
    const stored = await both[0].repo.tx((r) => r.conn.all<{ id: string; templates: Uint8Array; templates_json: string | null }>(sql`SELECT id, templates, templates_json FROM persons ORDER BY id`));
    expect(stored).toHaveLength(2500);
    stored.forEach((p, i) => {
      expect(p.templates_json).toBeNull();
      expect(openTemplates(key, p.id, p.templates)).toEqual(plain(i));
    });
  });

  it.skipIf(skip)('binds values with the native placeholder; a ? in a literal is left alone', async () => {
    const { db } = await fresh();
    const row = await db.tx((c) => c.get<{ q: string; v: string; n: number }>(sql`SELECT '?' AS q, ${"it's"} AS v, ${7} + 1 AS n`));
    expect(row).toMatchObject({ q: '?', v: "it's" });
    expect(Number(row!.n)).toBe(8);
    if (kind === 'postgres') {
      // The JSONB key-exists operator is a `?`: the old regex rewrite turned it into a parameter.
      const j = await db.tx((c) => c.get<{ has: boolean }>(sql`SELECT ${raw("'{\"a\":1}'::jsonb ? 'a'")} AS has, ${'a'}::text AS k`));
      expect(j?.has).toBe(true);
    }
  });
});
