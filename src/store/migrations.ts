// Numbered migrations, applied in order; PRAGMA user_version holds the number of the last one applied.
// Never edit a shipped migration: add a new one at the end.
import type Database from 'better-sqlite3';
import { StoreTooNewError } from './errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'settings, people and accounts (cached from the centre), operators',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE people (
        person_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        id_number TEXT,
        phone TEXT,
        employer_id TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'provisional', 'blocked')),
        pin_hash TEXT,
        pin_failed INTEGER NOT NULL DEFAULT 0,
        pin_locked_until_ms INTEGER NOT NULL DEFAULT 0,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL REFERENCES people(person_id),
        currency TEXT NOT NULL CHECK (currency IN ('SYP', 'USD')),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX accounts_by_person ON accounts(person_id);
      CREATE TABLE operators (
        operator_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('cashier', 'paymaster', 'enroller', 'supervisor')),
        pin_hash TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
      ) STRICT;`,
  },
  {
    version: 2,
    name: 'enrolled templates (sealed), salary vouchers and leases, offline allowances',
    sql: `
      CREATE TABLE templates (
        template_id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL,
        hand TEXT NOT NULL CHECK (hand IN ('left', 'right')),
        sealed BLOB NOT NULL,
        digest TEXT NOT NULL,
        provisional INTEGER NOT NULL DEFAULT 0 CHECK (provisional IN (0, 1)),
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX templates_by_person ON templates(person_id);
      CREATE TABLE vouchers (
        voucher_id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        period TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        currency TEXT NOT NULL CHECK (currency IN ('SYP', 'USD')),
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
        paid_seq INTEGER,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX vouchers_by_person ON vouchers(person_id, status);
      CREATE TABLE voucher_leases (
        voucher_id TEXT PRIMARY KEY REFERENCES vouchers(voucher_id),
        lease_id TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        granted_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE offline_allowances (
        customer_id TEXT NOT NULL,
        currency TEXT NOT NULL CHECK (currency IN ('SYP', 'USD')),
        limit_minor INTEGER NOT NULL CHECK (limit_minor >= 0),
        used_minor INTEGER NOT NULL DEFAULT 0 CHECK (used_minor >= 0),
        granted_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (customer_id, currency)
      ) STRICT;`,
  },
  {
    version: 3,
    name: 'signed journal and outbox',
    sql: `
      CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        ref_id TEXT NOT NULL,
        party_id TEXT,
        amount_minor INTEGER,
        currency TEXT,
        offline INTEGER NOT NULL DEFAULT 0,
        hlc_ms INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        body TEXT NOT NULL,
        sig TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX journal_by_ref ON journal(type, ref_id);
      -- Rows leave the outbox when the centre acknowledges them (the journal keeps the record), so the
      -- outbox stays small and needs no index beyond its seq key: fewer pages written per append.
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY REFERENCES journal(seq),
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'in_flight')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        claimed_at_ms INTEGER
      ) STRICT;
      -- Money not yet acknowledged by the centre, per currency, kept by triggers so the offline limit check is O(1).
      CREATE TABLE outbox_totals (currency TEXT PRIMARY KEY, total_minor INTEGER NOT NULL) STRICT;
      CREATE TRIGGER outbox_totals_add AFTER INSERT ON outbox
        WHEN (SELECT type FROM journal WHERE seq = NEW.seq) IN ('purchase', 'salary_payout')
      BEGIN
        INSERT INTO outbox_totals (currency, total_minor)
          SELECT currency, amount_minor FROM journal WHERE seq = NEW.seq
          ON CONFLICT(currency) DO UPDATE SET total_minor = total_minor + excluded.total_minor;
      END;
      CREATE TRIGGER outbox_totals_remove AFTER DELETE ON outbox
        WHEN (SELECT type FROM journal WHERE seq = OLD.seq) IN ('purchase', 'salary_payout')
      BEGIN
        UPDATE outbox_totals SET total_minor = total_minor - (SELECT amount_minor FROM journal WHERE seq = OLD.seq)
          WHERE currency = (SELECT currency FROM journal WHERE seq = OLD.seq);
      END;`,
  },
  {
    version: 4,
    name: 'payouts recorded whose cash drawer has not opened yet',
    sql: `
      -- Written in the payout's own transaction, deleted when the drawer opens: after a power cut in between, the
      -- restart offers to open the drawer for each row, oldest first. Was a JSON array in settings before.
      CREATE TABLE drawer_pending (
        record_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
        person_id TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        receipt TEXT NOT NULL CHECK (json_valid(receipt))
      ) STRICT;
      INSERT INTO drawer_pending (record_id, seq, person_id, operator_id, receipt)
        SELECT json_extract(p.value, '$.recordId'), json_extract(p.value, '$.receipt.seq'), json_extract(p.value, '$.personId'),
               json_extract(p.value, '$.operatorId'), json(json_extract(p.value, '$.receipt'))
        FROM settings s, json_each(s.value) p WHERE s.key = 'flows.drawerPending';
      DELETE FROM settings WHERE key = 'flows.drawerPending';`,
  },
  {
    version: 5,
    name: "operators carry the terminal's seal",
    sql: `
      -- A MAC under a key-store subkey over the row (src/ledger/local-trust.ts). Rows from before have none and are
      -- refused until re-added: trusting them on upgrade would also trust a row a local user slipped in.
      ALTER TABLE operators ADD COLUMN seal TEXT;`,
  },
  {
    version: 6,
    name: "customers' PIN state carries the terminal's seal",
    sql: `
      -- A MAC over the PIN hash and lockout (src/ledger/local-trust.ts): a hash swapped in or a lockout reset by a
      -- local user is refused. A PIN from before has no seal and is refused until set again.
      ALTER TABLE people ADD COLUMN pin_seal TEXT;`,
  },
  {
    version: 7,
    name: "the centre's vouchers, leases and offline allowances carry the terminal's seal",
    sql: `
      -- A MAC written when the signed feed page is applied (src/ledger/local-trust.ts): a voucher, a lease or an
      -- allowance a local user inserts or raises in the file is refused. Rows from before have none: the feed
      -- cursor is reset so the centre sends the latest state again and it is stored sealed.
      ALTER TABLE vouchers ADD COLUMN seal TEXT;
      ALTER TABLE voucher_leases ADD COLUMN seal TEXT;
      ALTER TABLE offline_allowances ADD COLUMN seal TEXT;
      DELETE FROM settings WHERE key = 'sync.feedCursor';`,
  },
  {
    version: 8,
    name: "the region's open bills, cached from the signed feed",
    sql: `
      -- A bill stays here while the feed says it is open; the feed's 'paid' removes it. paid_seq: this counter paid
      -- it (the journal holds the signed record) and the centre has not said so yet: never offered again.
      CREATE TABLE bills (
        biller_id TEXT NOT NULL,
        bill_id TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        cycle TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        currency TEXT NOT NULL CHECK (currency IN ('SYP', 'USD')),
        due_date TEXT NOT NULL,
        previous_reading INTEGER NOT NULL,
        current_reading INTEGER NOT NULL,
        paid_seq INTEGER REFERENCES journal(seq),
        received_at_ms INTEGER NOT NULL,
        PRIMARY KEY (biller_id, bill_id)
      ) STRICT;
      CREATE INDEX bills_by_subscriber ON bills(subscriber);
      -- Subscriber numbers the feed has named (kept after their bills are paid): "nothing due" vs "unknown number".
      CREATE TABLE bill_subscribers (
        biller_id TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        seen_at_ms INTEGER NOT NULL,
        PRIMARY KEY (biller_id, subscriber)
      ) STRICT;`,
  },
  {
    // Issue 17d.
    version: 9,
    name: "each subscriber's last meter reading, from the feed's bills and this counter's own readings",
    sql: `
      -- The counter shows it before a reading is typed, and a reading below it needs a supervisor. A bill of a newer
      -- cycle replaces it; a reading typed here replaces it (the centre re-checks against its own last reading).
      ALTER TABLE bill_subscribers ADD COLUMN last_reading INTEGER;
      ALTER TABLE bill_subscribers ADD COLUMN last_cycle TEXT;`,
  },
  {
    version: 10,
    name: "the account balance the centre sent with each offline allowance",
    sql: `
      -- Shown on the statement with its age (granted_at_ms). NULL: a grant from before, or a centre that sends none.
      -- Sealed with the grant when present (src/ledger/local-trust.ts).
      ALTER TABLE offline_allowances ADD COLUMN balance_minor INTEGER;`,
  },
  {
    version: 11,
    name: 'allowance used counted from the journal; customers in a PIN lockout found by index (anchored state)',
    sql: `
      -- An allowance's use is the sum of this terminal's offline purchases after the grant's as_of_seq, read from
      -- the signed journal (src/store/allowances.ts): a used_minor put back from an older copy moved money again.
      -- as_of_seq is sealed with the grant, so rows from before are dropped and the feed cursor reset: the centre
      -- sends the grants again (until then the customer has no offline allowance, the safe side).
      ALTER TABLE offline_allowances ADD COLUMN as_of_seq INTEGER NOT NULL DEFAULT 0;
      DELETE FROM offline_allowances;
      DELETE FROM settings WHERE key = 'sync.feedCursor';
      -- The customers whose PIN attempts or lockout are not at rest: their seals are in the anchored state digest.
      CREATE INDEX people_pin_attempts ON people(person_id, pin_seal) WHERE pin_failed > 0 OR pin_locked_until_ms > 0;`,
  },
  {
    version: 12,
    name: "who may pay which subscriber number, cached from the signed feed",
    sql: `
      -- The centre's subscriber links (a person, or an account, may pay a biller's subscriber number). The bill flow
      -- refuses a payer without one before the PIN; the centre checks again. seal: a MAC written when the signed
      -- page is applied (src/ledger/local-trust.ts), so a row a local user inserts links nobody.
      CREATE TABLE subscriber_links (
        biller_id TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        payer_kind TEXT NOT NULL CHECK (payer_kind IN ('person', 'account')),
        payer_id TEXT NOT NULL,
        received_at_ms INTEGER NOT NULL,
        seal TEXT,
        PRIMARY KEY (biller_id, subscriber, payer_kind, payer_id)
      ) STRICT;`,
  },
  {
    version: 13,
    name: 'template update slots: fresh captures kept beside an enrolled template (issue 19)',
    sql: `
      -- A capture admitted by the template-update rule (src/biometrics/template-update.ts) after a confident match:
      -- sealed like the enrolment templates (bound to update_id), never replacing them; at most the policy's slots
      -- per template, the oldest replaced. digest: SHA-256 of the plaintext, pinned by the signed template_update
      -- record. Gone with the template (a revoked person's updates go with their palms).
      CREATE TABLE template_updates (
        update_id TEXT PRIMARY KEY,
        template_id TEXT NOT NULL REFERENCES templates(template_id) ON DELETE CASCADE,
        person_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        digest TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX template_updates_by_template ON template_updates(template_id, created_at_ms);`,
  },
  {
    version: 14,
    name: "which record set each customer's PIN (its order against the centre's copies)",
    sql: `
      -- The PIN's version (src/protocol/pin-verifier.ts PinVersion): the time, terminal and seq of the pin_set or
      -- enrolment record that set it, sealed with the PIN state (src/ledger/local-trust.ts). A verifier from the
      -- feed older than it is ignored, so a PIN changed here is not put back by a page built before the centre had
      -- the change. NULL (a PIN stored before): the oldest, replaced by any verifier the centre sends with a version.
      ALTER TABLE people ADD COLUMN pin_at_ms INTEGER;
      ALTER TABLE people ADD COLUMN pin_terminal_id TEXT;
      ALTER TABLE people ADD COLUMN pin_seq INTEGER;`,
  },
  {
    version: 15,
    name: "palm modules that match on their own: each person's module feature (sealed) and the module user id it was loaded under",
    sql: `
      -- A module's own feature of a person's palm (0xFA), per module family, sealed like a template (bound to
      -- 'module-feature:<person>:<family>'); digest: SHA-256 of the plaintext. Gone with the person's palms.
      CREATE TABLE module_features (
        person_id TEXT NOT NULL,
        family TEXT NOT NULL,
        sealed BLOB NOT NULL,
        digest TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (person_id, family)
      ) STRICT;
      -- Which user id a person has in a module's own table (the host's user-table sync keeps it equal to the store),
      -- so a VERIFY answer maps back to a person. module_key: the module's family and id. digest: the feature loaded.
      CREATE TABLE module_users (
        module_key TEXT NOT NULL,
        user_id INTEGER NOT NULL CHECK (user_id BETWEEN 1 AND 65534),
        person_id TEXT NOT NULL,
        pseudonym TEXT NOT NULL,
        digest TEXT NOT NULL,
        PRIMARY KEY (module_key, user_id),
        UNIQUE (module_key, person_id)
      ) STRICT;`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the database up to `target` (default: the latest). Each migration runs in its own transaction. */
export function migrate(db: Database.Database, file: string, target = LATEST_VERSION): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LATEST_VERSION) throw new StoreTooNewError(current, LATEST_VERSION, file);
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
