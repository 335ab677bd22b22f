import { describe, expect, it } from 'vitest';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { checkOfflineLimits } from '../../src/flows/limits.ts';
import { run } from '../../src/flows/machine.ts';
import { reducePurchase, startPurchase, type PurchaseKind } from '../../src/flows/purchase.ts';
import { LIMITS, SYP, seedBank, testPorts, type TestPorts } from './helpers.ts';

const DAY = 86_400_000;
let requestSeq = 0;
function purchaseDriver(ports: TestPorts, kind: PurchaseKind = 'purchase') {
  const start = startPurchase({ operatorId: 'cashier-1', requestId: `req-${++requestSeq}`, kind, currency: 'SYP', pinThreshold: 100_000 });
  return new FlowDriver(reducePurchase, start, createPerformers(ports).purchase);
}

describe('purchase reducer', () => {
  const start = startPurchase({ operatorId: 'c', requestId: 'r', kind: 'purchase', currency: 'SYP', pinThreshold: 1000 });
  it('refuses a zero, negative or fractional amount', () => {
    for (const minor of [0, -5, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(reducePurchase(start.state, { type: 'amount.set', minor }).state).toMatchObject({ step: 'amount', error: 'amount-invalid' });
    }
  });
  it('asks for the PIN at the threshold, not below', () => {
    const person = { id: 'p', nameAr: 'ب', nameLatin: 'B', status: 'active' as const, accountId: 'A' };
    const at = run(reducePurchase, start.state, [
      { type: 'amount.set', minor: 1000 },
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'p' } },
      { type: 'customer.loaded', person },
    ]);
    // The limits first, then the PIN.
    expect(at.state.step).toBe('checking-limits');
    expect(at.effects).toContainEqual({ type: 'checkPurchaseLimits', requestId: 'r', personId: 'p', amount: { minor: 1000, currency: 'SYP' } });
    expect(reducePurchase(at.state, { type: 'limits.checked', result: { ok: true } }).state.step).toBe('pin');
    const below = run(reducePurchase, start.state, [
      { type: 'amount.set', minor: 999 },
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'p' } },
      { type: 'customer.loaded', person },
    ]);
    expect(below.state.step).toBe('authorizing');
  });
  it('a purchase that the limits refuse is declined before the PIN, with what is left to pay', () => {
    const person = { id: 'p', nameAr: 'ب', nameLatin: 'B', status: 'active' as const, accountId: 'A' };
    const at = run(reducePurchase, start.state, [
      { type: 'amount.set', minor: 5000 },
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'p' } },
      { type: 'customer.loaded', person },
      { type: 'limits.checked', result: { ok: false, reason: 'limit-allowance-expired', overridable: false, canSpend: { minor: 0, currency: 'SYP' } } },
    ]);
    expect(at.state).toMatchObject({ step: 'declined', reason: 'limit-allowance-expired', overridable: false, canSpend: { minor: 0, currency: 'SYP' } });
    expect(at.effects.some((f) => f.type === 'verifyCustomerPin')).toBe(false);
    // Nothing the screen sends from here asks for a PIN.
    expect(reducePurchase(at.state, { type: 'pin.submit', pin: '1234' }).effects).toEqual([]);
  });
  it('declines a salary-only person (no account)', () => {
    const r = run(reducePurchase, start.state, [
      { type: 'amount.set', minor: 10 },
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'p' } },
      { type: 'customer.loaded', person: { id: 'p', nameAr: 'ب', nameLatin: 'B', status: 'active' } },
    ]);
    expect(r.state).toMatchObject({ step: 'declined', reason: 'no-account' });
  });
});

