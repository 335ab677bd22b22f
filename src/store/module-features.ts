// Palm modules that match on their own (src/host/module-sync.ts): each person's module feature, sealed, and the
// user id a module holds it under. Feature bytes are opaque here; the host seals, opens and checks them.
import type Database from 'better-sqlite3';

export interface ModuleFeatureRow {
  personId: string;
  /** The module family the feature belongs to (drivers/serial-module/feature-families.ts familyOfVersion). */
  family: string;
  /** Sealed bound to moduleFeatureBinding(personId, family). */
  sealed: Uint8Array;
  /** SHA-256 hex of the plaintext feature. */
  digest: string;
  createdAtMs: number;
}

export interface ModuleUserRow {
  moduleKey: string;
  userId: number;
  personId: string;
  pseudonym: string;
  digest: string;
}

/** What a sealed module feature is bound to: a feature moved to another person or family does not open. */
export function moduleFeatureBinding(personId: string, family: string): string {
  return `module-feature:${personId}:${family}`;
}

export class ModuleFeaturesRepo {
  private readonly putStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string, string], Record<string, unknown>>;
  private readonly activeStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly familyStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly deletePersonStmt: Database.Statement<[string]>;
  private readonly usersStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly userPutStmt: Database.Statement;
  private readonly userDelStmt: Database.Statement<[string, number]>;
  private readonly userDelAllStmt: Database.Statement<[string]>;

  constructor(private readonly db: Database.Database) {
    this.putStmt = db.prepare(`INSERT INTO module_features (person_id, family, sealed, digest, created_at_ms) VALUES (@personId, @family, @sealed, @digest, @createdAtMs)
      ON CONFLICT(person_id, family) DO UPDATE SET sealed = excluded.sealed, digest = excluded.digest, created_at_ms = excluded.created_at_ms`);
    this.getStmt = db.prepare('SELECT * FROM module_features WHERE person_id = ? AND family = ?');
    // Whom a module of this family should hold: people active here (the feed's people are this terminal's region)
    // and active operators (an operator's palm is enrolled under their operator id).
    this.activeStmt = db.prepare(`SELECT f.* FROM module_features f WHERE f.family = ?
      AND (EXISTS (SELECT 1 FROM people p WHERE p.person_id = f.person_id AND p.status = 'active')
        OR EXISTS (SELECT 1 FROM operators o WHERE o.operator_id = f.person_id AND o.active = 1))
      ORDER BY f.person_id`);
    this.familyStmt = db.prepare('SELECT * FROM module_features WHERE family = ? ORDER BY person_id');
    this.deletePersonStmt = db.prepare('DELETE FROM module_features WHERE person_id = ?');
    this.usersStmt = db.prepare('SELECT * FROM module_users WHERE module_key = ? ORDER BY user_id');
    this.userPutStmt = db.prepare(`INSERT INTO module_users (module_key, user_id, person_id, pseudonym, digest) VALUES (@moduleKey, @userId, @personId, @pseudonym, @digest)`);
    this.userDelStmt = db.prepare('DELETE FROM module_users WHERE module_key = ? AND user_id = ?');
    this.userDelAllStmt = db.prepare('DELETE FROM module_users WHERE module_key = ?');
  }

  put(row: ModuleFeatureRow): void {
    this.putStmt.run({ ...row, sealed: Buffer.from(row.sealed) });
  }

  get(personId: string, family: string): ModuleFeatureRow | undefined {
    const r = this.getStmt.get(personId, family);
    return r && toFeature(r);
  }

  /** The features a module of `family` should hold: one per active person or operator that has one. */
  activeOf(family: string): ModuleFeatureRow[] {
    return this.activeStmt.all(family).map(toFeature);
  }

  /**
   * Every feature of `family` kept here, whatever the person's status (provisional ones enrolled here too): what an
   * enrolment's local duplicate check compares with. A revoked person's features are gone already (deletePerson).
   */
  allOf(family: string): ModuleFeatureRow[] {
    return this.familyStmt.all(family).map(toFeature);
  }

  /** A revoked person's features go with their palms (the module users are removed by the sync). */
  deletePerson(personId: string): number {
    return this.deletePersonStmt.run(personId).changes;
  }

  users(moduleKey: string): ModuleUserRow[] {
    return this.usersStmt.all(moduleKey).map((r) => ({
      moduleKey: r.module_key as string,
      userId: r.user_id as number,
      personId: r.person_id as string,
      pseudonym: r.pseudonym as string,
      digest: r.digest as string,
    }));
  }

  /** Records that the module holds `personId` as `userId` (replacing whatever the store had for either). */
  setUser(row: ModuleUserRow): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM module_users WHERE module_key = ? AND (user_id = ? OR person_id = ?)').run(row.moduleKey, row.userId, row.personId);
      this.userPutStmt.run(row);
    })();
  }

  deleteUser(moduleKey: string, userId: number): void {
    this.userDelStmt.run(moduleKey, userId);
  }

  deleteAllUsers(moduleKey: string): void {
    this.userDelAllStmt.run(moduleKey);
  }
}

function toFeature(r: Record<string, unknown>): ModuleFeatureRow {
  return { personId: r.person_id as string, family: r.family as string, sealed: r.sealed as Buffer, digest: r.digest as string, createdAtMs: r.created_at_ms as number };
}
