// People and their accounts, cached from the centre (the feeds write them; flows read them).
import type Database from 'better-sqlite3';
import type { Currency } from '../protocol/record.ts';
import type { PinVersion } from '../protocol/pin-verifier.ts';

export type PersonStatus = 'active' | 'provisional' | 'blocked';
export interface Person {
  personId: string;
  name: string;
  idNumber: string | null;
  phone: string | null;
  employerId: string | null;
  status: PersonStatus;
  updatedAtMs: number;
}
export interface Account {
  accountId: string;
  personId: string;
  currency: Currency;
  status: 'active' | 'blocked';
  updatedAtMs: number;
}
/** A customer's PIN state (the hash comes from the centre; attempts are counted here). */
export interface CustomerPin {
  pinHash: string | null;
  failed: number;
  lockedUntilMs: number;
  /** Which record set the hash (its order against the centre's copies); null for a PIN stored before versions (the oldest). */
  version: PinVersion | null;
  /** The terminal's MAC over the other fields (src/ledger/local-trust.ts); only the ledger writes and checks it. */
  seal: string | null;
}

export class PeopleRepo {
  private readonly upsertPerson: Database.Statement;
  private readonly getPerson: Database.Statement<[string], Record<string, unknown>>;
  private readonly upsertAccount: Database.Statement;
  private readonly getAccountStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly accountsOf: Database.Statement<[string], Record<string, unknown>>;
  private readonly pinGet: Database.Statement<[string], { pin_hash: string | null; pin_failed: number; pin_locked_until_ms: number; pin_seal: string | null; pin_at_ms: number | null; pin_terminal_id: string | null; pin_seq: number | null }>;
  private readonly pinSet: Database.Statement;
  private readonly pinAttemptsStmt: Database.Statement<[], { person_id: string; pin_seal: string | null }>;

  constructor(db: Database.Database) {
    this.upsertPerson = db.prepare(`INSERT INTO people (person_id, name, id_number, phone, employer_id, status, updated_at_ms)
      VALUES (@personId, @name, @idNumber, @phone, @employerId, @status, @updatedAtMs)
      ON CONFLICT(person_id) DO UPDATE SET name = excluded.name, id_number = excluded.id_number, phone = excluded.phone,
        employer_id = excluded.employer_id, status = excluded.status, updated_at_ms = excluded.updated_at_ms`);
    this.getPerson = db.prepare('SELECT * FROM people WHERE person_id = ?');
    this.upsertAccount = db.prepare(`INSERT INTO accounts (account_id, person_id, currency, status, updated_at_ms)
      VALUES (@accountId, @personId, @currency, @status, @updatedAtMs)
      ON CONFLICT(account_id) DO UPDATE SET currency = excluded.currency,
        status = excluded.status, updated_at_ms = excluded.updated_at_ms
      WHERE accounts.person_id = excluded.person_id`);
    this.getAccountStmt = db.prepare('SELECT * FROM accounts WHERE account_id = ?');
    this.accountsOf = db.prepare('SELECT * FROM accounts WHERE person_id = ? ORDER BY account_id');
    this.pinGet = db.prepare('SELECT pin_hash, pin_failed, pin_locked_until_ms, pin_seal, pin_at_ms, pin_terminal_id, pin_seq FROM people WHERE person_id = ?');
    this.pinSet = db.prepare('UPDATE people SET pin_hash = ?, pin_failed = ?, pin_locked_until_ms = ?, pin_seal = ?, pin_at_ms = ?, pin_terminal_id = ?, pin_seq = ? WHERE person_id = ?');
    // Served by the partial index people_pin_attempts (store migration 9): only customers not at rest.
    this.pinAttemptsStmt = db.prepare('SELECT person_id, pin_seal FROM people WHERE pin_failed > 0 OR pin_locked_until_ms > 0 ORDER BY person_id');
  }

  upsert(p: Person): void {
    this.upsertPerson.run(p);
  }

  get(personId: string): Person | undefined {
    const r = this.getPerson.get(personId);
    return r && {
      personId: r.person_id as string,
      name: r.name as string,
      idNumber: r.id_number as string | null,
      phone: r.phone as string | null,
      employerId: r.employer_id as string | null,
      status: r.status as PersonStatus,
      updatedAtMs: r.updated_at_ms as number,
    };
  }

  /**
   * Stores an account row. An account has exactly one owner: a row naming another person than the one it is bound
   * to changes nothing and returns false (the caller reports it; only the centre could ever re-bind an account).
   */
  upsertAccountRow(a: Account): boolean {
    return this.upsertAccount.run(a).changes === 1;
  }

  getAccount(accountId: string): Account | undefined {
    const r = this.getAccountStmt.get(accountId);
    return r && toAccount(r);
  }

  accounts(personId: string): Account[] {
    return this.accountsOf.all(personId).map(toAccount);
  }

  getPin(personId: string): CustomerPin | undefined {
    const r = this.pinGet.get(personId);
    // A version is whole or absent; a part of one left (edited outside PalmPay) is kept as written, so its seal fails.
    const version = r && (r.pin_at_ms !== null || r.pin_terminal_id !== null || r.pin_seq !== null) ? { atMs: r.pin_at_ms as number, terminalId: r.pin_terminal_id as string, seq: r.pin_seq as number } : null;
    return r && { pinHash: r.pin_hash, failed: r.pin_failed, lockedUntilMs: r.pin_locked_until_ms, version, seal: r.pin_seal };
  }

  /** The customers with failed PIN attempts or a lockout, and the seal of that state (for the anchored state digest). */
  pinAttempts(): Array<[personId: string, seal: string]> {
    return this.pinAttemptsStmt.all().map((r) => [r.person_id, r.pin_seal ?? '']);
  }

  /** Writes a customer's whole PIN state with its seal (the ledger's TrustedCustomerPins computes the seal). */
  setPin(personId: string, pin: CustomerPin): void {
    this.pinSet.run(pin.pinHash, pin.failed, pin.lockedUntilMs, pin.seal, pin.version?.atMs ?? null, pin.version?.terminalId ?? null, pin.version?.seq ?? null, personId);
  }
}

function toAccount(r: Record<string, unknown>): Account {
  return {
    accountId: r.account_id as string,
    personId: r.person_id as string,
    currency: r.currency as Currency,
    status: r.status as Account['status'],
    updatedAtMs: r.updated_at_ms as number,
  };
}
