// The repositories against a real SQLite file: outbox (the uploader's contract), vouchers, allowances,
// settings, people, operators.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, makeTerminal, purchase } from '../ledger/helpers.ts';
import type { Terminal } from '../../src/ledger/open.ts';

let t: Terminal;
let cleanup: () => void;
beforeEach(() => {
  const d = tempDir();
  cleanup = d.cleanup;
  t = makeTerminal(d.dir);
});
afterEach(() => {
  t.close();
  cleanup();
});

describe('outbox', () => {
  it('gets one row per appended record, in the same transaction', () => {
    for (let i = 0; i < 3; i++) t.ledger.append(purchase());
    expect(t.store.outbox.stats()).toEqual({ pending: 3, inFlight: 0, nextAttemptAtMs: 0 });
    expect(t.store.journal.unsyncedTotals()).toEqual({ SYP: 1500 });
  });

  it('claims in seq order, returns the signed records, and marks them in flight', () => {
    const recs = [1, 2, 3, 4, 5].map(() => t.ledger.append(purchase()));
    const batch = t.store.outbox.claimBatch(3, 1000);
    expect(batch.map((b) => b.id)).toEqual([1, 2, 3]);
    expect(batch[0]!.record).toEqual(recs[0]);
    expect(t.store.outbox.stats()).toMatchObject({ pending: 2, inFlight: 3 });
    expect(t.store.outbox.claimBatch(10, 1000).map((b) => b.id)).toEqual([4, 5]);
    expect(t.store.outbox.claimBatch(10, 1000)).toEqual([]);
  });

  it('markDone removes rows (idempotent); the journal keeps the records', () => {
    for (let i = 0; i < 3; i++) t.ledger.append(purchase());
    const ids = t.store.outbox.claimBatch(2, 0).map((b) => b.id);
    t.store.outbox.markDone(ids);
    t.store.outbox.markDone(ids);
    expect(t.store.outbox.stats()).toEqual({ pending: 1, inFlight: 0, nextAttemptAtMs: 0 });
    expect(t.store.journal.count()).toBe(3);
    expect(t.store.journal.unsyncedTotals()).toEqual({ SYP: 500 });
  });

  it('markFailed counts the attempt, keeps the error, and backs off; later rows wait behind it (chain order)', () => {
    for (let i = 0; i < 3; i++) t.ledger.append(purchase());
    const ids = t.store.outbox.claimBatch(1, 0).map((b) => b.id);
    t.store.outbox.markFailed(ids, 'ECONNREFUSED', 5000);
    expect(t.store.outbox.claimBatch(10, 4999)).toEqual([]);
    const retry = t.store.outbox.claimBatch(10, 5000);
    expect(retry.map((b) => [b.id, b.attempts, b.lastError])).toEqual([[1, 1, 'ECONNREFUSED'], [2, 0, null], [3, 0, null]]);
  });

  it('recoverInFlight returns rows a crash left in flight', () => {
    for (let i = 0; i < 2; i++) t.ledger.append(purchase());
    t.store.outbox.claimBatch(2, 0);
    expect(t.store.outbox.recoverInFlight()).toBe(2);
    expect(t.store.outbox.claimBatch(5, 0).map((b) => b.id)).toEqual([1, 2]);
  });
});

describe('vouchers and leases', () => {
  const v = { voucherId: 'V-1', personId: 'P-1', accountId: 'A-1', period: '2026-11', amountMinor: 1000, currency: 'SYP' as const, status: 'open' as const, updatedAtMs: 1 };
  it('a feed does not reopen a voucher paid here', () => {
    t.store.vouchers.upsert(v);
    expect(t.store.vouchers.markPaid('V-1', 7)).toBe(true);
    expect(t.store.vouchers.markPaid('V-1', 8)).toBe(false);
    t.store.vouchers.upsert({ ...v, updatedAtMs: 2 });
    expect(t.store.vouchers.get('V-1')).toMatchObject({ status: 'paid', paidSeq: 7 });
    expect(t.store.vouchers.openFor('P-1')).toEqual([]);
  });
  it('stores and drops leases', () => {
    t.store.vouchers.upsert(v);
    t.store.vouchers.upsertLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 1, expiresAtMs: 99 });
    expect(t.store.vouchers.lease('V-1')).toMatchObject({ leaseId: 'L-1', terminalId: 'T-1' });
    t.store.vouchers.dropLease('V-1');
    expect(t.store.vouchers.lease('V-1')).toBeUndefined();
  });
});

describe('allowances', () => {
  it('a grant counts offline purchases the centre had not seen (after asOfSeq)', () => {
    t.ledger.setLimits({ perTransactionMaxMinor: { SYP: 1e9, USD: 1e9 }, terminalStoredMaxMinor: { SYP: 1e12, USD: 1e12 }, maxStoredRecordAgeMs: 1e12, maxSinceLastSyncMs: 1e12 });
    t.ledger.noteSync(Date.now());
    t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 10_000, grantedAtMs: 0, expiresAtMs: 9e15, asOfSeq: 0 });
    t.ledger.append(purchase({ offline: true, amountMinor: 300 }));
    t.ledger.append(purchase({ offline: true, amountMinor: 200 }));
    t.ledger.append(purchase({ offline: false, amountMinor: 999 }));
    expect(t.store.allowances.get('cust-1', 'SYP')?.usedMinor).toBe(500);
    t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 20_000, grantedAtMs: 1, expiresAtMs: 9e15, asOfSeq: 1 });
    expect(t.store.allowances.get('cust-1', 'SYP')).toMatchObject({ limitMinor: 20_000, usedMinor: 200 });
  });
});

describe('settings, people, operators', () => {
  it('round-trip', () => {
    t.store.settings.set('x', { a: [1, 2] });
    expect(t.store.settings.get('x')).toEqual({ a: [1, 2] });
    expect(t.store.settings.get('missing')).toBeUndefined();
    t.store.people.upsert({ personId: 'P-1', name: 'Ava', idNumber: null, phone: null, employerId: 'E-1', status: 'active', updatedAtMs: 1 });
    t.store.people.upsertAccountRow({ accountId: 'A-1', personId: 'P-1', currency: 'USD', status: 'active', updatedAtMs: 1 });
    expect(t.store.people.get('P-1')).toMatchObject({ name: 'Ava', employerId: 'E-1' });
    expect(t.store.people.accounts('P-1').map((a) => a.accountId)).toEqual(['A-1']);
    t.store.operators.add({ operatorId: 'op-1', name: 'Cashier', role: 'cashier', pinHash: 'scrypt$x', seal: 'mac' });
    t.store.operators.replace({ ...t.store.operators.get('op-1')!, failedAttempts: 3, seal: 'mac2' });
    expect(t.store.operators.get('op-1')).toMatchObject({ role: 'cashier', failedAttempts: 3, active: true, seal: 'mac2' });
  });
});
