// A local user reads or edits the terminal's store (SQLite, no access to the key store): the X25519 key that opens
// templates from the feed is stored sealed; an account already bound to one person is never re-bound to another by
// a feed event; and editing an operator's role, PIN hash or lockout, or the offline limits, makes the row refused
// (LOCAL_STATE_TAMPERED), never trusted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Link } from '../../src/host/link.ts';
import { startEmbeddedLink } from '../../src/host/demo/link.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { SETTINGS } from '../../src/sync/index.ts';
import Database from 'better-sqlite3';
import { DEFAULT_OFFLINE_LIMITS } from '../../src/ledger/limits.ts';
import { SETTING } from '../../src/ledger/ledger.ts';
import { dbPath } from '../../src/ledger/open.ts';
import { makeTerminal, purchase, reopen, tempDir } from '../ledger/helpers.ts';
import { runCli } from './harness.ts';

describe('the terminal store', () => {
  let dir: string;
  let cleanup: () => void;
  let t: Terminal;
  let link: Link | undefined;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    t = makeTerminal(dir);
  });
  afterEach(async () => {
    await link?.close();
    link = undefined;
    t.close();
    cleanup();
  });

  it('keeps the feed key (X25519) sealed under the data key when the kiosk registers with its centre', async () => {
    link = await startEmbeddedLink(t, dir);
    const stored = t.store.settings.get<unknown>(SETTINGS.encKey);
    expect(stored).toMatchObject({ sealed: expect.any(String) });
  });

  it('never re-binds an account to another person (an account has one owner)', () => {
    const now = Date.now();
    for (const personId of ['P1', 'MALLORY']) t.store.people.upsert({ personId, name: personId, idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'P1', currency: 'SYP', status: 'active', updatedAtMs: now })).toBe(true);
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'MALLORY', currency: 'SYP', status: 'active', updatedAtMs: now + 1 })).toBe(false);
    expect(t.store.people.getAccount('A1')?.personId).toBe('P1');
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'P1', currency: 'SYP', status: 'blocked', updatedAtMs: now + 2 })).toBe(true);
    expect(t.store.people.getAccount('A1')).toMatchObject({ personId: 'P1', status: 'blocked' });
  });

  /** What a local user does: edit the SQLite file directly while the kiosk is stopped. */
  function editStore(sql: string, ...params: unknown[]): void {
    t.close();
    const db = new Database(dbPath(dir));
    db.prepare(sql).run(...params);
    db.close();
    t = reopen(dir);
  }

  it('a cashier who edits their own role to supervisor is refused, not promoted', () => {
    t.ledger.operators.add({ operatorId: 'cash-1', name: 'Lina', role: 'cashier', pinHash: 'scrypt$x' });
    expect(t.ledger.operators.get('cash-1')).toMatchObject({ role: 'cashier' });
    editStore(`UPDATE operators SET role = 'supervisor' WHERE operator_id = ?`, 'cash-1');
    expect(() => t.ledger.operators.get('cash-1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it('an operator row slipped into the table, or a PIN hash swapped in, or a lockout reset, is refused', () => {
    t.ledger.operators.add({ operatorId: 'cash-1', name: 'Lina', role: 'cashier', pinHash: 'scrypt$x' });
    t.ledger.operators.setAttempts('cash-1', 5, Date.now() + 60_000);
    const sealed = t.store.operators.get('cash-1')!.seal;
    editStore(`INSERT INTO operators (operator_id, name, role, pin_hash, active, seal) VALUES ('mallory', 'M', 'supervisor', 'scrypt$y', 1, ?)`, sealed);
    expect(() => t.ledger.operators.get('mallory')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE operators SET failed_attempts = 0, locked_until_ms = 0 WHERE operator_id = 'cash-1'`);
    expect(() => t.ledger.operators.get('cash-1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE operators SET failed_attempts = 5, locked_until_ms = ?, pin_hash = 'scrypt$y' WHERE operator_id = 'cash-1'`, 0);
    expect(() => t.ledger.operators.get('cash-1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it('raised offline limits written into settings are refused; limits the terminal set itself hold', () => {
    const lower = { ...DEFAULT_OFFLINE_LIMITS, perTransactionMaxMinor: { ...DEFAULT_OFFLINE_LIMITS.perTransactionMaxMinor, SYP: 1_000 } };
    t.ledger.setLimits(lower);
    expect(t.ledger.limits().perTransactionMaxMinor.SYP).toBe(1_000);
    const stored = t.store.settings.get<{ limits: typeof lower; seal: string }>(SETTING.offlineLimits)!;
    const raised = { ...stored, limits: { ...lower, perTransactionMaxMinor: { ...lower.perTransactionMaxMinor, SYP: 10 ** 12 } } };
    editStore('UPDATE settings SET value = ? WHERE key = ?', JSON.stringify(raised), SETTING.offlineLimits);
    expect(() => t.ledger.limits()).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it("another terminal's sealed operator row does not verify here (the seal is bound to the terminal)", () => {
    const other = tempDir();
    const t2 = makeTerminal(other.dir, 'T-2');
    try {
      t2.ledger.operators.add({ operatorId: 'sup-x', name: 'S', role: 'supervisor', pinHash: 'scrypt$z' });
      const row = t2.store.operators.get('sup-x')!;
      editStore(`INSERT INTO operators (operator_id, name, role, pin_hash, active, seal) VALUES (?, ?, ?, ?, 1, ?)`, row.operatorId, row.name, row.role, row.pinHash, row.seal);
      expect(() => t.ledger.operators.get('sup-x')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    } finally {
      t2.close();
      other.cleanup();
    }
  });

  const lower = { ...DEFAULT_OFFLINE_LIMITS, perTransactionMaxMinor: { ...DEFAULT_OFFLINE_LIMITS.perTransactionMaxMinor, SYP: 1_000 } };

  it('deleting the limits row is detected (LOCAL_STATE_TAMPERED), never a silent fall-back to the defaults; journal verify says BAD', async () => {
    t.ledger.setLimits(lower);
    editStore('DELETE FROM settings WHERE key = ?', SETTING.offlineLimits);
    expect(() => t.ledger.limits()).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    expect(() => t.ledger.append(purchase({ amountMinor: 900_000, offline: true }))).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    expect(t.store.journal.count()).toBe(0);
    t.close();
    const v = await runCli('journal', 'verify', '--data', dir);
    t = reopen(dir);
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/journal BAD \(local state\): the sealed offline limits or operators differ/);
  });

  it('an older sealed limits row put back (higher limits) is detected', () => {
    t.ledger.setLimits(DEFAULT_OFFLINE_LIMITS);
    const older = t.store.settings.get<unknown>(SETTING.offlineLimits);
    t.ledger.setLimits(lower);
    editStore('UPDATE settings SET value = ? WHERE key = ?', JSON.stringify(older), SETTING.offlineLimits);
    expect(() => t.ledger.limits()).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it('an older sealed operator row put back (before a lockout, or while still active) is detected', () => {
    t.ledger.operators.add({ operatorId: 'sup-1', name: 'S', role: 'supervisor', pinHash: 'scrypt$x' });
    const before = t.store.operators.get('sup-1')!;
    t.ledger.operators.setActive('sup-1', false);
    editStore('UPDATE operators SET active = 1, seal = ? WHERE operator_id = ?', before.seal, 'sup-1');
    expect(() => t.ledger.operators.get('sup-1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it('the state a change left half-anchored by a crash is accepted on restart (no false alarm)', () => {
    t.ledger.setLimits(lower);
    t.close();
    t = reopen(dir);
    expect(t.ledger.limits().perTransactionMaxMinor.SYP).toBe(1_000);
    expect(t.ledger.append(purchase()).seq).toBe(1);
  });

  it("a customer's PIN hash swapped (or its lockout reset) in the people table is refused (LOCAL_STATE_TAMPERED)", () => {
    const now = Date.now();
    t.store.people.upsert({ personId: 'C1', name: 'C', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
    t.ledger.customerPins.setHash('C1', 'scrypt$genuine');
    expect(t.ledger.customerPins.get('C1')).toMatchObject({ pinHash: 'scrypt$genuine' });
    t.ledger.customerPins.setAttempts('C1', 5, now + 60_000);
    editStore(`UPDATE people SET pin_failed = 0, pin_locked_until_ms = 0 WHERE person_id = 'C1'`);
    expect(() => t.ledger.customerPins.get('C1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE people SET pin_failed = 5, pin_locked_until_ms = ?, pin_hash = 'scrypt$attacker' WHERE person_id = 'C1'`, now + 60_000);
    expect(() => t.ledger.customerPins.get('C1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it('the time of the last sync edited forward (to keep offline payments going) is refused', () => {
    t.ledger.noteSync(Date.now() - 10 * 24 * 3600_000);
    expect(t.ledger.checkOffline('C1', 100, 'SYP')).toMatchObject({ allow: false, reason: 'SYNC_TOO_OLD' });
    const stored = t.store.settings.get<unknown>(SETTING.lastSyncMs);
    const forged = typeof stored === 'number' ? Date.now() : { ...(stored as object), ms: Date.now() };
    editStore('UPDATE settings SET value = ? WHERE key = ?', JSON.stringify(forged), SETTING.lastSyncMs);
    expect(() => t.ledger.checkOffline('C1', 100, 'SYP')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  /** A voucher of 90,000,000 SYP "leased here", as a local user would slip it into the file. */
  function slipVoucher(amount = 90_000_000_00): void {
    const now = Date.now();
    t.store.people.upsert({ personId: 'MAL', name: 'M', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
    t.store.people.upsertAccountRow({ accountId: 'A-MAL', personId: 'MAL', currency: 'SYP', status: 'active', updatedAtMs: now });
    editStore(`INSERT INTO vouchers (voucher_id, person_id, account_id, period, amount_minor, currency, status, updated_at_ms) VALUES ('V-X', 'MAL', 'A-MAL', '2026-10', ?, 'SYP', 'open', ?)`, amount, now);
    editStore(`INSERT INTO voucher_leases (voucher_id, lease_id, terminal_id, granted_at_ms, expires_at_ms) VALUES ('V-X', 'L-X', ?, ?, ?)`, t.ledger.terminalId, now, now + 86_400_000);
  }

  it('a salary voucher "leased here" slipped into the file is never paid out (LOCAL_STATE_TAMPERED)', () => {
    slipVoucher();
    expect(() => t.ledger.payVoucher({ voucherId: 'V-X', personId: 'MAL', operatorId: 'op-1' })).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    expect(t.store.journal.count()).toBe(0);
  });

  it("a genuine voucher's amount raised in the file, or its lease moved here, is refused", () => {
    const now = Date.now();
    t.ledger.centreCopies.putVoucher({ voucherId: 'V-1', personId: 'P1', accountId: 'A1', period: '2026-10', amountMinor: 100, currency: 'SYP', status: 'open', updatedAtMs: now });
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-OTHER', grantedAtMs: now, expiresAtMs: now + 86_400_000 });
    editStore(`UPDATE voucher_leases SET terminal_id = ? WHERE voucher_id = 'V-1'`, t.ledger.terminalId);
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE vouchers SET amount_minor = 100000000 WHERE voucher_id = 'V-1'`);
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    expect(t.store.journal.count()).toBe(0);
  });

  it("a customer's offline allowance raised in the file is refused", () => {
    t.ledger.noteSync(Date.now());
    t.ledger.centreCopies.grantAllowance({ customerId: 'C1', currency: 'SYP', limitMinor: 1_000, grantedAtMs: Date.now(), expiresAtMs: Date.now() + 86_400_000, asOfSeq: 0 });
    expect(t.ledger.checkOffline('C1', 5_000, 'SYP')).toMatchObject({ allow: false, reason: 'CUSTOMER_ALLOWANCE' });
    editStore(`UPDATE offline_allowances SET limit_minor = 1000000000 WHERE customer_id = 'C1'`);
    expect(() => t.ledger.checkOffline('C1', 5_000, 'SYP')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
  });

  it("the account balance shown on the statement, raised or made to look fresh in the file, is refused", () => {
    const at = Date.now();
    t.ledger.noteSync(at);
    t.ledger.centreCopies.grantAllowance({ customerId: 'C1', currency: 'SYP', limitMinor: 1_000, grantedAtMs: at, expiresAtMs: at + 86_400_000, asOfSeq: 0, balanceMinor: 1_000 });
    expect(t.ledger.centreCopies.allowance('C1', 'SYP')).toMatchObject({ balanceMinor: 1_000, grantedAtMs: at });
    editStore(`UPDATE offline_allowances SET balance_minor = 900000000 WHERE customer_id = 'C1'`);
    expect(() => t.ledger.centreCopies.allowance('C1', 'SYP')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE offline_allowances SET balance_minor = 1000, granted_at_ms = granted_at_ms + 86400000 WHERE customer_id = 'C1'`);
    expect(() => t.ledger.centreCopies.allowance('C1', 'SYP')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
    editStore(`UPDATE offline_allowances SET granted_at_ms = granted_at_ms - 86400000 WHERE customer_id = 'C1'`);
    expect(t.ledger.centreCopies.allowance('C1', 'SYP')).toMatchObject({ balanceMinor: 1_000 });
  });

  it('a paid voucher set back to open in the file is not paid again (the journal holds the payout)', () => {
    const now = Date.now();
    t.store.people.upsert({ personId: 'P1', name: 'P', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
    t.ledger.centreCopies.putVoucher({ voucherId: 'V-1', personId: 'P1', accountId: 'A1', period: '2026-10', amountMinor: 100, currency: 'SYP', status: 'open', updatedAtMs: now });
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: t.ledger.terminalId, grantedAtMs: now, expiresAtMs: now + 86_400_000 });
    expect(t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P1', operatorId: 'op-1' }).seq).toBe(1);
    editStore(`UPDATE vouchers SET status = 'open', paid_seq = NULL WHERE voucher_id = 'V-1'`);
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ code: 'RECORD_DUPLICATE' }));
    expect(t.store.journal.count()).toBe(1);
  });
});
