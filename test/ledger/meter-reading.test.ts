// The terminal's own rule for a meter reading (issue 17d), on the real store and signed ledger: the last reading
// comes from the feed's bills (a newer cycle replaces it) and this counter's readings; a reading below it is
// refused unless an active supervisor who is not the cashier approved it (the one approver check the purchases
// use). Attacks first: no approval, the cashier as approver, a cashier as approver.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Terminal } from '../../src/ledger/open.ts';
import { makeTerminal, tempDir } from './helpers.ts';

describe('meter readings at the terminal', () => {
  let t: Terminal;
  let cleanup: () => void;
  beforeEach(() => {
    const d = tempDir();
    cleanup = d.cleanup;
    t = makeTerminal(d.dir);
    t.ledger.operators.add({ operatorId: 'sup-1', name: 'Sara', role: 'supervisor', pinHash: 'x' });
    t.ledger.operators.add({ operatorId: 'cash-2', name: 'Lina', role: 'cashier', pinHash: 'x' });
    const bill = (billId: string, cycle: string, current: number) => ({
      billerId: 'elec', billId, subscriber: '00123456', cycle, amountMinor: 100, currency: 'SYP' as const, dueDate: '2026-12-01', previousReading: 0, currentReading: current, receivedAtMs: Date.now(),
    });
    t.store.transaction(() => {
      t.store.bills.upsertOpen(bill('B-11', '2026-11', 1500));
      t.store.bills.upsertOpen(bill('B-10', '2026-10', 1200)); // an older cycle delivered later does not win
    });
    t.store.transaction(() => t.store.bills.remove('elec', 'B-11', '00123456', Date.now(), { cycle: '2026-11', currentReading: 1500 }));
  });
  afterEach(() => {
    t.close();
    cleanup();
  });
  let n = 0;
  const reading = (value: number, approvedBy?: string) => ({
    type: 'meter_reading' as const, operatorId: 'op-1', readingId: `RD-${++n}`, personId: 'P1', billerId: 'elec', subscriber: '00123456', reading: value, ...(approvedBy ? { approvedBy } : {}),
  });

  it('knows the last reading from the newest bill, even once it is paid and gone from the cache', () => {
    expect(t.store.bills.meters('00123456')).toEqual([{ billerId: 'elec', lastReading: 1500 }]);
  });

  it('attack: a lower reading without a supervisor is refused and nothing is written', () => {
    expect(() => t.ledger.append(reading(1400))).toThrow(expect.objectContaining({ code: 'READING_NEEDS_SUPERVISOR' }));
    expect(t.store.journal.count()).toBe(0);
    expect(() => t.ledger.append(reading(1400, 'cash-2'))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    expect(() => t.ledger.append(reading(1400, 'nobody'))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    expect(() => t.ledger.append(reading(1400, 'op-1'))).toThrow(/approver must not be the cashier/);
    expect(t.store.journal.count()).toBe(0);
    expect(t.store.bills.meters('00123456')[0]!.lastReading).toBe(1500);
  });

  it('a higher reading, then a supervisor-approved lower one: each becomes the last reading; both go to the outbox', () => {
    t.ledger.append(reading(1600));
    expect(t.store.bills.meters('00123456')[0]!.lastReading).toBe(1600);
    t.ledger.append(reading(20, 'sup-1'));
    expect(t.store.bills.meters('00123456')[0]!.lastReading).toBe(20);
    expect(t.store.journal.count()).toBe(2);
    expect(t.store.outbox.stats().pending).toBe(2);
  });
});