describe('offline limits', () => {
  const now = 100 * DAY;
  const ok = { amount: 100, allowanceLeft: 1000, terminalUnsynced: 0, oldestUnsentAt: null, lastSyncAt: now - DAY, now, override: false };
  it.each([
    ['limit-sync-age', { lastSyncAt: now - 8 * DAY }],
    ['limit-sync-age', { lastSyncAt: null }],
    ['limit-record-age', { oldestUnsentAt: now - 4 * DAY }],
    ['limit-customer-allowance', { allowanceLeft: 99 }],
    ['limit-transaction-cap', { amount: 600_000, allowanceLeft: 10_000_000 }],
    ['limit-terminal-total', { terminalUnsynced: 1_999_950 }],
  ])('declines with %s', (reason, patch) => {
    expect(checkOfflineLimits(LIMITS, { ...ok, ...patch })).toMatchObject({ ok: false, reason });
  });
  it('a supervisor may raise the cap and the customer allowance, never the terminal total or the ages', () => {
    expect(checkOfflineLimits(LIMITS, { ...ok, amount: 600_000, allowanceLeft: 10_000_000 })).toMatchObject({ ok: false, reason: 'limit-transaction-cap', overridable: true });
    expect(checkOfflineLimits(LIMITS, { ...ok, allowanceLeft: 1 })).toMatchObject({ ok: false, reason: 'limit-customer-allowance', overridable: true });
    expect(checkOfflineLimits(LIMITS, { ...ok, amount: 600_000, allowanceLeft: 10_000_000, override: true })).toEqual({ ok: true });
    expect(checkOfflineLimits(LIMITS, { ...ok, allowanceLeft: 1, override: true })).toEqual({ ok: true });
    expect(checkOfflineLimits(LIMITS, { ...ok, terminalUnsynced: 1_999_950, override: true })).toMatchObject({ ok: false, reason: 'limit-terminal-total', overridable: false });
    expect(checkOfflineLimits(LIMITS, { ...ok, oldestUnsentAt: now - 4 * DAY, override: true })).toMatchObject({ ok: false, reason: 'limit-record-age', overridable: false });
    expect(checkOfflineLimits(LIMITS, { ...ok, lastSyncAt: null, override: true })).toMatchObject({ ok: false, reason: 'limit-sync-age', overridable: false });
    expect(checkOfflineLimits(LIMITS, ok)).toEqual({ ok: true });
  });
});

