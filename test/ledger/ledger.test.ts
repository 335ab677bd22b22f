// Appending records: one transaction (journal + effects + outbox), chain, sequence, domain rules.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, makeTerminal, reopen, purchase } from './helpers.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { GENESIS_HASH } from '../../src/protocol/record.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';

let t: Terminal;
let dir: string;
let cleanup: () => void;
let clock = 1_800_000_000_000;
beforeEach(() => {
  const d = tempDir();
  dir = d.dir;
  cleanup = d.cleanup;
  t = makeTerminal(dir, 'T-1', { now: () => clock });
});
afterEach(() => {
  t.close();
  cleanup();
});

const generous = { perTransactionMaxMinor: { SYP: 1e9, USD: 1e9 }, terminalStoredMaxMinor: { SYP: 1e12, USD: 1e12 }, maxStoredRecordAgeMs: 1e12, maxSinceLastSyncMs: 1e12 };

describe('append', () => {
  it('assigns seq 1, 2, 3 with prevHash links, terminal id and HLC; journal + outbox rows exist', () => {
    const a = t.ledger.append(purchase());
    const b = t.ledger.append(purchase());
    expect(a).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, terminalId: 'T-1', v: 1, hlc: { ms: clock, c: 0 } });
    expect(b).toMatchObject({ seq: 2, prevHash: a.hash, hlc: { ms: clock, c: 1 } });
    expect(t.store.journal.get(2)?.hash).toBe(b.hash);
    expect(t.store.outbox.stats().pending).toBe(2);
    expect(verifyJournal(t.store, t.keys.publicKey, 'T-1')).toMatchObject({ ok: true, count: 2, lastHash: b.hash });
  });

  it('continues the chain after reopening', () => {
    const a = t.ledger.append(purchase());
    t.close();
    t = reopen(dir, { now: () => clock });
    expect(t.ledger.append(purchase())).toMatchObject({ seq: 2, prevHash: a.hash });
  });

  it('keeps the HLC moving forward when the wall clock jumps back, and floors it at the last server time', () => {
    t.ledger.append(purchase());
    clock -= 3_600_000;
    const r = t.ledger.append(purchase());
    expect(r.hlc).toEqual({ ms: clock + 3_600_000, c: 1 });
    t.ledger.noteServerTime({ ms: clock + 7_200_000, ref: 'st-1' });
    const s = t.ledger.append(purchase());
    expect(s.hlc).toEqual({ ms: clock + 7_200_000, c: 0 });
    expect(s.serverTime).toEqual({ ms: clock + 7_200_000, ref: 'st-1' });
  });

  it('refuses invalid drafts and duplicate ids, writing nothing', () => {
    t.ledger.append(purchase({ purchaseId: 'dup' }));
    expect(() => t.ledger.append(purchase({ purchaseId: 'dup' }))).toThrow(expect.objectContaining({ code: 'RECORD_DUPLICATE' }));
    expect(() => t.ledger.append(purchase({ amountMinor: 1.5 }))).toThrow(expect.objectContaining({ code: 'RECORD_MALFORMED' }));
    expect(() => t.ledger.append(purchase({ amountMinor: 0 }))).toThrow(expect.objectContaining({ code: 'RECORD_MALFORMED' }));
    expect(() => t.ledger.append({ ...purchase(), currency: 'EUR' } as never)).toThrow(expect.objectContaining({ code: 'RECORD_MALFORMED' }));
    expect(() => t.ledger.append({ ...purchase(), extra: 1 } as never)).toThrow(expect.objectContaining({ code: 'RECORD_MALFORMED' }));
    expect(t.store.journal.count()).toBe(1);
    expect(t.store.outbox.stats().pending).toBe(1);
    // an optional field set to undefined is simply absent (one canonical spelling)
    const r = t.ledger.append({ ...purchase(), biller: undefined } as never);
    expect(r).toMatchObject({ seq: 2 });
    expect('biller' in r).toBe(false);
  });
});

