// The bill-payment rule as a pure reducer: the path (subscriber → bills due → choose → palm → PIN → record →
// receipt), every typed refusal, and never a typed amount. Then the same flow driven over the memory bank.
import { describe, expect, it } from 'vitest';
import { billKey, billsStale, normaliseSubscriber, reduceBill, startBill, type BillEffect, type BillEvent, type BillLookup, type BillState, type DueBill } from '../../src/flows/bill.ts';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { run } from '../../src/flows/machine.ts';
import type { Person } from '../../src/flows/types.ts';
import { SYP, testPorts } from './helpers.ts';

const HOUR = 3600_000;
const B1: DueBill = { billerId: 'elec-hasakah', billId: 'B-1', cycle: '2026-10', amount: SYP(180_000), dueDate: '2026-11-15', previousReading: 1000, currentReading: 1200 };
const B2: DueBill = { billerId: 'elec-hasakah', billId: 'B-2', cycle: '2026-11', amount: SYP(250_000), dueDate: '2026-12-15', previousReading: 1200, currentReading: 1450 };
const LOOKUP: BillLookup = { known: true, bills: [B1, B2], ageMs: HOUR, maxAgeMs: 72 * HOUR };
const PAYER: Person = { id: 'ahmad', nameAr: 'أحمد', nameLatin: 'Ahmad', status: 'active', accountId: 'A-1' };

const start = () => startBill({ operatorId: 'cashier-1', requestId: 'req-1' }).state;
const steps = (events: BillEvent[], s: BillState = start()) => run(reduceBill, s, events);
const toBills: BillEvent[] = [{ type: 'subscriber.set', subscriber: '00123456' }, { type: 'bills.found', lookup: LOOKUP }];
const toPin: BillEvent[] = [...toBills, { type: 'bills.choose', billIds: [billKey(B2)] }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'payer.loaded', person: PAYER, pinSet: true, linked: true }];

