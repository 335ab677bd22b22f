import { describe, expect, it } from 'vitest';
import { decideOffline, DEFAULT_OFFLINE_LIMITS as L, SUPERVISOR_OVERRIDABLE, type OfflineState } from '../../src/ledger/limits.ts';
import { hlcCompare, hlcNext, hlcReceive } from '../../src/protocol/hlc.ts';

const now = 1_800_000_000_000;
const ok: OfflineState = { nowMs: now, lastSyncMs: now - 1000, oldestUnsyncedMs: now - 1000, terminalUnsyncedMinor: { SYP: 0 }, allowance: { limitMinor: 10_000, usedMinor: 2_000, expiresAtMs: now + 1 } };
const req = { amountMinor: 1000, currency: 'SYP' as const };

describe('offline limits', () => {
  it('allows within every limit and says what is left', () => {
    expect(decideOffline(req, L, ok)).toEqual({ allow: true, allowanceLeftMinor: 7_000 });
  });

  it.each([
    ['BAD_AMOUNT', { amountMinor: 0 }, {}],
    ['BAD_AMOUNT', { amountMinor: 1.5 }, {}],
    ['SYNC_TOO_OLD', {}, { lastSyncMs: null }],
    ['SYNC_TOO_OLD', {}, { lastSyncMs: now - L.maxSinceLastSyncMs - 1 }],
    ['STORED_RECORD_TOO_OLD', {}, { oldestUnsyncedMs: now - L.maxStoredRecordAgeMs - 1 }],
    ['PER_TRANSACTION_CAP', { amountMinor: L.perTransactionMaxMinor.SYP + 1 }, { allowance: { limitMinor: 1e15, usedMinor: 0, expiresAtMs: now + 1 } }],
    ['TERMINAL_STORED_TOTAL', {}, { terminalUnsyncedMinor: { SYP: L.terminalStoredMaxMinor.SYP - 999 } }],
    ['NO_ALLOWANCE', {}, { allowance: null }],
    ['ALLOWANCE_EXPIRED', {}, { allowance: { limitMinor: 10_000, usedMinor: 0, expiresAtMs: now } }],
    ['CUSTOMER_ALLOWANCE', { amountMinor: 8_001 }, {}],
  ] as const)('refuses with %s', (reason, r, s) => {
    const d = decideOffline({ ...req, ...r }, L, { ...ok, ...s } as OfflineState);
    expect(d).toMatchObject({ allow: false, reason });
    expect(d.allow ? '' : d.message.length).toBeGreaterThan(10);
  });

  it('waives only the limits a supervisor raised, and only overridable ones exist', () => {
    const cap = { ...req, amountMinor: L.perTransactionMaxMinor.SYP + 1 };
    const rich = { ...ok, allowance: { limitMinor: 1e15, usedMinor: 0, expiresAtMs: now + 1 } };
    expect(decideOffline(cap, L, rich, ['PER_TRANSACTION_CAP'])).toMatchObject({ allow: true });
    expect(decideOffline({ ...req, amountMinor: 8_001 }, L, ok, ['PER_TRANSACTION_CAP'])).toMatchObject({ allow: false, reason: 'CUSTOMER_ALLOWANCE' });
    expect(decideOffline({ ...req, amountMinor: 8_001 }, L, ok, ['CUSTOMER_ALLOWANCE'])).toEqual({ allow: true, allowanceLeftMinor: 0 });
    const all = ['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'] as const;
    expect(decideOffline(req, L, { ...ok, terminalUnsyncedMinor: { SYP: L.terminalStoredMaxMinor.SYP } }, all)).toMatchObject({ allow: false, reason: 'TERMINAL_STORED_TOTAL' });
    expect(decideOffline(req, L, { ...ok, lastSyncMs: null }, all)).toMatchObject({ allow: false, reason: 'SYNC_TOO_OLD' });
    expect(decideOffline(req, L, { ...ok, oldestUnsyncedMs: now - L.maxStoredRecordAgeMs - 1 }, all)).toMatchObject({ allow: false, reason: 'STORED_RECORD_TOO_OLD' });
    expect(decideOffline(req, L, { ...ok, allowance: null }, all)).toMatchObject({ allow: false, reason: 'NO_ALLOWANCE' });
    expect(decideOffline(req, L, { ...ok, allowance: { limitMinor: 10_000, usedMinor: 0, expiresAtMs: now } }, all)).toMatchObject({ allow: false, reason: 'ALLOWANCE_EXPIRED' });
    expect([...SUPERVISOR_OVERRIDABLE].sort()).toEqual(['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP']);
  });

  it('the exact limits are allowed (boundaries)', () => {
    expect(decideOffline({ ...req, amountMinor: 8_000 }, L, ok)).toEqual({ allow: true, allowanceLeftMinor: 0 });
    expect(decideOffline(req, L, { ...ok, lastSyncMs: now - L.maxSinceLastSyncMs })).toMatchObject({ allow: true });
  });
});

describe('hybrid logical clock', () => {
  it('never goes back, orders within a millisecond, honours the floor', () => {
    expect(hlcNext({ ms: 100, c: 3 }, 200)).toEqual({ ms: 200, c: 0 });
    expect(hlcNext({ ms: 100, c: 3 }, 50)).toEqual({ ms: 100, c: 4 });
    expect(hlcNext({ ms: 100, c: 3 }, 50, 500)).toEqual({ ms: 500, c: 0 });
    expect(hlcReceive({ ms: 100, c: 1 }, { ms: 100, c: 5 }, 90)).toEqual({ ms: 100, c: 6 });
    expect(hlcReceive({ ms: 100, c: 1 }, { ms: 300, c: 5 }, 90)).toEqual({ ms: 300, c: 6 });
    expect(hlcCompare({ ms: 1, c: 2 }, { ms: 1, c: 3 })).toBeLessThan(0);
  });
});