describe('purchase through the driver and the bank', () => {
  it('approves a purchase above the PIN threshold after the right PIN, once', async () => {
    const ports = testPorts();
    const d = purchaseDriver(ports);
    d.dispatch({ type: 'amount.set', minor: 120_000 });
    ports.palm.present('ahmad');
    await d.waitFor((s) => s.step === 'pin');
    d.dispatch({ type: 'pin.submit', pin: '0000' });
    expect(await d.waitFor((s) => s.step === 'pin' && s.wrong)).toMatchObject({ attemptsLeft: 2 });
    d.dispatch({ type: 'pin.submit', pin: '4321' });
    const s = await d.waitFor((x) => x.step === 'approved');
    expect(s.step === 'approved' && s.receipt).toMatchObject({ kind: 'purchase', total: SYP(120_000) });
    expect(ports.bank.records).toHaveLength(1);
  });

  it('locks the customer PIN after three wrong tries', async () => {
    const ports = testPorts();
    const d = purchaseDriver(ports);
    d.dispatch({ type: 'amount.set', minor: 200_000 });
    ports.palm.present('ahmad');
    for (let i = 0; i < 3; i++) {
      await d.waitFor((s) => s.step === 'pin');
      d.dispatch({ type: 'pin.submit', pin: '1111' });
      await d.waitFor((s) => s.step !== 'checking-pin');
    }
    expect(d.state).toMatchObject({ step: 'declined', reason: 'pin-locked' });
  });

  it('declines above the cap; a supervisor override (palm + PIN, not the cashier) approves it', async () => {
    const ports = testPorts();
    ports.bank.allowances.set('ahmad', 10_000_000);
    const d = purchaseDriver(ports);
    d.dispatch({ type: 'amount.set', minor: 600_000 });
    ports.palm.present('ahmad');
    // Declined before the PIN is asked, saying what can still be paid (the cap, 500,000).
    const declined = await d.waitFor((s) => s.step === 'declined' || s.step === 'pin');
    expect(declined).toMatchObject({ step: 'declined', reason: 'limit-transaction-cap', overridable: true, canSpend: { minor: LIMITS.transactionCap, currency: 'SYP' } });
    d.dispatch({ type: 'override.start' });
    ports.palm.present('op-ali'); // the cashier cannot approve their own sale
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'palm' && s.auth.retry === 'role-missing');
    ports.palm.present('op-sara');
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
    d.dispatch({ type: 'auth.submit', pin: '9999' });
    // The supervisor raised the cap; now the customer confirms with the PIN.
    expect(await d.waitFor((s) => s.step === 'pin')).toMatchObject({ overrideBy: 'super-1' });
    d.dispatch({ type: 'pin.submit', pin: '4321' });
    const s = await d.waitFor((x) => x.step === 'approved');
    expect(s).toMatchObject({ overrideBy: 'super-1' });
    expect(ports.bank.records).toHaveLength(1);
  });

  it('declines for each limit with its reason and writes nothing', async () => {
    let now = 10 * DAY;
    const bank = seedBank(() => now);
    const ports = testPorts(bank);
    const cases: Array<[string, () => void, number]> = [
      ['limit-customer-allowance', () => bank.allowances.set('ahmad', 50_000), 60_000],
      ['limit-sync-age', () => { bank.allowances.set('ahmad', 1_000_000); bank.lastSyncAt = now - 8 * DAY; }, 10_000],
      ['limit-transaction-cap', () => { bank.lastSyncAt = now; bank.allowances.set('ahmad', 10_000_000); }, 600_000],
    ];
    for (const [reason, arrange, amount] of cases) {
      arrange();
      const d = purchaseDriver(ports);
      d.dispatch({ type: 'amount.set', minor: amount });
      ports.palm.present('ahmad');
      const s = await d.waitFor((x) => x.step === 'pin' || x.step === 'declined');
      if (s.step === 'pin') d.dispatch({ type: 'pin.submit', pin: '4321' });
      expect(await d.waitFor((x) => x.step === 'declined')).toMatchObject({ reason });
    }
    expect(bank.records).toHaveLength(0);
    // Record age: one old unsent purchase blocks the next.
    const d = purchaseDriver(ports);
    d.dispatch({ type: 'amount.set', minor: 10_000 });
    ports.palm.present('ahmad');
    await d.waitFor((x) => x.step === 'approved');
    now += 4 * DAY;
    bank.lastSyncAt = now;
    const e = purchaseDriver(ports);
    e.dispatch({ type: 'amount.set', minor: 10_000 });
    ports.palm.present('ahmad');
    expect(await e.waitFor((x) => x.step === 'declined')).toMatchObject({ reason: 'limit-record-age' });
  });


  it('a check passed before the PIN decides nothing: a second tab spending the allowance meanwhile still declines it', async () => {
    const ports = testPorts();
    ports.bank.allowances.set('ahmad', 300_000);
    const d = purchaseDriver(ports);
    d.dispatch({ type: 'amount.set', minor: 200_000 });
    ports.palm.present('ahmad');
    await d.waitFor((s) => s.step === 'pin'); // passed the check before the PIN
    expect(ports.bank.authorizePurchase({ requestId: 'other-tab', kind: 'purchase', personId: 'ahmad', amount: SYP(250_000), operatorId: 'c', overrideBy: null, pinVerified: true }).ok).toBe(true);
    d.dispatch({ type: 'pin.submit', pin: '4321' });
    expect(await d.waitFor((s) => s.step === 'declined' || s.step === 'approved')).toMatchObject({
      step: 'declined', reason: 'limit-customer-allowance', canSpend: { minor: 50_000, currency: 'SYP' },
    });
    expect(ports.bank.records).toHaveLength(1);
  });

  it('the same request id is decided once (restart, second tab)', () => {
    const bank = seedBank();
    const req = { requestId: 'same', kind: 'purchase' as const, personId: 'ahmad', amount: SYP(1000), operatorId: 'c', overrideBy: null, pinVerified: false };
    expect(bank.authorizePurchase(req).ok).toBe(true);
    expect(bank.authorizePurchase(req)).toMatchObject({ ok: false, reason: 'duplicate-request' });
  });
});