describe('bill flow (pure)', () => {
  it('subscriber → bills due → one bill → palm → PIN → one payment at exactly its amount', () => {
    const r = steps([...toPin, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }]);
    expect(r.effects.map((f) => f.type)).toEqual(['lookupBills', 'identifyPalm', 'loadPayer', 'verifyCustomerPin', 'payBills']);
    expect(r.effects[0]).toEqual({ type: 'lookupBills', subscriber: '00123456' });
    const pay = r.effects.at(-1) as Extract<BillEffect, { type: 'payBills' }>;
    expect(pay).toEqual({ type: 'payBills', requestId: 'req-1', operatorId: 'cashier-1', personId: 'ahmad', subscriber: '00123456', bills: [{ billerId: 'elec-hasakah', billId: 'B-2', amount: SYP(250_000) }] });
    expect(r.state).toMatchObject({ step: 'paying', total: SYP(250_000) });
    const receipt = { kind: 'bill' as const, recordId: 'h', seq: 7, terminalId: 'T1', at: 'x', operatorId: 'cashier-1', lines: [] };
    const paid = reduceBill(r.state, { type: 'bills.paid', receipt });
    expect(paid.state).toMatchObject({ step: 'paid', receipt });
    expect(reduceBill(paid.state, { type: 'cancel' }).state.step).toBe('paid'); // a recorded payment is shown until done
    expect(reduceBill(paid.state, { type: 'done' }).state.step).toBe('finished');
  });

  it('shows the bills due with cycle, readings, amount and due date; pays all of them at their sum', () => {
    const shown = steps(toBills).state;
    expect(shown).toMatchObject({ step: 'bills', due: [B1, B2], ageMs: HOUR });
    const all = reduceBill(shown, { type: 'bills.choose', billIds: [billKey(B1), billKey(B2)] });
    expect(all.state).toMatchObject({ step: 'palm', chosen: [B1, B2], total: SYP(430_000) });
  });

  it('never takes an amount: a choice that names no bill shown, a bill twice, or nothing, is refused and nothing starts', () => {
    const shown = steps(toBills).state;
    for (const billIds of [['elec-hasakah:B-9'], [billKey(B1), billKey(B1)], [], ['B-1']]) {
      const r = reduceBill(shown, { type: 'bills.choose', billIds });
      expect(r.state).toMatchObject({ step: 'bills', error: 'choice-invalid' });
      expect(r.effects).toEqual([]);
    }
    // An amount sent into the bill flow does nothing at any step.
    expect(reduceBill(shown, { type: 'amount.set', minor: 1 } as unknown as BillEvent).state).toBe(shown);
  });

  it('mixed currencies are never summed into one payment', () => {
    const usd = { ...B2, billId: 'B-3', amount: { minor: 500, currency: 'USD' } };
    const shown = steps([{ type: 'subscriber.set', subscriber: '00123456' }, { type: 'bills.found', lookup: { ...LOOKUP, bills: [B1, usd] } }]).state;
    expect(reduceBill(shown, { type: 'bills.choose', billIds: [billKey(B1), billKey(usd)] }).state).toMatchObject({ error: 'choice-invalid' });
  });

  it('normalises the subscriber number (Arabic-Indic digits) and refuses what is not one', () => {
    expect(normaliseSubscriber('٠٠١٢٣٤٥٦')).toBe('00123456');
    expect(normaliseSubscriber('12a45')).toBeNull();
    expect(steps([{ type: 'subscriber.set', subscriber: '12' }]).state).toMatchObject({ step: 'subscriber', error: 'subscriber-invalid' });
    expect(steps([{ type: 'subscriber.set', subscriber: '٠٠١٢٣٤٥٦' }]).effects).toEqual([{ type: 'lookupBills', subscriber: '00123456' }]);
  });

  it.each([
    ['subscriber-unknown', { ...LOOKUP, known: false, bills: [] }],
    ['nothing-due', { ...LOOKUP, bills: [] }],
    ['bills-stale', { ...LOOKUP, ageMs: 73 * HOUR }],
    ['bills-stale', { ...LOOKUP, ageMs: null }],
    // A stale cache is refused even when it shows bills: they may have been paid elsewhere since.
    ['bills-stale', { ...LOOKUP, known: false, ageMs: 100 * HOUR }],
  ] as Array<[string, BillLookup]>)('refuses %s with its own screen, and "again" returns to the number', (reason, lookup) => {
    const r = steps([{ type: 'subscriber.set', subscriber: '00123456' }, { type: 'bills.found', lookup }]);
    expect(r.state).toMatchObject({ step: 'refused', reason });
    expect(reduceBill(r.state, { type: 'retry' }).state).toMatchObject({ step: 'subscriber', subscriber: null });
  });

  it('the age limit is inclusive: exactly at the limit is still fresh', () => {
    expect(billsStale(72 * HOUR, 72 * HOUR)).toBe(false);
    expect(billsStale(72 * HOUR + 1, 72 * HOUR)).toBe(true);
  });

  it.each([
    ['pin-not-set', PAYER, false, true],
    ['not-linked', PAYER, true, false],
    ['no-account', { ...PAYER, accountId: undefined }, true, true],
    ['person-provisional', { ...PAYER, status: 'provisional' }, true, true],
    ['person-revoked', { ...PAYER, status: 'revoked' }, true, true],
  ] as const)('declines a payer: %s, before any PIN is asked', (reason, person, pinSet, linked) => {
    const r = steps([...toBills, { type: 'bills.choose', billIds: [billKey(B1)] }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'x' } }, { type: 'payer.loaded', person: person as Person, pinSet, linked }]);
    expect(r.state).toMatchObject({ step: 'declined', reason });
    expect(r.effects.map((f) => f.type)).not.toContain('verifyCustomerPin');
  });

  it('an unknown or ambiguous palm is declined and may be tried again; a failed capture asks again', () => {
    const base = [...toBills, { type: 'bills.choose', billIds: [billKey(B1)] }] as BillEvent[];
    const unknown = steps([...base, { type: 'palm.identified', outcome: { kind: 'no-match' } }]);
    expect(unknown.state).toMatchObject({ step: 'declined', reason: 'unknown-palm' });
    expect(reduceBill(unknown.state, { type: 'retry' }).effects).toEqual([{ type: 'identifyPalm' }]);
    expect(steps([...base, { type: 'palm.identified', outcome: { kind: 'ambiguous' } }]).state).toMatchObject({ reason: 'ambiguous' });
    expect(steps([...base, { type: 'palm.identified', outcome: { kind: 'fta', reason: 'too-far' } }]).effects.at(-1)).toEqual({ type: 'identifyPalm' });
  });

  it('a wrong PIN asks again with the attempts left; a locked PIN declines', () => {
    const asked = steps([...toPin, { type: 'pin.submit', pin: '1111' }]).state;
    expect(reduceBill(asked, { type: 'pin.result', result: { ok: false, attemptsLeft: 2 } }).state).toMatchObject({ step: 'pin', wrong: true, attemptsLeft: 2 });
    expect(reduceBill(asked, { type: 'pin.result', result: { ok: false, locked: true } }).state).toMatchObject({ step: 'declined', reason: 'pin-locked' });
    expect(steps([...toPin, { type: 'pin.submit', pin: '12' }]).effects.at(-1)?.type).toBe('loadPayer'); // not a PIN: nothing asked
  });

  it.each(['limit-sync-age', 'limit-customer-allowance', 'bills-stale', 'duplicate-request'] as const)('the store declines the payment (%s): said on screen, nothing paid', (reason) => {
    const paying = steps([...toPin, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }]).state;
    expect(reduceBill(paying, { type: 'bills.declined', reason }).state).toMatchObject({ step: 'declined', reason });
    expect(reduceBill(paying, { type: 'cancel' }).state.step).toBe('paying'); // the store is deciding
  });

  it('a bill changed by the feed meanwhile: "again" looks the number up again', () => {
    const paying = steps([...toPin, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }]).state;
    const changed = reduceBill(paying, { type: 'bills.declined', reason: 'bill-changed' }).state;
    expect(reduceBill(changed, { type: 'retry' })).toMatchObject({ state: { step: 'looking-up', chosen: [] }, effects: [{ type: 'lookupBills', subscriber: '00123456' }] });
  });
});

