// The central schema, written once for both backends (the few dialect words are substituted).
import type { SqlDb } from './sql.ts';

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terminals (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, branch TEXT NOT NULL, region TEXT NOT NULL,
  status TEXT NOT NULL,                       -- pending (code issued) | active | revoked
  code_hash TEXT, code_expires BIGINT,
  public_key TEXT, enc_key TEXT, cert TEXT,
  created_at BIGINT NOT NULL, revoked_at BIGINT, last_seen BIGINT,
  head_seq BIGINT NOT NULL DEFAULT 0, head_hash TEXT NOT NULL);
-- Every signed record ever stored, as received: the audit trail ends here (body is the canonical JSON).
CREATE TABLE IF NOT EXISTS records (
  terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, type TEXT NOT NULL,
  body TEXT NOT NULL, sig TEXT NOT NULL,
  status TEXT NOT NULL,                       -- accepted | review
  reason TEXT, received_at BIGINT NOT NULL,
  PRIMARY KEY (terminal_id, seq));
CREATE TABLE IF NOT EXISTS txns (
  id {{SERIAL}}, source TEXT NOT NULL,        -- record | payroll | admin
  terminal_id TEXT, seq BIGINT, ref TEXT NOT NULL, memo TEXT NOT NULL,
  voided_by TEXT, created_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS txns_record ON txns (terminal_id, seq);
CREATE TABLE IF NOT EXISTS postings (
  id {{SERIAL}}, txn_id BIGINT NOT NULL, account TEXT NOT NULL, currency TEXT NOT NULL, amount BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS postings_txn ON postings (txn_id);
CREATE INDEX IF NOT EXISTS postings_account ON postings (account);
CREATE TABLE IF NOT EXISTS balances (
  account TEXT NOT NULL, currency TEXT NOT NULL, balance BIGINT NOT NULL, PRIMARY KEY (account, currency));
CREATE TABLE IF NOT EXISTS review (
  id {{SERIAL}}, terminal_id TEXT, seq BIGINT, kind TEXT NOT NULL, reason TEXT NOT NULL,
  created_at BIGINT NOT NULL, resolved_at BIGINT);
CREATE TABLE IF NOT EXISTS persons (
  id TEXT PRIMARY KEY, region TEXT NOT NULL, status TEXT NOT NULL,  -- provisional | confirmed | duplicate_review | revoked
  account_id TEXT, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL,
  digests TEXT NOT NULL, templates TEXT, duplicate_of TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS vouchers (
  id TEXT PRIMARY KEY, period TEXT NOT NULL, person_id TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL,
  branch TEXT NOT NULL, lease_terminal TEXT NOT NULL, lease_id TEXT NOT NULL,
  status TEXT NOT NULL,                       -- open | redeemed
  redeemed_by TEXT, created_at BIGINT NOT NULL,
  UNIQUE (person_id, period));
CREATE TABLE IF NOT EXISTS purchases (
  purchase_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, account TEXT NOT NULL,
  amount BIGINT NOT NULL, currency TEXT NOT NULL, refunded BIGINT NOT NULL DEFAULT 0);
-- Append-only log the terminals' delta feeds read; audience is 'all', 'region:R' or 'terminal:T'.
CREATE TABLE IF NOT EXISTS feed (
  seq {{SERIAL}}, audience TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS feed_audience ON feed (audience, seq);
CREATE INDEX IF NOT EXISTS feed_key ON feed (audience, kind, key);
CREATE TABLE IF NOT EXISTS payroll_imports (id {{SERIAL}}, file_sha256 TEXT NOT NULL, rows BIGINT NOT NULL, created_at BIGINT NOT NULL);
`;

export async function migrate(db: SqlDb): Promise<void> {
  const serial = db.dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  const ddl = DDL.replaceAll('{{SERIAL}}', serial);
  if (db.dialect === 'postgres') {
    // Several servers (or test workers) may migrate at once: serialise the DDL.
    await db.tx(async (c) => {
      for (const stmt of ddl.replace(/--[^\n]*/g, '').split(';').map((s) => s.trim()).filter(Boolean)) await c.run(stmt);
    });
  } else {
    await db.exec(ddl);
  }
  await db.tx(async (c) => {
    const row = await c.get<{ v: string }>('SELECT v FROM meta WHERE k = ?', ['schema_version']);
    if (!row) await c.run('INSERT INTO meta (k, v) VALUES (?, ?)', ['schema_version', String(SCHEMA_VERSION)]);
  });
}
