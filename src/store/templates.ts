// Enrolled templates, sealed (see src/ledger/sealer.ts). Templates are opaque bytes here.
// Bulk loading is the 1:N engine's start-up path: one prepared statement, raw rows, open per row.
import type Database from 'better-sqlite3';

export type Hand = 'left' | 'right';
export interface SealedTemplateRow {
  templateId: string;
  personId: string;
  hand: Hand;
  sealed: Uint8Array;
  /** SHA-256 hex of the plaintext template (the enrolment record pins it). */
  digest: string;
  provisional: boolean;
  createdAtMs: number;
}

/** Opens sealed bytes bound to an id (the data-key sealer implements it). Throws a typed error if they do not open. */
export interface TemplateOpener {
  open(sealed: Uint8Array, boundTo: string): Uint8Array;
}

export class TemplatesRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly byPersonStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly allRaw: Database.Statement<[], unknown[]>;
  private readonly countStmt: Database.Statement<[], { n: number }>;
  private readonly listStmt: Database.Statement<[], unknown[]>;
  private readonly deletePersonStmt: Database.Statement;
  private readonly confirmStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(`INSERT INTO templates (template_id, person_id, hand, sealed, digest, provisional, created_at_ms)
      VALUES (@templateId, @personId, @hand, @sealed, @digest, @provisional, @createdAtMs)`);
    this.getStmt = db.prepare('SELECT * FROM templates WHERE template_id = ?');
    this.byPersonStmt = db.prepare('SELECT * FROM templates WHERE person_id = ? ORDER BY template_id');
    this.allRaw = db.prepare('SELECT template_id, person_id, hand, sealed FROM templates').raw(true) as Database.Statement<[], unknown[]>;
    this.countStmt = db.prepare('SELECT count(*) AS n FROM templates');
    this.listStmt = db.prepare('SELECT template_id, person_id, hand, digest FROM templates').raw(true) as Database.Statement<[], unknown[]>;
    this.deletePersonStmt = db.prepare('DELETE FROM templates WHERE person_id = ?');
    this.confirmStmt = db.prepare('UPDATE templates SET provisional = 0 WHERE person_id = ?');
  }

  add(row: SealedTemplateRow): void {
    this.insertStmt.run({ ...row, sealed: Buffer.from(row.sealed), provisional: row.provisional ? 1 : 0 });
  }

  /** Adds many rows in one transaction (one fsync). */
  addMany(rows: Iterable<SealedTemplateRow>): void {
    this.db.transaction(() => {
      for (const r of rows) this.add(r);
    })();
  }

  get(templateId: string): SealedTemplateRow | undefined {
    const r = this.getStmt.get(templateId);
    return r && toRow(r);
  }

  byPerson(personId: string): SealedTemplateRow[] {
    return this.byPersonStmt.all(personId).map(toRow);
  }

  /** Every template's id, person, hand and digest, without the sealed bytes (the 1:N index snapshot checks itself against these). */
  listIndex(): Array<{ templateId: string; personId: string; hand: Hand; digest: string }> {
    return (this.listStmt.all() as Array<[string, string, Hand, string]>).map(([templateId, personId, hand, digest]) => ({ templateId, personId, hand, digest }));
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  deletePerson(personId: string): number {
    return this.deletePersonStmt.run(personId).changes;
  }

  /** The centre confirmed the enrolment is not a duplicate. */
  confirm(personId: string): void {
    this.confirmStmt.run(personId);
  }

  /**
   * Calls `fn` for every template, opened. A template that does not open throws (typed, from the opener):
   * nothing is skipped silently. Returns the number of templates visited.
   */
  forEachOpened(opener: TemplateOpener, fn: (templateId: string, personId: string, hand: Hand, template: Uint8Array) => void): number {
    let n = 0;
    for (const row of this.allRaw.iterate()) {
      const [templateId, personId, hand, sealed] = row as [string, string, Hand, Buffer];
      fn(templateId, personId, hand, opener.open(sealed, templateId));
      n++;
    }
    return n;
  }
}

/** One update slot of an enrolled template (migration 13): a capture admitted by the template-update rule, sealed. */
export interface SealedUpdateRow {
  updateId: string;
  templateId: string;
  personId: string;
  /** Sealed bound to `updateId` (like a template to its id). */
  sealed: Uint8Array;
  /** SHA-256 hex of the plaintext capture (the signed template_update record pins it). */
  digest: string;
  createdAtMs: number;
}

/**
 * The update slots. The rule (src/biometrics/template-update.ts) decides which slot a capture takes; this keeps
 * the result: `replace` writes a template's new slot list in one go, so a crash never leaves three slots or none.
 */
export class TemplateUpdatesRepo {
  private readonly byTemplateStmt: Database.Statement<[string], Record<string, unknown>>;
  private readonly insertStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly countStmt: Database.Statement<[], { n: number }>;

  constructor(private readonly db: Database.Database) {
    this.byTemplateStmt = db.prepare('SELECT * FROM template_updates WHERE template_id = ? ORDER BY created_at_ms, rowid');
    this.insertStmt = db.prepare(`INSERT INTO template_updates (update_id, template_id, person_id, sealed, digest, created_at_ms)
      VALUES (@updateId, @templateId, @personId, @sealed, @digest, @createdAtMs)`);
    this.deleteStmt = db.prepare('DELETE FROM template_updates WHERE template_id = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM template_updates');
  }

  /** A template's update slots, oldest first (the order the rule's `updates` takes). */
  byTemplate(templateId: string): SealedUpdateRow[] {
    return this.byTemplateStmt.all(templateId).map((r) => ({
      updateId: r.update_id as string,
      templateId: r.template_id as string,
      personId: r.person_id as string,
      sealed: r.sealed as Buffer,
      digest: r.digest as string,
      createdAtMs: r.created_at_ms as number,
    }));
  }

  /** Sets a template's slots to `rows` (oldest first), in one transaction. */
  replace(templateId: string, rows: readonly SealedUpdateRow[]): void {
    this.db.transaction(() => {
      this.deleteStmt.run(templateId);
      for (const r of rows) {
        if (r.templateId !== templateId) throw new RangeError(`update ${r.updateId} belongs to template ${r.templateId}, not ${templateId}`);
        this.insertStmt.run({ ...r, sealed: Buffer.from(r.sealed) });
      }
    })();
  }

  count(): number {
    return this.countStmt.get()!.n;
  }
}

function toRow(r: Record<string, unknown>): SealedTemplateRow {
  return {
    templateId: r.template_id as string,
    personId: r.person_id as string,
    hand: r.hand as Hand,
    sealed: r.sealed as Buffer,
    digest: r.digest as string,
    provisional: r.provisional === 1,
    createdAtMs: r.created_at_ms as number,
  };
}
