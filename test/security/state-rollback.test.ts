// Rolling the terminal's counters back to an older copy (issue 13, item 11): a local user who copied the store
// earlier puts the older copy back to undo a PIN lockout or an offline allowance already spent. A MAC proves who
// wrote a row, not that it is the newest, so these counters are bound to what is anchored outside the database:
// a customer's or operator's lockout is part of the sealed state whose digest the signed anchor holds, and the
// allowance used is counted from the signed, hash-chained journal (the row's own number is not believed).
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { Terminal } from '../../src/ledger/open.ts';
import { dbPath } from '../../src/ledger/open.ts';
import { makeTerminal, purchase, reopen, tempDir } from '../ledger/helpers.ts';
import { runCli } from './harness.ts';

describe('an older copy of the store put back', () => {
  let dir: string;
  let cleanup: () => void;
  let t: Terminal;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    t = makeTerminal(dir);
    t.store.people.upsert({ personId: 'C1', name: 'C', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: Date.now() });
  });
  afterEach(() => {
    t.close();
    cleanup();
  });

  /** The attacker's copy of the whole store file, taken while the kiosk is stopped. */
  function copyStore(): string {
    t.close();
    const copy = `${dbPath(dir)}.attacker-copy`;
    copyFileSync(dbPath(dir), copy);
    t = reopen(dir);
    return copy;
  }
  /** Puts the copy back (the anchor file, outside the database, is left as it is). */
  function restore(copy: string): void {
    t.close();
    for (const ext of ['-wal', '-shm']) if (existsSync(dbPath(dir) + ext)) rmSync(dbPath(dir) + ext);
    copyFileSync(copy, dbPath(dir));
    t = reopen(dir);
  }
  /** Puts back one table's rows from the copy (the rest of the store stays current). */
  function restoreRows(copy: string, table: string): void {
    t.close();
    const db = new Database(dbPath(dir));
    db.exec(`ATTACH DATABASE '${copy}' AS old; DELETE FROM main.${table}; INSERT INTO main.${table} SELECT * FROM old.${table}; DETACH DATABASE old`);
    db.close();
    t = reopen(dir);
  }

  it("a customer's PIN lockout undone by putting the whole older store back is LOCAL_STATE_TAMPERED; journal verify says BAD", async () => {
    t.ledger.customerPins.setHash('C1', 'scrypt$genuine');
    const copy = copyStore();
    t.ledger.customerPins.setAttempts('C1', 0, Date.now() + 15 * 60_000); // locked out after five wrong PINs
    restore(copy);
    expect(t.store.people.getPin('C1')).toMatchObject({ failed: 0, lockedUntilMs: 0 }); // the copy's row, with its genuine seal
    expect(() => t.ledger.customerPins.get('C1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    t.close();
    const verify = await runCli('journal', 'verify', '--data', dir, '--json');
    t = reopen(dir);
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: false, kind: 'local-state' });
  });

  it("a customer's attempts counter put back from the older rows is LOCAL_STATE_TAMPERED", () => {
    t.ledger.customerPins.setHash('C1', 'scrypt$genuine');
    const copy = copyStore();
    t.ledger.customerPins.setAttempts('C1', 4, 0); // one more wrong PIN locks
    restoreRows(copy, 'people');
    expect(() => t.ledger.customerPins.get('C1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it("an operator's lockout undone by putting the whole older store back is LOCAL_STATE_TAMPERED", () => {
    t.ledger.operators.add({ operatorId: 'cash-1', name: 'L', role: 'cashier', pinHash: 'scrypt$x' });
    const copy = copyStore();
    t.ledger.operators.setAttempts('cash-1', 0, Date.now() + 15 * 60_000);
    restore(copy);
    expect(() => t.ledger.operators.get('cash-1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  function grant(limitMinor: number): void {
    t.ledger.noteSync(Date.now());
    t.ledger.centreCopies.grantAllowance({ customerId: 'C1', currency: 'SYP', limitMinor, grantedAtMs: Date.now(), expiresAtMs: Date.now() + 86_400_000, asOfSeq: 0 });
  }

  it('an allowance spent, then its row put back from the older copy, is still spent (counted from the journal)', () => {
    grant(1_000);
    const copy = copyStore();
    expect(t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true })).seq).toBe(1);
    expect(t.ledger.checkOffline('C1', 800, 'SYP')).toMatchObject({ allow: false, reason: 'CUSTOMER_ALLOWANCE' });
    restoreRows(copy, 'offline_allowances');
    expect(t.ledger.offlineState('C1', 'SYP').allowance).toMatchObject({ limitMinor: 1_000, usedMinor: 800 });
    expect(t.ledger.checkOffline('C1', 800, 'SYP')).toMatchObject({ allow: false, reason: 'CUSTOMER_ALLOWANCE' });
    expect(() => t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true }))).toThrow(expect.objectContaining({ code: 'OFFLINE_REFUSED' }));
  });

  it('an allowance spent, then the used amount edited back to 0, is still spent', () => {
    grant(1_000);
    t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true }));
    t.close();
    const db = new Database(dbPath(dir));
    db.prepare(`UPDATE offline_allowances SET used_minor = 0 WHERE customer_id = 'C1'`).run();
    db.close();
    t = reopen(dir);
    expect(() => t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true }))).toThrow(expect.objectContaining({ code: 'OFFLINE_REFUSED' }));
  });

  it('the whole older store put back after a spend is a truncated journal (JOURNAL_TRUNCATED), nothing more is signed', () => {
    grant(1_000);
    const copy = copyStore();
    t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true }));
    restore(copy);
    expect(() => t.ledger.append(purchase({ customerId: 'C1', amountMinor: 800, currency: 'SYP', offline: true }))).toThrow(expect.objectContaining({ code: 'JOURNAL_TRUNCATED' }));
    expect(t.store.journal.count()).toBe(0);
  });
});
