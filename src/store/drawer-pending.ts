// Payouts recorded whose cash drawer has not opened yet ("record before cash"): a row is added in the payout's
// own transaction and removed once the drawer opened, so a power cut in between is found again at restart.
// The receipt is the flows' (opaque JSON here: the store does not know the flows' types).
import type Database from 'better-sqlite3';

export interface DrawerPending<R> {
  /** The payout's record id (the hash of its first record), as on the receipt. */
  recordId: string;
  seq: number;
  personId: string;
  operatorId: string;
  receipt: R;
}

export class DrawerPendingRepo {
  private readonly addStmt: Database.Statement<[string, number, string, string, string]>;
  private readonly removeStmt: Database.Statement<[string]>;
  private readonly listStmt: Database.Statement<[], { record_id: string; seq: number; person_id: string; operator_id: string; receipt: string }>;

  constructor(db: Database.Database) {
    this.addStmt = db.prepare(`INSERT INTO drawer_pending (record_id, seq, person_id, operator_id, receipt) VALUES (?, ?, ?, ?, ?)`);
    this.removeStmt = db.prepare(`DELETE FROM drawer_pending WHERE record_id = ?`);
    this.listStmt = db.prepare(`SELECT record_id, seq, person_id, operator_id, receipt FROM drawer_pending ORDER BY seq`);
  }

  add<R>(p: DrawerPending<R>): void {
    this.addStmt.run(p.recordId, p.seq, p.personId, p.operatorId, JSON.stringify(p.receipt));
  }

  /** The drawer opened for this payout; a second call does nothing. */
  remove(recordId: string): void {
    this.removeStmt.run(recordId);
  }

  /** Oldest first. */
  list<R>(): Array<DrawerPending<R>> {
    return this.listStmt.all().map((r) => ({ recordId: r.record_id, seq: r.seq, personId: r.person_id, operatorId: r.operator_id, receipt: JSON.parse(r.receipt) as R }));
  }
}
