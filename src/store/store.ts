// The terminal store: one SQLite file, one repository per table group.
import type Database from 'better-sqlite3';
import { openDatabase, type OpenOptions } from './db.ts';
import { SettingsRepo } from './settings.ts';
import { PeopleRepo } from './people.ts';
import { OperatorsRepo } from './operators.ts';
import { TemplatesRepo, TemplateUpdatesRepo } from './templates.ts';
import { VouchersRepo } from './vouchers.ts';
import { AllowancesRepo } from './allowances.ts';
import { JournalRepo } from './journal.ts';
import { OutboxRepo } from './outbox.ts';
import { DrawerPendingRepo } from './drawer-pending.ts';
import { BillsRepo } from './bills.ts';
import { ModuleFeaturesRepo } from './module-features.ts';
import { mappingErrors } from './errors.ts';
import { appendAll } from '../util/arrays.ts';

export const DB_FILE_NAME = 'terminal.db';

export class Store {
  readonly settings: SettingsRepo;
  readonly people: PeopleRepo;
  readonly operators: OperatorsRepo;
  readonly templates: TemplatesRepo;
  readonly templateUpdates: TemplateUpdatesRepo;
  readonly vouchers: VouchersRepo;
  readonly allowances: AllowancesRepo;
  readonly journal: JournalRepo;
  readonly outbox: OutboxRepo;
  readonly drawerPending: DrawerPendingRepo;
  readonly bills: BillsRepo;
  readonly moduleFeatures: ModuleFeaturesRepo;

  constructor(
    readonly db: Database.Database,
    readonly file: string,
  ) {
    this.settings = new SettingsRepo(db);
    this.people = new PeopleRepo(db);
    this.operators = new OperatorsRepo(db);
    this.templates = new TemplatesRepo(db);
    this.templateUpdates = new TemplateUpdatesRepo(db);
    this.vouchers = new VouchersRepo(db);
    this.allowances = new AllowancesRepo(db);
    this.journal = new JournalRepo(db);
    this.outbox = new OutboxRepo(db);
    this.drawerPending = new DrawerPendingRepo(db);
    this.bills = new BillsRepo(db);
    this.moduleFeatures = new ModuleFeaturesRepo(db);
  }

  /** Callbacks waiting for a commit, one list per open transaction level (innermost last). */
  private readonly pendingAfterCommit: (() => void)[][] = [];

  /**
   * Runs fn in one IMMEDIATE transaction (all or nothing); SQLite errors come out typed. Nested calls are
   * savepoints of the outer one.
   */
  transaction<T>(fn: () => T): T {
    this.pendingAfterCommit.push([]);
    let result: T;
    try {
      result = mappingErrors(this.file, () => this.db.transaction(fn).immediate());
    } catch (err) {
      this.pendingAfterCommit.pop(); // rolled back: what it queued never happened
      throw err;
    }
    const done = this.pendingAfterCommit.pop() ?? [];
    const outer = this.pendingAfterCommit.at(-1);
    if (outer) appendAll(outer, done); // a savepoint released: it still depends on the outer commit
    else for (const cb of done) cb();
    return result;
  }

  /**
   * Runs cb once what has been written so far is committed: at once outside a transaction, after the outermost
   * commit inside one, and never if that transaction rolls back. For side effects outside the database (the
   * journal-head anchor file) that must not run ahead of it.
   */
  afterCommit(cb: () => void): void {
    const level = this.pendingAfterCommit.at(-1);
    if (level) level.push(cb);
    else cb();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating if needed) and migrates the store at `file`. */
export function openStore(file: string, opts: OpenOptions = {}): Store {
  const db = openDatabase(file, opts);
  return mappingErrors(file, () => new Store(db, file));
}
