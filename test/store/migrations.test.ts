// Numbered migrations: each one applies in order, keeps earlier data, and is tracked in user_version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS, LATEST_VERSION } from '../../src/store/migrations.ts';
import { openDatabase } from '../../src/store/db.ts';
import { openStore } from '../../src/store/store.ts';
import { tempDir } from '../ledger/helpers.ts';

let cleanup: () => void = () => {};
afterEach(() => cleanup());
function fresh(): string {
  const t = tempDir('palmpay-store-');
  cleanup = t.cleanup;
  return join(t.dir, 'terminal.db');
}
const tables = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[]).filter((n) => !n.startsWith('sqlite_'));

describe('migrations', () => {
  it('are numbered 1, 2, 3… with no gap, each named', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name.length).toBeGreaterThan(5);
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('1: settings, people, accounts, operators', () => {
    const db = openDatabase(fresh(), { migrateTo: 1 });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).toEqual(['accounts', 'operators', 'people', 'settings']);
    db.close();
  });

  it('7: vouchers, leases and allowances get a seal column; the feed cursor is reset so the centre resends them sealed', () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 6 });
    db.prepare(`INSERT INTO settings (key, value) VALUES ('sync.feedCursor', '42'), ('sync.lastServerTime', '{}')`).run();
    db.prepare(`INSERT INTO vouchers (voucher_id, person_id, account_id, period, amount_minor, currency, status, updated_at_ms) VALUES ('V-1', 'P-1', 'A-1', '2026-10', 5, 'SYP', 'open', 1)`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 7 });
    expect(db.prepare(`SELECT key FROM settings ORDER BY key`).pluck().all()).toEqual(['sync.lastServerTime']);
    expect(db.prepare(`SELECT voucher_id, seal FROM vouchers`).all()).toEqual([{ voucher_id: 'V-1', seal: null }]);
    for (const t of ['voucher_leases', 'offline_allowances']) expect(db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t)).toContain('seal');
    db.close();
  });

  it('11: allowances get as_of_seq and are dropped with the feed cursor (the centre resends them); PIN attempts indexed', () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 10 });
    db.prepare(`INSERT INTO settings (key, value) VALUES ('sync.feedCursor', '42'), ('sync.lastServerTime', '{}')`).run();
    db.prepare(`INSERT INTO offline_allowances (customer_id, currency, limit_minor, used_minor, granted_at_ms, expires_at_ms, seal) VALUES ('C-1', 'SYP', 9, 3, 1, 2, 'x')`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 11 });
    expect(db.prepare(`SELECT key FROM settings ORDER BY key`).pluck().all()).toEqual(['sync.lastServerTime']);
    expect(db.prepare(`SELECT count(*) FROM offline_allowances`).pluck().get()).toBe(0);
    expect(db.prepare(`SELECT name FROM pragma_table_info('offline_allowances')`).pluck().all()).toContain('as_of_seq');
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT person_id, pin_seal FROM people WHERE pin_failed > 0 OR pin_locked_until_ms > 0 ORDER BY person_id`).all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/people_pin_attempts/);
    db.close();
  });

  it("14: a customer PIN's version columns, empty for a PIN stored before (the oldest; its seal still holds: test/security/pin-order.test.ts)", () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 13 });
    db.prepare(`INSERT INTO people (person_id, name, updated_at_ms, pin_hash, pin_seal) VALUES ('P-1', 'Hevî', 1, 'scrypt$h', 'mac')`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 14 });
    expect(db.prepare(`SELECT pin_hash, pin_seal, pin_at_ms, pin_terminal_id, pin_seq FROM people WHERE person_id = 'P-1'`).get())
      .toEqual({ pin_hash: 'scrypt$h', pin_seal: 'mac', pin_at_ms: null, pin_terminal_id: null, pin_seq: null });
    db.close();
  });

  it("15: module features and module users, empty; keeping a person's palms; a user id 0 or 0xFFFF and a second id for one person are refused", () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 14 });
    db.prepare(`INSERT INTO people (person_id, name, updated_at_ms) VALUES ('P-1', 'Hevî', 1)`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 15 });
    expect(tables(db)).toEqual(expect.arrayContaining(['module_features', 'module_users']));
    expect(db.prepare('SELECT count(*) FROM module_features').pluck().get()).toBe(0);
    expect(db.prepare(`SELECT name FROM people WHERE person_id = 'P-1'`).pluck().get()).toBe('Hevî');
    const add = db.prepare(`INSERT INTO module_users (module_key, user_id, person_id, pseudonym, digest) VALUES ('M', ?, ?, 'pp.x', 'd')`);
    add.run(1, 'P-1');
    expect(() => add.run(2, 'P-1')).toThrow(/UNIQUE/);
    expect(() => add.run(0, 'P-2')).toThrow(/CHECK/);
    expect(() => add.run(0xffff, 'P-2')).toThrow(/CHECK/);
    db.close();
  });

  it('2: templates, vouchers, leases, allowances — keeping version-1 data', () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 1 });
    db.prepare(`INSERT INTO people (person_id, name, updated_at_ms) VALUES ('P-1', 'Hevî', 1)`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 2 });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(tables(db)).toEqual(['accounts', 'offline_allowances', 'operators', 'people', 'settings', 'templates', 'voucher_leases', 'vouchers']);
    expect(db.prepare(`SELECT name FROM people WHERE person_id = 'P-1'`).pluck().get()).toBe('Hevî');
    db.close();
  });

  it('3: journal, outbox and its totals trigger — keeping version-2 data', () => {
    const file = fresh();
    let db = openDatabase(file, { migrateTo: 2 });
    db.prepare(`INSERT INTO vouchers (voucher_id, person_id, account_id, period, amount_minor, currency, updated_at_ms) VALUES ('V-1', 'P-1', 'A-1', '2026-11', 100, 'SYP', 1)`).run();
    db.close();
    db = openDatabase(file, { migrateTo: 3 });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(tables(db)).toContain('journal');
    expect(tables(db)).toContain('outbox');
    expect(db.prepare(`SELECT amount_minor FROM vouchers WHERE voucher_id = 'V-1'`).pluck().get()).toBe(100);
    // the trigger keeps unsynced totals: insert a journal row + outbox row, then acknowledge it
    db.prepare(`INSERT INTO journal (seq, type, ref_id, amount_minor, currency, hlc_ms, prev_hash, hash, body, sig, created_at_ms)
      VALUES (1, 'purchase', 'p', 250, 'USD', 1, 'x', 'y', '{}', 's', 1)`).run();
    db.prepare(`INSERT INTO outbox (seq) VALUES (1)`).run();
    expect(db.prepare(`SELECT total_minor FROM outbox_totals WHERE currency = 'USD'`).pluck().get()).toBe(250);
    db.prepare(`DELETE FROM outbox WHERE seq = 1`).run();
    expect(db.prepare(`SELECT total_minor FROM outbox_totals WHERE currency = 'USD'`).pluck().get()).toBe(0);
    db.close();
  });

  it('4: the drawer-pending queue becomes a table, carrying over the JSON array kept in settings before', () => {
    const file = fresh();
    const db = openDatabase(file, { migrateTo: 3 });
    const row = (seq: number) => db.prepare(`INSERT INTO journal (seq, type, ref_id, amount_minor, currency, hlc_ms, prev_hash, hash, body, sig, created_at_ms)
      VALUES (?, 'salary_payout', ?, 100, 'SYP', 1, 'x', ?, '{}', 's', 1)`).run(seq, `V-${seq}`, `h${seq}`);
    row(1);
    row(2);
    const pending = [1, 2].map((seq) => ({ recordId: `h${seq}`, personId: `P-${seq}`, operatorId: 'op-1', receipt: { recordId: `h${seq}`, seq, lines: [{ label: 'receipt.payout.period', params: { period: '2026-10' } }] } }));
    db.prepare(`INSERT INTO settings (key, value) VALUES ('flows.drawerPending', ?)`).run(JSON.stringify(pending));
    db.close();
    const store = openStore(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
      expect(store.drawerPending.list()).toEqual(pending.map((p) => ({ ...p, seq: p.receipt.seq })));
      expect(store.settings.get('flows.drawerPending')).toBeUndefined();
      store.drawerPending.remove('h1');
      expect(store.drawerPending.list().map((p) => p.recordId)).toEqual(['h2']);
      // A marker names a real record: one for a seq the journal does not hold is refused.
      expect(() => store.drawerPending.add({ recordId: 'h9', seq: 9, personId: 'P-9', operatorId: 'op-1', receipt: {} })).toThrow(/FOREIGN KEY/);
    } finally {
      store.close();
    }
  });

  it('re-opening an up-to-date database changes nothing', () => {
    const file = fresh();
    openDatabase(file).close();
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    db.close();
  });

  it('opens in WAL with synchronous=FULL and foreign keys on, owner-only file', async () => {
    const file = fresh();
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
    const { statSync } = await import('node:fs');
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('refuses a database from a newer PalmPay with a typed error, and leaves it untouched', () => {
    const file = fresh();
    const raw = new Database(file);
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.close();
    expect(() => openStore(file)).toThrow(expect.objectContaining({ code: 'STORE_TOO_NEW' }));
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
    expect(tables(again)).toEqual([]);
    again.close();
  });

  it('refuses a file that is not a database (STORE_CORRUPT)', () => {
    const file = fresh();
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    expect(() => openStore(file)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });
});
