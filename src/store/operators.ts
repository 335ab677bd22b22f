// Operators (cashiers, paymasters, enrollers, supervisors) with their scrypt PIN hashes and attempt counters.
// The hashing and the lockout policy live in src/ledger/pin.ts, the seal that makes a row trusted in
// src/ledger/local-trust.ts (product code reads and writes operators through Ledger.operators); this only stores.
import type Database from 'better-sqlite3';
import type { OperatorRole } from '../protocol/operator-roles.ts';

export type { OperatorRole };
export interface Operator {
  operatorId: string;
  name: string;
  role: OperatorRole;
  pinHash: string;
  failedAttempts: number;
  lockedUntilMs: number;
  active: boolean;
  /** MAC over the other fields under a key-store subkey (src/ledger/local-trust.ts); null on rows written before it. */
  seal: string | null;
}

export class OperatorsRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly listStmt: Database.Statement<[], Record<string, unknown>>;
  private readonly replaceStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(`INSERT INTO operators (operator_id, name, role, pin_hash, active, seal) VALUES (@operatorId, @name, @role, @pinHash, 1, @seal)`);
    this.getStmt = db.prepare('SELECT * FROM operators WHERE operator_id = ?');
    this.listStmt = db.prepare('SELECT * FROM operators ORDER BY operator_id');
    this.deleteStmt = db.prepare('DELETE FROM operators WHERE operator_id = ?');
    this.replaceStmt = db.prepare(`UPDATE operators SET name = @name, role = @role, pin_hash = @pinHash, failed_attempts = @failedAttempts,
      locked_until_ms = @lockedUntilMs, active = @active, seal = @seal WHERE operator_id = @operatorId`);
  }

  add(op: { operatorId: string; name: string; role: OperatorRole; pinHash: string; seal: string | null }): void {
    this.insertStmt.run(op);
  }

  get(operatorId: string): Operator | undefined {
    const r = this.getStmt.get(operatorId);
    return r && toOperator(r);
  }

  list(): Operator[] {
    return this.listStmt.all().map(toOperator);
  }

  delete(operatorId: string): void {
    this.deleteStmt.run(operatorId);
  }

  /** Writes every field of an existing operator (the ledger renews the seal with each change). */
  replace(op: Operator): void {
    this.replaceStmt.run({ ...op, active: op.active ? 1 : 0 });
  }
}

function toOperator(r: Record<string, unknown>): Operator {
  return {
    operatorId: r.operator_id as string,
    name: r.name as string,
    role: r.role as OperatorRole,
    pinHash: r.pin_hash as string,
    failedAttempts: r.failed_attempts as number,
    lockedUntilMs: r.locked_until_ms as number,
    active: r.active === 1,
    seal: (r.seal as string | null) ?? null,
  };
}
