// Operators (cashiers, paymasters, enrollers, supervisors) with their scrypt PIN hashes and attempt counters.
// The hashing and the lockout policy live in src/ledger/pin.ts; this only stores.
import type Database from 'better-sqlite3';

export type OperatorRole = 'cashier' | 'paymaster' | 'enroller' | 'supervisor';
export interface Operator {
  operatorId: string;
  name: string;
  role: OperatorRole;
  pinHash: string;
  failedAttempts: number;
  lockedUntilMs: number;
  active: boolean;
}

export class OperatorsRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly listStmt: Database.Statement<[], Record<string, unknown>>;
  private readonly attemptsStmt: Database.Statement;
  private readonly pinStmt: Database.Statement;
  private readonly activeStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(`INSERT INTO operators (operator_id, name, role, pin_hash, active) VALUES (@operatorId, @name, @role, @pinHash, 1)`);
    this.getStmt = db.prepare('SELECT * FROM operators WHERE operator_id = ?');
    this.listStmt = db.prepare('SELECT * FROM operators ORDER BY operator_id');
    this.attemptsStmt = db.prepare('UPDATE operators SET failed_attempts = ?, locked_until_ms = ? WHERE operator_id = ?');
    this.pinStmt = db.prepare('UPDATE operators SET pin_hash = ?, failed_attempts = 0, locked_until_ms = 0 WHERE operator_id = ?');
    this.activeStmt = db.prepare('UPDATE operators SET active = ? WHERE operator_id = ?');
  }

  add(op: { operatorId: string; name: string; role: OperatorRole; pinHash: string }): void {
    this.insertStmt.run(op);
  }

  get(operatorId: string): Operator | undefined {
    const r = this.getStmt.get(operatorId);
    return r && toOperator(r);
  }

  list(): Operator[] {
    return this.listStmt.all().map(toOperator);
  }

  setAttempts(operatorId: string, failedAttempts: number, lockedUntilMs: number): void {
    this.attemptsStmt.run(failedAttempts, lockedUntilMs, operatorId);
  }

  setPinHash(operatorId: string, pinHash: string): void {
    this.pinStmt.run(pinHash, operatorId);
  }

  setActive(operatorId: string, active: boolean): void {
    this.activeStmt.run(active ? 1 : 0, operatorId);
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
  };
}
