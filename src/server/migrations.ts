// The centre's schema as numbered, forward-only migrations for both backends (the terminal's pattern, see
// src/store/migrations.ts, and README "Migrations" for why not a migration library). `meta.schema_version` holds
// the number of the last one applied. Never edit a shipped migration: add a new one at the end.
import { PalmPayError } from '../util/errors.ts';
import { ADVISORY_LOCK, raw, sql, type Dialect, type SqlConn, type SqlDb } from './sql.ts';

export interface CentreMigration {
  version: number;
  name: string;
  /** The statements, one per entry, for each backend (DDL is transactional on both). */
  statements: (d: Dialect) => string[];
}

const serial = (d: Dialect) => (d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY');

export const CENTRE_MIGRATIONS: readonly CentreMigration[] = [
  {
    version: 1,
    name: 'terminals, records, double-entry ledger, review queue, registry, vouchers, purchases, feed, payroll imports',
    // IF NOT EXISTS: databases made before numbered migrations already hold these tables and schema_version 1.
    statements: (d) => [
      'CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)',
      `CREATE TABLE IF NOT EXISTS terminals (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, branch TEXT NOT NULL, region TEXT NOT NULL,
        status TEXT NOT NULL, code_hash TEXT, code_expires BIGINT,
        public_key TEXT, enc_key TEXT, cert TEXT,
        created_at BIGINT NOT NULL, revoked_at BIGINT, last_seen BIGINT,
        head_seq BIGINT NOT NULL DEFAULT 0, head_hash TEXT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS records (
        terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, type TEXT NOT NULL,
        body TEXT NOT NULL, sig TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, received_at BIGINT NOT NULL,
        PRIMARY KEY (terminal_id, seq))`,
      `CREATE TABLE IF NOT EXISTS txns (
        id ${serial(d)}, source TEXT NOT NULL, terminal_id TEXT, seq BIGINT, ref TEXT NOT NULL, memo TEXT NOT NULL,
        voided_by TEXT, created_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS txns_record ON txns (terminal_id, seq)',
      `CREATE TABLE IF NOT EXISTS postings (
        id ${serial(d)}, txn_id BIGINT NOT NULL, account TEXT NOT NULL, currency TEXT NOT NULL, amount BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS postings_txn ON postings (txn_id)',
      'CREATE INDEX IF NOT EXISTS postings_account ON postings (account)',
      'CREATE TABLE IF NOT EXISTS balances (account TEXT NOT NULL, currency TEXT NOT NULL, balance BIGINT NOT NULL, PRIMARY KEY (account, currency))',
      `CREATE TABLE IF NOT EXISTS review (
        id ${serial(d)}, terminal_id TEXT, seq BIGINT, kind TEXT NOT NULL, reason TEXT NOT NULL,
        created_at BIGINT NOT NULL, resolved_at BIGINT)`,
      `CREATE TABLE IF NOT EXISTS persons (
        id TEXT PRIMARY KEY, region TEXT NOT NULL, status TEXT NOT NULL,
        account_id TEXT, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL,
        digests TEXT NOT NULL, templates TEXT, duplicate_of TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS vouchers (
        id TEXT PRIMARY KEY, period TEXT NOT NULL, person_id TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL,
        branch TEXT NOT NULL, lease_terminal TEXT NOT NULL, lease_id TEXT NOT NULL, status TEXT NOT NULL,
        redeemed_by TEXT, created_at BIGINT NOT NULL, UNIQUE (person_id, period))`,
      `CREATE TABLE IF NOT EXISTS purchases (
        purchase_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, account TEXT NOT NULL,
        amount BIGINT NOT NULL, currency TEXT NOT NULL, refunded BIGINT NOT NULL DEFAULT 0)`,
      `CREATE TABLE IF NOT EXISTS feed (
        seq ${serial(d)}, audience TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS feed_audience ON feed (audience, seq)',
      'CREATE INDEX IF NOT EXISTS feed_key ON feed (audience, kind, key)',
      `CREATE TABLE IF NOT EXISTS payroll_imports (id ${serial(d)}, file_sha256 TEXT NOT NULL, rows BIGINT NOT NULL, created_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 2,
    name: 'commit-ordered positions for the feed and for person changes (no global lock); persons by account',
    // Why: a sequence value is taken when a row is written, but transactions commit in another order, so a reader
    // paging by it could pass a row that commits later. Rows are now written with a NULL position, and positions are
    // handed out after commit, in order, under the row lock of their counter (sequencer.ts).
    statements: (d) => [
      'CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)',
      'ALTER TABLE feed ADD COLUMN pos BIGINT',
      'UPDATE feed SET pos = seq',
      // From the last number ever handed out, not the largest left: a terminal may hold the number of a deleted row.
      d === 'sqlite'
        ? "INSERT INTO counters (name, value) SELECT 'feed', COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'feed'), 0)"
        : "INSERT INTO counters (name, value) SELECT 'feed', CASE WHEN is_called THEN last_value ELSE 0 END FROM feed_seq_seq",
      'CREATE UNIQUE INDEX feed_pos ON feed (pos)',
      'CREATE INDEX feed_audience_pos ON feed (audience, pos)',
      'CREATE INDEX feed_unpublished ON feed (seq) WHERE pos IS NULL',
      'DROP INDEX feed_audience',
      'ALTER TABLE persons ADD COLUMN change_pos BIGINT',
      'UPDATE persons SET change_pos = 0',
      "INSERT INTO counters (name, value) VALUES ('persons', 0)",
      'CREATE INDEX persons_change ON persons (change_pos)',
      'CREATE INDEX persons_unpublished ON persons (id) WHERE change_pos IS NULL',
      'CREATE INDEX persons_account ON persons (account_id)',
    ],
  },
  {
    version: 3,
    name: "the palm index's snapshot: each person's stage-1 entry codes, made once when the templates arrive",
    // Why: at 10⁶ people, decoding and coarse-coding every template at start-up takes minutes; the 128-byte codes
    // load in seconds (palm-index.ts). Derived data: NULL for templates that do not decode (exact match only).
    statements: (d) => [
      `ALTER TABLE persons ADD COLUMN codes ${d === 'sqlite' ? 'BLOB' : 'BYTEA'}`,
      'ALTER TABLE persons ADD COLUMN code_hands TEXT',
    ],
  },
  {
    version: 4,
    name: 'bills: the biller registry, imported bills, subscriber links, bill imports',
    // Why: a bill payment pays one bill the biller issued, exactly and once (billing/); the kiosk no longer decides
    // what a subscriber owes. A bill is unique per biller; paid_by names the record that paid it.
    statements: (d) => [
      `CREATE TABLE billers (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE TABLE bills (
        biller_id TEXT NOT NULL, bill_id TEXT NOT NULL, subscriber TEXT NOT NULL, cycle TEXT NOT NULL,
        amount BIGINT NOT NULL, currency TEXT NOT NULL, due_date TEXT NOT NULL,
        previous_reading BIGINT NOT NULL, current_reading BIGINT NOT NULL,
        status TEXT NOT NULL, paid_by TEXT, paid_at BIGINT, import_id BIGINT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (biller_id, bill_id))`,
      'CREATE INDEX bills_subscriber ON bills (biller_id, subscriber, status)',
      `CREATE TABLE subscriber_links (
        biller_id TEXT NOT NULL, subscriber TEXT NOT NULL, payer_kind TEXT NOT NULL, payer_id TEXT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (biller_id, subscriber, payer_kind, payer_id))`,
      `CREATE TABLE bill_imports (
        id ${serial(d)}, biller_ids TEXT NOT NULL, file_sha256 TEXT NOT NULL, bills BIGINT NOT NULL, created_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 5,
    name: 'settlement: each ledger transaction belongs to the one day it was settled in; the signed settlement of each day',
    // Why: a day is settled once. Its transactions are marked with the day at settlement, so one that commits later
    // (a late upload, a record in flight at midnight) is never lost and never counted twice: it goes to the next day.
    statements: () => [
      'ALTER TABLE txns ADD COLUMN settlement_date TEXT',
      'CREATE INDEX txns_unsettled ON txns (created_at) WHERE settlement_date IS NULL',
      'CREATE INDEX txns_settlement ON txns (settlement_date)',
      'CREATE TABLE settlements (date TEXT PRIMARY KEY, body TEXT NOT NULL, sig TEXT NOT NULL, created_at BIGINT NOT NULL)',
    ],
  },
  {
    version: 6,
    name: "direct debit: mandates (a person's account pays a subscriber's bills up to a maximum) and each debit tried",
    // Why: a bill import pays the bills of mandated subscribers at once; a debit that cannot be made is recorded
    // (never retried silently) so the person sees it on their report and at the next counter visit.
    statements: (d) => [
      `CREATE TABLE mandates (
        id TEXT PRIMARY KEY, person_id TEXT NOT NULL, account_id TEXT NOT NULL, biller_id TEXT NOT NULL, subscriber TEXT NOT NULL,
        max_minor BIGINT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, cancelled_at BIGINT)`,
      'CREATE INDEX mandates_subscriber ON mandates (biller_id, subscriber, status)',
      `CREATE TABLE direct_debits (
        id ${serial(d)}, mandate_id TEXT NOT NULL, biller_id TEXT NOT NULL, bill_id TEXT NOT NULL, account_id TEXT NOT NULL,
        amount BIGINT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, txn_id BIGINT, created_at BIGINT NOT NULL)`,
      'CREATE INDEX direct_debits_account ON direct_debits (account_id, created_at)',
      'CREATE INDEX direct_debits_txn ON direct_debits (txn_id)',
    ],
  },
  {
    version: 7,
    name: 'request nonces: each signed terminal request is accepted once, by whichever centre process, until its window closes',
    // Why: an in-memory cache of seen requests forgets them on restart and is not shared by `--workers N`, so a
    // captured request replayed after a restart or to another worker was accepted. The nonce is claimed in the
    // database (a primary key: two processes cannot both claim it) and forgotten once the time window has closed.
    statements: () => [
      'CREATE TABLE request_nonces (terminal_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (terminal_id, nonce))',
      'CREATE INDEX request_nonces_expiry ON request_nonces (expires_at)',
    ],
  },
  {
    // Issue 17d.
    version: 8,
    name: "meter readings typed at a counter: each accepted reading, the last one it was checked against, and when it was forwarded to its biller",
    // Why: a subscriber's reading reaches the biller only through the centre, which re-checks it (linked payer,
    // registered biller, never below the last reading without a supervisor's approval); the biller's export takes
    // each reading once.
    statements: () => [
      `CREATE TABLE meter_readings (
        terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, reading_id TEXT NOT NULL, biller_id TEXT NOT NULL, subscriber TEXT NOT NULL,
        person_id TEXT NOT NULL, reading BIGINT NOT NULL, last_reading BIGINT, approved_by TEXT, read_at BIGINT NOT NULL,
        received_at BIGINT NOT NULL, exported_at BIGINT, PRIMARY KEY (terminal_id, seq))`,
      'CREATE INDEX meter_readings_subscriber ON meter_readings (biller_id, subscriber, received_at)',
    ],
  },
  {
    version: 9,
    name: "registration throttle counted in the database for every centre process; operators' roles granted per terminal",
    // Why: a count kept in one process's memory gave an attacker the limit once per `--workers` process (and anew
    // after each restart). The row is counted with one upsert, so two processes cannot both take the last attempt.
    statements: () => [
      'CREATE TABLE register_failures (address TEXT PRIMARY KEY, failures BIGINT NOT NULL, window_until BIGINT NOT NULL)',
      'CREATE INDEX register_failures_window ON register_failures (window_until)',
      // Operators and their role at each terminal, granted at the centre: they reach the terminal in its signed feed,
      // and ingest checks that a supervisor's approval on a record is by an operator granted that role there.
      `CREATE TABLE operator_grants (
        terminal_id TEXT NOT NULL, operator_id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, active BIGINT NOT NULL,
        updated_at BIGINT NOT NULL, PRIMARY KEY (terminal_id, operator_id))`,
    ],
  },
  {
    version: 10,
    name: 'records partitioned by month on PostgreSQL (declarative range partitions on received_at), so old months can be detached and archived',
    // Why: records are the bulk of the centre and are only read back for a short while (duplicates, voids, refunds);
    // a month detached (`palmpay server records detach`) is a plain table to dump and drop, without touching the
    // live one. The primary key must hold the partition key, so it is (terminal_id, seq, received_at): a record is
    // still one per (terminal, seq) because a batch stores only seq = head + 1 under its terminal's row lock.
    // Months outside the ones made here (a clock far off) land in records_default. SQLite: nothing to do.
    statements: (d) =>
      d === 'sqlite'
        ? []
        : [
            'ALTER TABLE records RENAME TO records_unpartitioned',
            'ALTER TABLE records_unpartitioned RENAME CONSTRAINT records_pkey TO records_unpartitioned_pkey',
            `CREATE TABLE records (
              terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, type TEXT NOT NULL,
              body TEXT NOT NULL, sig TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, received_at BIGINT NOT NULL,
              PRIMARY KEY (terminal_id, seq, received_at)) PARTITION BY RANGE (received_at)`,
            'CREATE TABLE records_default PARTITION OF records DEFAULT',
            // A partition for each month of the last three years that holds records, and for this month and the next two.
            `DO $$
            DECLARE m timestamp;
            BEGIN
              FOR m IN
                SELECT DISTINCT date_trunc('month', to_timestamp(received_at / 1000.0) AT TIME ZONE 'UTC') FROM records_unpartitioned
                  WHERE received_at >= extract(epoch FROM (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '36 months') AT TIME ZONE 'UTC') * 1000
                    AND received_at < extract(epoch FROM (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months') AT TIME ZONE 'UTC') * 1000
                UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + n * interval '1 month' FROM generate_series(0, 2) AS n
              LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF records FOR VALUES FROM (%s) TO (%s)', 'records_' || to_char(m, 'YYYY_MM'),
                  (extract(epoch FROM m AT TIME ZONE 'UTC') * 1000)::bigint, (extract(epoch FROM (m + interval '1 month') AT TIME ZONE 'UTC') * 1000)::bigint);
              END LOOP;
            END $$`,
            'INSERT INTO records SELECT terminal_id, seq, hash, type, body, sig, status, reason, received_at FROM records_unpartitioned',
            'DROP TABLE records_unpartitioned',
          ],
  },
  {
    // Issue 17f.
    version: 11,
    name: "customers' PINs set at a supervised counter: the scrypt verifier of each person's PIN, who set it and who approved it",
    // Why: a payer without a PIN gets one at a counter (signed `pin_set`, a supervisor's approval re-checked here);
    // the centre keeps the verifier (never the PIN) and sends it in the region's feed, so it works at every counter.
    // `set_at` is the record's own time: of two PINs set offline at two counters, the later one stands.
    statements: () => [
      `CREATE TABLE customer_pins (
        person_id TEXT PRIMARY KEY, pin_hash TEXT NOT NULL, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL,
        approved_by TEXT NOT NULL, set_at BIGINT NOT NULL, received_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 12,
    name: "reports served only after the centre checks the person's PIN online: PIN attempts and lockout at the centre, and the report access log",
    // Why (issue 17): a report was served to any terminal of the region for a typed person id. Now each request
    // carries a signed `report_request` and the PIN sealed to the centre, checked against `customer_pins` with
    // attempts counted here (every centre process shares them). `report_access` says who (terminal, operator) asked
    // for whose report and when, and how it ended; its (terminal, request id) key refuses a replay, and its rows
    // per terminal in the last minute and day are the rate limit.
    statements: () => [
      'ALTER TABLE customer_pins ADD COLUMN failed INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE customer_pins ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0',
      `CREATE TABLE report_access (
        terminal_id TEXT NOT NULL, request_id TEXT NOT NULL, seq BIGINT NOT NULL, operator_id TEXT NOT NULL,
        person_id TEXT NOT NULL, month TEXT NOT NULL, at BIGINT NOT NULL, outcome TEXT NOT NULL,
        PRIMARY KEY (terminal_id, request_id))`,
      'CREATE INDEX report_access_terminal_at ON report_access (terminal_id, at)',
      'CREATE INDEX report_access_person_at ON report_access (person_id, at)',
    ],
  },
  {
    // Issue 19.
    version: 13,
    name: 'template updates at the centre: each terminal update awaiting or judged, and the admitted captures as sealed slots per enrolled template',
    // Why: a counter may add a confident capture to a person's template (signed `template_update`); the centre
    // re-decides it on its own copies once the capture arrives, keeps the admitted capture sealed at rest (like
    // the enrolled templates) and sends the template's slots to the region's terminals. A capture is used once:
    // its digest is unique, so an old capture re-signed under a new update id is refused as a replay.
    statements: () => [
      `CREATE TABLE template_updates (
        update_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, person_id TEXT NOT NULL,
        enrolled_digest TEXT NOT NULL, capture_digest TEXT NOT NULL UNIQUE, pin_verified BIGINT NOT NULL,
        status TEXT NOT NULL, reason TEXT, received_at BIGINT NOT NULL, decided_at BIGINT)`,
      'CREATE INDEX template_updates_person ON template_updates (person_id, status)',
      `CREATE TABLE template_slots (
        update_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, enrolled_digest TEXT NOT NULL, ord BIGINT NOT NULL,
        sealed TEXT NOT NULL, digest TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      'CREATE INDEX template_slots_template ON template_slots (person_id, enrolled_digest, ord)',
    ],
  },
  {
    version: 14,
    name: 'a lease move waits for the holder to give the lease back: the pending target of each voucher',
    // Why: a lease moved as soon as the holder had been heard from recently, yet the holder could pay the salary
    // offline a moment later and the new holder pay it again. A move now only withdraws the lease and notes its
    // target here; the holder's signed `lease_release` (after every payout it signed before) grants it there.
    statements: () => ['ALTER TABLE vouchers ADD COLUMN lease_pending TEXT'],
  },
  {
    version: 15,
    name: "operator enrolment codes: the one-time code that lets a counter enrol a granted operator's palm with nobody signed in",
    // Why (issue 14): an operator signs in with their palm, and enrolling a palm needs an enroller signed in, so the
    // first operator of a new region could never sign in. The admin issues a code bound to (terminal, operator),
    // stored hashed; the counter proves it online (claimed), and the enrolment record that names the code's id is
    // accepted once (used). Any other enrolment of a granted operator's id goes to review (invariants rule 14).
    statements: () => [
      `CREATE TABLE operator_enrol_codes (
        id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, operator_id TEXT NOT NULL, code_hash TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, claimed_at BIGINT,
        used_by TEXT, updated_at BIGINT NOT NULL)`,
      'CREATE INDEX operator_enrol_codes_pair ON operator_enrol_codes (terminal_id, operator_id)',
    ],
  },
  {
    version: 16,
    name: 'palm module features: the feature blob an enrolment on a module that matches on its own pinned, sealed per person and family',
    // Why (issue 14 §2): a person enrolled at a counter whose module matches on its own is known to the region's
    // other counters with such a module only through that module's feature; the signed record pins its digest,
    // the blob comes with the templates and is kept sealed under the template key (keys.ts sealModuleFeature).
    statements: () => [
      `CREATE TABLE person_module_features (
        person_id TEXT NOT NULL, family TEXT NOT NULL, digest TEXT NOT NULL, sealed TEXT NOT NULL,
        created_at BIGINT NOT NULL, PRIMARY KEY (person_id, family))`,
    ],
  },
  {
    version: 17,
    name: "offline limits history: every version of a terminal's offline limits with the time it was set",
    // Why: the centre re-checks the offline limits of each purchase (invariants checkOfflineLimits) with the limits
    // the terminal could have held when it signed it; the feed keeps only the latest version, and a limit lowered
    // after the terminal last synced must not send its honest records to review. A version already in the feed
    // (the latest) is carried over with the time it was published; versions before it were not kept.
    statements: (d) => [
      `CREATE TABLE terminal_limits (
        id ${serial(d)}, terminal_id TEXT NOT NULL, set_at BIGINT NOT NULL, limits TEXT NOT NULL)`,
      'CREATE INDEX terminal_limits_terminal ON terminal_limits (terminal_id, set_at)',
      `INSERT INTO terminal_limits (terminal_id, set_at, limits)
        SELECT key, created_at, ${d === 'sqlite' ? "json_extract(data, '$.limits')" : "(data::json -> 'limits')::text"} FROM feed WHERE kind = 'terminal_limits' ORDER BY seq`,
    ],
  },
  {
    version: 18,
    name: "templates as one sealed BYTEA/BLOB per person (persons.templates); the JSON text column kept as templates_json until the centre moves it",
    // Why (issue 16, storage): a duplicate check opens 1,024 candidates' templates; as JSON of base64 strings sealed
    // one by one that was a JSON parse, a base64 decode and a decipher per template, and megabytes of strings a check
    // for the garbage collector. Resealing needs the template key, which is not in the database: `Central.open`
    // moves every templates_json into the blob (keys.ts sealTemplates) before it serves, and empties it.
    statements: (d) => [
      'ALTER TABLE persons RENAME COLUMN templates TO templates_json',
      `ALTER TABLE persons ADD COLUMN templates ${d === 'sqlite' ? 'BLOB' : 'BYTEA'}`,
    ],
  },
];

/** The newest schema this build knows. */
export const SCHEMA_VERSION = CENTRE_MIGRATIONS[CENTRE_MIGRATIONS.length - 1]!.version;

export class SchemaTooNewError extends PalmPayError {
  constructor(found: number) {
    super('SERVER_SCHEMA_TOO_NEW', `the centre database is at schema version ${found}, newer than this server (${SCHEMA_VERSION}): upgrade the server, never the other way round`);
  }
}

async function versionOf(c: SqlConn): Promise<number> {
  const exists = c.dialect === 'sqlite'
    ? await c.get(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`)
    : await c.get(sql`SELECT to_regclass('meta') AS t`).then((r) => (r?.t ? r : undefined));
  if (!exists) return 0;
  const row = await c.get<{ v: string }>(sql`SELECT v FROM meta WHERE k = 'schema_version'`);
  return row ? Number(row.v) : 0;
}

/** The version the database is at, and the migrations it still needs (throws when it is newer than this build). */
export async function pendingMigrations(db: SqlDb): Promise<{ current: number; pending: CentreMigration[] }> {
  const current = await db.tx(versionOf);
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current);
  return { current, pending: CENTRE_MIGRATIONS.filter((m) => m.version > current) };
}

/**
 * Applies every pending migration, each in its own transaction with its version bump, so a failure leaves the
 * database at the last complete version. Several server processes may start at once: PostgreSQL serialises them on
 * an advisory lock, SQLite on its write lock, and each re-reads the version once it holds the lock.
 */
export async function migrate(db: SqlDb, opts: { upTo?: number; onApply?: (m: CentreMigration) => void } = {}): Promise<{ from: number; to: number; applied: number[] }> {
  const { current: from } = await pendingMigrations(db);
  const applied: number[] = [];
  for (const m of CENTRE_MIGRATIONS) {
    if (m.version <= from || m.version > (opts.upTo ?? SCHEMA_VERSION)) continue;
    const did = await db.tx(async (c) => {
      if (c.dialect === 'postgres') await c.run(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.migration})`);
      const now = await versionOf(c);
      if (now > SCHEMA_VERSION) throw new SchemaTooNewError(now);
      if (now >= m.version) return false; // another process got here first
      if (now !== m.version - 1) throw new PalmPayError('SERVER_SCHEMA_GAP', `cannot apply migration ${m.version} to a database at version ${now}`);
      for (const stmt of m.statements(c.dialect)) await c.run(raw(stmt));
      await c.run(sql`INSERT INTO meta (k, v) VALUES ('schema_version', ${String(m.version)}) ON CONFLICT (k) DO UPDATE SET v = excluded.v`);
      return true;
    });
    if (did) {
      applied.push(m.version);
      opts.onApply?.(m);
    }
  }
  return { from, to: await db.tx(versionOf), applied };
}

/** Refuses a database this build cannot serve: newer than it knows, or not yet migrated. */
export async function assertCurrent(db: SqlDb): Promise<void> {
  const { current } = await pendingMigrations(db);
  if (current < SCHEMA_VERSION) {
    throw new PalmPayError('SERVER_SCHEMA_OLD', `the centre database is at schema version ${current}; this server needs ${SCHEMA_VERSION}: run \`palmpay server migrate\``);
  }
}