describe('bill flow over the memory bank', () => {
  function driver() {
    const ports = testPorts();
    ports.bank.addBill('00123456', B1);
    ports.bank.addBill('00123456', B2);
    for (const b of new Set([B1.billerId, B2.billerId])) ports.bank.link(b, '00123456', 'ahmad');
    const perform = createPerformers(ports).bill;
    return { ports, d: new FlowDriver(reduceBill, startBill({ operatorId: 'cashier-1', requestId: `r-${Math.random()}` }), perform) };
  }

  it('pays all bills due with the payer PIN; the receipt lists each bill id and fee 0; they are not offered again', async () => {
    const { ports, d } = driver();
    d.dispatch({ type: 'subscriber.set', subscriber: '00123456' });
    await d.waitFor((s) => s.step === 'bills');
    d.dispatch({ type: 'bills.choose', billIds: [billKey(B1), billKey(B2)] });
    ports.palm.present('ahmad');
    await d.waitFor((s) => s.step === 'pin');
    d.dispatch({ type: 'pin.submit', pin: '4321' });
    const s = await d.waitFor((x) => x.step === 'paid');
    if (s.step !== 'paid') throw new Error('not paid');
    expect(s.receipt.kind).toBe('bill');
    expect(s.receipt.lines.filter((l) => l.label === 'receipt.billLine').map((l) => l.params?.bill)).toEqual(['B-1', 'B-2']);
    expect(s.receipt.lines.find((l) => l.label === 'receipt.fee')?.amount).toEqual(SYP(0));
    expect(s.receipt.total).toEqual(SYP(430_000));
    expect(ports.bank.lookupBills('00123456').bills).toEqual([]);
  });
});