describe('salary payout', () => {
  const voucher = { voucherId: 'V-1', personId: 'P-1', accountId: 'A-1', period: '2026-11', amountMinor: 750_000, currency: 'SYP' as const, status: 'open' as const, updatedAtMs: 1 };
  const payout = { type: 'salary_payout' as const, operatorId: 'op-1', voucherId: 'V-1', leaseId: 'L-1', personId: 'P-1', accountId: 'A-1', period: '2026-11', amountMinor: 750_000, currency: 'SYP' as const };

  it('pays a voucher leased here once, and marks it paid in the same transaction', () => {
    t.ledger.centreCopies.putVoucher(voucher);
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: clock + 1 });
    const r = t.ledger.append(payout);
    expect(t.store.vouchers.get('V-1')).toMatchObject({ status: 'paid', paidSeq: r.seq });
    expect(() => t.ledger.append(payout)).toThrow(expect.objectContaining({ code: 'RECORD_DUPLICATE' }));
  });

  it.each([
    ['unknown voucher', () => {}, /unknown voucher/, 'unknown-voucher'],
    ['no lease here', (tt: Terminal) => tt.ledger.centreCopies.putVoucher(voucher), /not leased to this terminal/, 'not-leased-here'],
    ['leased to another terminal', (tt: Terminal) => {
      tt.ledger.centreCopies.putVoucher(voucher);
      tt.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-2', grantedAtMs: 0, expiresAtMs: 9e15 });
    }, /not leased to this terminal/, 'not-leased-here'],
    ['expired lease', (tt: Terminal) => {
      tt.ledger.centreCopies.putVoucher(voucher);
      tt.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: clock });
    }, /expired/, 'lease-expired'],
    ['wrong amount', (tt: Terminal) => {
      tt.ledger.centreCopies.putVoucher({ ...voucher, amountMinor: 1 });
      tt.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    }, /amount must be 1/, 'claim-mismatch'],
    ['already paid', (tt: Terminal) => {
      tt.ledger.centreCopies.putVoucher({ ...voucher, status: 'paid' });
      tt.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    }, /it is paid/, 'not-open'],
  ] as const)('refuses: %s (VOUCHER_REFUSED with a typed reason, nothing written)', (_name, setup, why, reason) => {
    setup(t);
    expect(() => t.ledger.append(payout)).toThrow(why);
    expect(() => t.ledger.append(payout)).toThrow(expect.objectContaining({ code: 'VOUCHER_REFUSED', reason }));
    // payVoucher drafts from the stored voucher and the lease held here; the same rule decides.
    if (reason !== 'claim-mismatch') expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ reason }));
    expect(t.store.journal.count()).toBe(0);
  });

  it('a withdrawn lease is dropped and given back once with a signed release; a paid voucher or an older lease signs none', () => {
    t.ledger.centreCopies.putVoucher(voucher);
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-2', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    expect(t.ledger.releaseLease('V-1', 'L-1')).toBeUndefined(); // an older lease's withdrawal: the one held stays
    expect(t.store.vouchers.lease('V-1')?.leaseId).toBe('L-2');
    const rel = t.ledger.releaseLease('V-1', 'L-2');
    expect(rel).toMatchObject({ type: 'lease_release', voucherId: 'V-1', leaseId: 'L-2', operatorId: 'system', seq: 1 });
    expect(t.store.vouchers.lease('V-1')).toBeUndefined();
    expect(t.store.outbox.stats()).toMatchObject({ pending: 1 });
    expect(t.ledger.releaseLease('V-1', 'L-2')).toBeUndefined(); // a page applied again: one release only
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ reason: 'not-leased-here' }));
    // Paid here before the withdrawal arrived: no release (the payout, ahead in the chain, settles the move).
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-3', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' });
    expect(t.ledger.releaseLease('V-1', 'L-3')).toBeUndefined();
    expect([...t.store.journal.iterate()].map((r) => r.type)).toEqual(['lease_release', 'salary_payout']);
  });

  it('payVoucher pays the voucher leased here for the person claimed, and refuses another person', () => {
    t.ledger.centreCopies.putVoucher(voucher);
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-2', operatorId: 'op-1' })).toThrow(expect.objectContaining({ reason: 'claim-mismatch' }));
    const r = t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' });
    expect(r).toMatchObject({ type: 'salary_payout', leaseId: 'L-1', amountMinor: 750_000, seq: 1 });
    expect(() => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' })).toThrow(expect.objectContaining({ code: 'RECORD_DUPLICATE' }));
  });

  it('a void of the payout reopens the voucher; a second void is refused', () => {
    t.ledger.centreCopies.putVoucher(voucher);
    t.ledger.centreCopies.putLease({ voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 });
    const r = t.ledger.append(payout);
    const v = { type: 'void' as const, operatorId: 'op-1', voidId: 'X-1', targetTerminalId: 'T-1', targetSeq: r.seq, targetType: 'salary_payout' as const, targetId: 'V-1', amountMinor: 750_000, currency: 'SYP' as const, approvedBy: 'sup-1', reason: 'cash not handed over' };
    t.ledger.append(v);
    expect(t.store.vouchers.get('V-1')?.status).toBe('open');
    expect(() => t.ledger.append({ ...v, voidId: 'X-2' })).toThrow(expect.objectContaining({ code: 'VOID_REFUSED' }));
  });
});

