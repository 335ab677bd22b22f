// The flows over the REAL store and signed ledger (SQLite on disk): a voucher is paid once whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';
import { DEFAULT_OFFLINE_LIMITS } from '../../src/ledger/limits.ts';
import { reduceDayClose, startDayClose } from '../../src/flows/day-close.ts';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { reducePayout, startPayout } from '../../src/flows/payout.ts';
import { reducePurchase, startPurchase } from '../../src/flows/purchase.ts';
import { reduceReversal, startReversal } from '../../src/flows/reversal.ts';
import { seedDemo } from '../../src/host/demo/seed.ts';
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import type { FlowPorts, Identifier } from '../../src/flows/ports.ts';
import { ScriptedPalm, type Probe } from './helpers.ts';

const FAST_PIN = { N: 1 << 10, r: 8, p: 1 };
const dirs: string[] = [];
const open: Terminal[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function terminal(): Promise<{ dir: string; t: Terminal }> {
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-flows-'));
  dirs.push(dir);
  provisionTerminal(dir, 'T-TEST', { protector: filePermissionsProtector() });
  const t = openTerminal(dir, { protector: filePermissionsProtector() });
  open.push(t);
  await seedDemo(t, { openingFloat: 100_000_000, pinCost: FAST_PIN });
  return { dir, t };
}

function reopen(dir: string): Terminal {
  const t = openTerminal(dir, { protector: filePermissionsProtector() });
  open.push(t);
  return t;
}

function ports(t: Terminal, opts: { drawerFails?: boolean } = {}) {
  const bank = new SqliteBank<Probe>({ terminal: t, encode: (p) => new TextEncoder().encode(p) });
  const identifier: Identifier<Probe> = {
    identify: (p) => (p === 'twin' ? { kind: 'ambiguous' } : t.store.people.get(p) || t.store.operators.get(p) ? { kind: 'match', personId: p } : { kind: 'no-match' }),
    verify: (id, p) => id === p,
    duplicates: () => [],
  };
  let opens = 0;
  const p: FlowPorts<Probe> & { palm: ScriptedPalm; opens: () => number } = {
    palm: new ScriptedPalm(),
    identifier,
    bank,
    drawer: { open: async () => { if (opts.drawerFails) throw new Error('drawer offline'); opens++; } },
    printer: { print: async () => {} },
    opens: () => opens,
  };
  return p;
}

const payoutDriver = (p: ReturnType<typeof ports>) => new FlowDriver(reducePayout, startPayout('op-cashier'), createPerformers(p).payout);
const payouts = (t: Terminal) => t.store.journal.count() - 0;

describe('payout over SQLite', () => {
  it('double click, second tab, restart: one payout per voucher, chain intact', async () => {
    const { dir, t } = await terminal();
    const p = ports(t);
    const a = payoutDriver(p);
    const b = payoutDriver(p);
    p.palm.present('emp-ahmad');
    p.palm.present('emp-ahmad');
    await a.waitFor((s) => s.step === 'review');
    await b.waitFor((s) => s.step === 'review');
    a.dispatch({ type: 'cash.confirmed' });
    a.dispatch({ type: 'cash.confirmed' });
    b.dispatch({ type: 'cash.confirmed' });
    expect(await b.waitFor((s) => s.step === 'failed')).toMatchObject({ reason: 'already-paid' });
    await a.waitFor((s) => s.step === 'confirm');
    expect(p.opens()).toBe(1);
    const paid = t.store.db.prepare(`SELECT count(*) FROM journal WHERE type = 'salary_payout'`).pluck().get();
    expect(paid).toBe(2); // two vouchers (Sept + Oct), one record each
    a.close();
    t.close();

    // Restart: the same person is told they are paid; nothing more is written.
    const t2 = reopen(dir);
    const before = payouts(t2);
    const p2 = ports(t2);
    const c = payoutDriver(p2);
    p2.palm.present('emp-ahmad');
    expect(await c.waitFor((s) => s.step === 'refused')).toMatchObject({ reason: 'already-paid' });
    expect(payouts(t2)).toBe(before);
    expect(verifyJournal(t2.store, t2.keys.publicKey).ok).toBe(true);
  });

  it('a power cut between the record and the drawer is offered again after restart', async () => {
    const { dir, t } = await terminal();
    const p = ports(t, { drawerFails: true });
    const d = payoutDriver(p);
    p.palm.present('emp-hevi');
    await d.waitFor((s) => s.step === 'review');
    d.dispatch({ type: 'cash.confirmed' });
    await d.waitFor((s) => s.step === 'drawer' && s.drawerError);
    d.close();
    t.close();
    const t2 = reopen(dir);
    const bank = ports(t2).bank;
    const pending = bank.pendingDrawer();
    expect(pending.map((x) => [x.person.nameLatin, x.receipt.total])).toEqual([['Hêvî Elî', { minor: 12_000_000, currency: 'SYP' }]]);
    bank.markDrawerOpened(pending[0]!.receipt.recordId);
    expect(bank.pendingDrawer()).toEqual([]);
  });

  it('recordPayout takes the ledger\'s typed refusal: a lease moved or expired since the screen loaded, a voucher already paid', async () => {
    const { t } = await terminal();
    const bank = new SqliteBank<Probe>({ terminal: t, encode: (p) => new TextEncoder().encode(p) });
    const [far] = t.store.db.prepare(`SELECT voucher_id FROM vouchers WHERE person_id = 'emp-far'`).pluck().all() as string[];
    // The bank no longer checks the lease itself: the ledger's rule refuses, and its reason reaches the screen.
    expect(bank.recordPayout({ personId: 'emp-far', voucherIds: [far!], operatorId: 'op-cashier' })).toEqual({ ok: false, reason: 'voucher-not-leased-here' });
    const [hevi] = t.store.db.prepare(`SELECT voucher_id FROM vouchers WHERE person_id = 'emp-hevi'`).pluck().all() as string[];
    const lease = t.store.vouchers.lease(hevi!)!;
    t.ledger.centreCopies.putLease({ ...lease, expiresAtMs: Date.now() - 1 });
    expect(bank.recordPayout({ personId: 'emp-hevi', voucherIds: [hevi!], operatorId: 'op-cashier' })).toEqual({ ok: false, reason: 'voucher-not-leased-here' });
    t.ledger.centreCopies.putLease(lease);
    expect(bank.recordPayout({ personId: 'emp-hevi', voucherIds: [hevi!], operatorId: 'op-cashier' })).toMatchObject({ ok: true });
    expect(bank.recordPayout({ personId: 'emp-hevi', voucherIds: [hevi!], operatorId: 'op-cashier' })).toEqual({ ok: false, reason: 'already-paid' });
    // A voucher that is not this person's is a bug in the caller, not a refusal: typed error, nothing written.
    const [ahmad] = t.store.db.prepare(`SELECT voucher_id FROM vouchers WHERE person_id = 'emp-ahmad'`).pluck().all() as string[];
    expect(() => bank.recordPayout({ personId: 'emp-hevi', voucherIds: [ahmad!], operatorId: 'op-cashier' })).toThrow(expect.objectContaining({ code: 'VOUCHER_MISMATCH' }));
    expect(t.store.journal.count()).toBe(1 + (t.store.db.prepare(`SELECT count(*) FROM journal WHERE type != 'salary_payout'`).pluck().get() as number));
  });

  it('refuses provisional, blocked and leased-elsewhere vouchers with the exact reason', async () => {
    const { t } = await terminal();
    const p = ports(t);
    for (const [who, reason] of [['emp-layla', 'person-provisional'], ['emp-omar', 'person-revoked'], ['emp-far', 'voucher-not-leased-here'], ['nobody', 'unknown-palm']]) {
      const d = payoutDriver(p);
      p.palm.present(who!);
      expect(await d.waitFor((s) => s.step === 'refused')).toMatchObject({ reason });
    }
    expect(t.store.journal.count()).toBe(0);
  });
});

describe('purchase, reversal and day close over SQLite', () => {
  it('declines over the allowance, approves within it, voids once with a supervisor, closes the day signed', async () => {
    const { t } = await terminal();
    const p = ports(t);
    const buy = (minor: number, id: string) => {
      const d = new FlowDriver(reducePurchase, startPurchase({ operatorId: 'op-cashier', requestId: id, kind: 'purchase', currency: 'SYP', pinThreshold: 1_000_000 }), createPerformers(p).purchase);
      d.dispatch({ type: 'amount.set', minor });
      p.palm.present('cust-zin');
      return d;
    };
    // Above the allowance: declined before the customer's PIN is asked, with what is left (the demo's 100,000 SYP).
    const over = buy(12_000_000, 'req-over');
    expect(await over.waitFor((s) => s.step === 'pin' || s.step === 'declined')).toMatchObject({
      step: 'declined', reason: 'limit-customer-allowance', overridable: true, canSpend: { minor: 10_000_000, currency: 'SYP' },
    });
    const ok = buy(50_000, 'req-ok');
    const approved = await ok.waitFor((s) => s.step === 'approved');
    const seq = approved.step === 'approved' ? approved.receipt.seq : 0;
    // The statement's balance is the one the centre sent (the demo's), with its time, and what was paid here since.
    expect(p.bank.allowanceLeft('cust-zin')).toMatchObject({
      left: { minor: 9_950_000 }, balance: { amount: { minor: 24_500_000, currency: 'SYP' }, unsentHere: { minor: 50_000, currency: 'SYP' } },
    });
    expect(p.bank.checkPurchase({ requestId: 'req-more', personId: 'cust-zin', amount: { minor: 9_950_001, currency: 'SYP' } })).toMatchObject({ ok: false, canSpend: { minor: 9_950_000 } });

    const v = new FlowDriver(reduceReversal, startReversal({ operatorId: 'op-cashier', kind: 'void' }), createPerformers(p).reversal);
    v.dispatch({ type: 'reference.set', reference: String(seq) });
    await v.waitFor((s) => s.step === 'found');
    v.dispatch({ type: 'confirm' });
    p.palm.present('op-super');
    await v.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
    v.dispatch({ type: 'auth.submit', pin: '9999' });
    expect(await v.waitFor((s) => s.step === 'done' || s.step === 'refused')).toMatchObject({ step: 'done' });
    expect(p.bank.recordReversal({ kind: 'refund', originalId: 'req-ok', operatorId: 'op-cashier', supervisorId: 'op-super' })).toEqual({ ok: false, reason: 'already-reversed' });

    const dc = new FlowDriver(reduceDayClose, startDayClose({ operatorId: 'op-cashier', denominations: [{ currency: 'SYP', value: 5_000_000 }] }), createPerformers(p).dayClose);
    const count = await dc.waitFor((s) => s.step === 'count');
    expect(count.step === 'count' && count.totals.byType.filter((x) => x.count > 0).map((x) => [x.kind, x.count])).toEqual([['purchase', 1], ['void', 1]]);
    dc.dispatch({ type: 'count.set', currency: 'SYP', value: 5_000_000, count: 20 });
    dc.dispatch({ type: 'close.confirm' });
    await dc.waitFor((s) => s.step === 'closed');
    const last = t.store.journal.lastOfType('day_close')!;
    expect(JSON.parse(last.body)).toMatchObject({ cash: [{ currency: 'SYP', expectedMinor: 100_000_000, countedMinor: 100_000_000 }] });
    expect(verifyJournal(t.store, t.keys.publicKey).ok).toBe(true);
  });
});

describe('supervisor override of a purchase limit over SQLite (approvedBy in the signed record)', () => {
  const buyer = (p: ReturnType<typeof ports>, minor: number, id: string, who = 'cust-zin') => {
    const d = new FlowDriver(reducePurchase, startPurchase({ operatorId: 'op-cashier', requestId: id, kind: 'purchase', currency: 'SYP', pinThreshold: 100_000_000 }), createPerformers(p).purchase);
    d.dispatch({ type: 'amount.set', minor });
    p.palm.present(who);
    return d;
  };

  it('a cap decline is offered to a supervisor (palm + PIN, not the cashier); the record names the approver and the limit', async () => {
    const { t } = await terminal();
    t.ledger.setLimits({ ...DEFAULT_OFFLINE_LIMITS, perTransactionMaxMinor: { SYP: 1_000_000, USD: 10_000 } });
    const p = ports(t);
    const d = buyer(p, 1_200_000, 'req-cap');
    expect(await d.waitFor((s) => s.step === 'declined')).toMatchObject({ reason: 'limit-transaction-cap', overridable: true });
    expect(t.store.journal.count()).toBe(0);
    d.dispatch({ type: 'override.start' });
    p.palm.present('op-cashier'); // the cashier is no supervisor
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'palm' && s.auth.retry === 'role-missing');
    p.palm.present('op-super');
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
    d.dispatch({ type: 'auth.submit', pin: '9999' });
    const s = await d.waitFor((x) => x.step === 'approved' || x.step === 'declined');
    expect(s).toMatchObject({ step: 'approved', overrideBy: 'op-super' });
    expect(s.step === 'approved' && s.receipt.lines).toContainEqual(expect.objectContaining({ label: 'receipt.approvedBy', params: { supervisor: 'Sara', supervisorAr: 'سارة' } }));
    const rec = JSON.parse(t.store.journal.byRef('purchase', 'req-cap')!.body);
    expect(rec).toMatchObject({ operatorId: 'op-cashier', approvedBy: 'op-super', overriddenLimits: ['PER_TRANSACTION_CAP'], amountMinor: 1_200_000 });
    expect(t.store.allowances.get('cust-zin', 'SYP')?.usedMinor).toBe(1_200_000);
    expect(verifyJournal(t.store, t.keys.publicKey).ok).toBe(true);
  });

  it('over the cap and the allowance at once: one approval raises both; the terminal total is never offered', async () => {
    const { t } = await terminal();
    t.ledger.setLimits({ ...DEFAULT_OFFLINE_LIMITS, perTransactionMaxMinor: { SYP: 1_000_000, USD: 10_000 } });
    const p = ports(t);
    const d = buyer(p, 12_000_000, 'req-both');
    expect(await d.waitFor((s) => s.step === 'declined')).toMatchObject({ reason: 'limit-transaction-cap', overridable: true });
    d.dispatch({ type: 'override.start' });
    p.palm.present('op-super');
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
    d.dispatch({ type: 'auth.submit', pin: '9999' });
    expect(await d.waitFor((x) => x.step === 'approved' || x.step === 'declined')).toMatchObject({ step: 'approved' });
    expect(JSON.parse(t.store.journal.byRef('purchase', 'req-both')!.body)).toMatchObject({ approvedBy: 'op-super', overriddenLimits: ['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'] });

    t.ledger.setLimits({ ...DEFAULT_OFFLINE_LIMITS, terminalStoredMaxMinor: { SYP: 12_500_000, USD: 10_000 } });
    const e = buyer(p, 1_000_000, 'req-total');
    expect(await e.waitFor((s) => s.step === 'declined')).toMatchObject({ reason: 'limit-terminal-total', overridable: false });
    expect(t.store.journal.count()).toBe(1);
  });
});