describe('offline purchases, refunds', () => {
  it('consumes the allowance in the same transaction and refuses past it with the reason', () => {
    t.ledger.setLimits(generous);
    t.ledger.noteSync(clock);
    t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 1000, grantedAtMs: 0, expiresAtMs: 9e15, asOfSeq: 0 });
    t.ledger.append(purchase({ offline: true, amountMinor: 600 }));
    expect(t.ledger.checkOffline('cust-1', 500, 'SYP')).toMatchObject({ allow: false, reason: 'CUSTOMER_ALLOWANCE' });
    expect(() => t.ledger.append(purchase({ offline: true, amountMinor: 500 }))).toThrow(expect.objectContaining({ code: 'OFFLINE_REFUSED' }));
    expect(t.store.allowances.get('cust-1', 'SYP')?.usedMinor).toBe(600);
    expect(t.ledger.append(purchase({ offline: true, amountMinor: 400 })).seq).toBe(2);
  });

  it('refuses offline purchases when never synced', () => {
    expect(() => t.ledger.append(purchase({ offline: true }))).toThrow(/SYNC_TOO_OLD/);
  });

  it('refunds at most what was paid, only for purchases made here', () => {
    const p = t.ledger.append(purchase({ amountMinor: 1000 }));
    const refund = { type: 'refund' as const, operatorId: 'op-1', refundId: 'R-1', originalPurchaseId: p.type === 'purchase' ? p.purchaseId : '', originalTerminalId: 'T-1', originalSeq: p.seq, customerId: 'cust-1', accountId: 'acct-1', amountMinor: 700, currency: 'SYP' as const, approvedBy: 'sup-1', reason: 'returned' };
    t.ledger.append(refund);
    expect(() => t.ledger.append({ ...refund, refundId: 'R-2', amountMinor: 301 })).toThrow(/at most 300/);
    expect(t.ledger.append({ ...refund, refundId: 'R-3', amountMinor: 300 }).seq).toBe(3);
    expect(() => t.ledger.append({ ...refund, refundId: 'R-4', originalTerminalId: 'T-9', amountMinor: 1 })).toThrow(expect.objectContaining({ code: 'REFUND_REFUSED' }));
  });
});

describe('supervisor override of offline limits (approvedBy)', () => {
  const limits = { ...generous, perTransactionMaxMinor: { SYP: 1000, USD: 1000 }, terminalStoredMaxMinor: { SYP: 5000, USD: 5000 } };
  beforeEach(() => {
    t.ledger.setLimits(limits);
    t.ledger.noteSync(clock);
    t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 3000, grantedAtMs: 0, expiresAtMs: 9e15, asOfSeq: 0 });
    t.ledger.operators.add({ operatorId: 'sup-1', name: 'Sara', role: 'supervisor', pinHash: 'x' });
    t.ledger.operators.add({ operatorId: 'sup-2', name: 'Rami', role: 'supervisor', pinHash: 'x' });
    t.ledger.operators.add({ operatorId: 'cash-2', name: 'Lina', role: 'cashier', pinHash: 'x' });
  });
  const over = (approvedBy: string, overriddenLimits: Array<'CUSTOMER_ALLOWANCE' | 'PER_TRANSACTION_CAP'>, amountMinor = 1500) =>
    purchase({ offline: true, amountMinor, approvedBy, overriddenLimits });

  it('an active supervisor who is not the cashier raises the per-transaction cap; the record carries who and which limit', () => {
    expect(() => t.ledger.append(purchase({ offline: true, amountMinor: 1500 }))).toThrow(/PER_TRANSACTION_CAP/);
    expect(t.ledger.limitsToOverride('cust-1', 1500, 'SYP')).toEqual(['PER_TRANSACTION_CAP']);
    const r = t.ledger.append(over('sup-1', ['PER_TRANSACTION_CAP']));
    expect(r).toMatchObject({ approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'], operatorId: 'op-1' });
    expect(JSON.parse(t.store.journal.get(r.seq)!.body)).toMatchObject({ approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'] });
    expect(t.store.allowances.get('cust-1', 'SYP')?.usedMinor).toBe(1500);
    expect(verifyJournal(t.store, t.keys.publicKey)).toMatchObject({ ok: true });
  });

  it('raises the customer allowance (and both at once), only the limits named', () => {
    expect(t.ledger.limitsToOverride('cust-1', 3500, 'SYP')).toEqual(['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP']);
    expect(() => t.ledger.append(over('sup-1', ['PER_TRANSACTION_CAP'], 3500))).toThrow(/CUSTOMER_ALLOWANCE/);
    expect(() => t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE'], 3500))).toThrow(/PER_TRANSACTION_CAP/);
    expect(t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'], 3500)).seq).toBe(1);
    expect(t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE'], 500)).seq).toBe(2); // allowance already spent
  });

  it('refuses an approver who is the cashier, not a supervisor, inactive or unknown', () => {
    expect(() => t.ledger.append(purchase({ offline: true, amountMinor: 1500, operatorId: 'sup-1', approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'] }))).toThrow(expect.objectContaining({ code: 'RECORD_MALFORMED' }));
    expect(() => t.ledger.append(over('cash-2', ['PER_TRANSACTION_CAP']))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    expect(() => t.ledger.append(over('nobody', ['PER_TRANSACTION_CAP']))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    t.ledger.operators.setActive('sup-2', false);
    expect(() => t.ledger.append(over('sup-2', ['PER_TRANSACTION_CAP']))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    expect(t.store.journal.count()).toBe(0);
  });

  it('never raises the terminal total or the ages; malformed overrides are refused', () => {
    t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE'], 900));
    t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 1e9, grantedAtMs: 0, expiresAtMs: 9e15, asOfSeq: 1 });
    for (let i = 0; i < 4; i++) t.ledger.append(purchase({ offline: true, amountMinor: 1000 }));
    expect(t.ledger.limitsToOverride('cust-1', 500, 'SYP')).toBeNull();
    expect(() => t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'], 500))).toThrow(/TERMINAL_STORED_TOTAL/);
    t.ledger.setLimits({ ...limits, terminalStoredMaxMinor: { SYP: 1e12, USD: 1e12 }, maxStoredRecordAgeMs: 1 });
    clock += 10;
    expect(() => t.ledger.append(over('sup-1', ['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'], 500))).toThrow(/STORED_RECORD_TOO_OLD/);
    const bad = (o: Record<string, unknown>) => () => t.ledger.append({ ...purchase({ offline: true }), ...o } as never);
    expect(bad({ approvedBy: 'sup-1' })).toThrow(/both approvedBy and overriddenLimits/);
    expect(bad({ overriddenLimits: ['PER_TRANSACTION_CAP'] })).toThrow(/both approvedBy and overriddenLimits/);
    expect(bad({ approvedBy: 'sup-1', overriddenLimits: ['TERMINAL_STORED_TOTAL'] })).toThrow(/RECORD_MALFORMED|malformed/);
    expect(bad({ approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP', 'CUSTOMER_ALLOWANCE'] })).toThrow(/sorted/);
    expect(bad({ approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'], offline: false })).toThrow(/offline/);
  });
});

describe('day close', () => {
  it('totals the records since the last day close, by currency', () => {
    t.ledger.append(purchase({ amountMinor: 100 }));
    t.ledger.append(purchase({ amountMinor: 50, currency: 'USD' }));
    t.ledger.append({ ...purchase({ amountMinor: 20 }), biller: { billerId: 'ELEC', billRef: 'INV-1' } } as never);
    const totals = t.ledger.dayCloseTotals();
    expect(totals).toMatchObject({ firstSeq: 1, lastSeq: 3 });
    expect(totals.totals.map((x) => [x.currency, x.purchaseCount, x.purchaseMinor, x.billCount])).toEqual([['SYP', 2, 120, 1], ['USD', 1, 50, 0]]);
    t.ledger.append({ type: 'day_close', operatorId: 'op-1', dayCloseId: 'Z-1', businessDate: '2026-11-22', ...totals });
    t.ledger.append(purchase({ amountMinor: 5 }));
    expect(t.ledger.dayCloseTotals()).toMatchObject({ firstSeq: 5, lastSeq: 5 });
  });
});
