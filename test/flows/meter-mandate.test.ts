// The meter reading and mandate flows as pure reducers (issue 17d): the paths, the supervisor step for a lower
// reading (the shared auth sub-machine, never the cashier), and a mandate only after the person's palm and PIN.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/flows/machine.ts';
import { reduceMandate, startMandate, type MandateEvent } from '../../src/flows/mandate.ts';
import { reduceReading, startReading, type ReadingEvent } from '../../src/flows/meter-reading.ts';
import type { Operator, Person } from '../../src/flows/types.ts';

const AHMAD: Person = { id: 'ahmad', nameAr: 'أحمد', nameLatin: 'Ahmad', status: 'active', accountId: 'A-1' };
const SARA: Operator = { id: 'super-1', name: 'Sara', roles: ['supervisor', 'cashier'] } as Operator;
const CASHIER: Operator = { id: 'cashier-1', name: 'Ali', roles: ['cashier', 'supervisor'] } as Operator;
const found: ReadingEvent & MandateEvent = { type: 'meters.found', lookup: { known: true, meters: [{ billerId: 'elec', lastReading: 1500 }] } };
const reading = (events: ReadingEvent[]) => run(reduceReading, startReading({ operatorId: 'cashier-1', requestId: 'rq-1' }).state, events);
const mandate = (events: MandateEvent[]) => run(reduceMandate, startMandate({ operatorId: 'cashier-1', requestId: 'rq-2', currency: 'SYP' }).state, events);

describe('meter reading flow', () => {
  it('subscriber → last reading → a higher reading → palm → one record, no supervisor', () => {
    const r = reading([{ type: 'subscriber.set', subscriber: '٠٠١٢٣٤٥٦' }, found, { type: 'reading.set', billerId: 'elec', reading: '1600' }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'reader.loaded', person: AHMAD }]);
    expect(r.effects.map((f) => f.type)).toEqual(['lookupMeters', 'identifyPalm', 'loadReader', 'recordReading']);
    expect(r.effects.at(-1)).toEqual({ type: 'recordReading', requestId: 'rq-1', operatorId: 'cashier-1', personId: 'ahmad', billerId: 'elec', subscriber: '00123456', reading: 1600, lastReading: 1500, approvedBy: null });
  });

  it('a lower reading asks a supervisor first (not the cashier, even one who is a supervisor); approved, it names them', () => {
    const lower = reading([{ type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'reading.set', billerId: 'elec', reading: '20' }]);
    expect(lower.state.step).toBe('override');
    expect(lower.effects.at(-1)).toEqual({ type: 'identifyOperator' });
    const self = run(reduceReading, lower.state, [{ type: 'auth.palm', outcome: { kind: 'match', personId: 'cashier-1' }, operator: CASHIER }]);
    expect(self.state).toMatchObject({ step: 'override', auth: { step: 'palm', retry: 'same-operator' } });
    const ok = run(reduceReading, lower.state, [
      { type: 'auth.palm', outcome: { kind: 'match', personId: 'super-1' }, operator: SARA }, { type: 'auth.submit', pin: '9999' }, { type: 'auth.pin-result', result: { ok: true } },
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'reader.loaded', person: AHMAD },
    ]);
    expect(ok.effects.at(-1)).toMatchObject({ type: 'recordReading', reading: 20, lastReading: 1500, approvedBy: 'super-1' });
    const refused = run(reduceReading, lower.state, [{ type: 'auth.palm', outcome: { kind: 'match', personId: 'super-1' }, operator: SARA }, { type: 'auth.submit', pin: '0000' }, { type: 'auth.pin-result', result: { ok: false, locked: true } }]);
    expect(refused.state).toMatchObject({ step: 'declined', reason: 'override-refused' });
    expect(refused.effects.some((f) => f.type === 'recordReading')).toBe(false);
  });

  it('an unknown number, a reading that is not a number, a provisional person: their screens, nothing recorded', () => {
    expect(reading([{ type: 'subscriber.set', subscriber: '11111111' }, { type: 'meters.found', lookup: { known: false, meters: [] } }]).state).toMatchObject({ step: 'refused', reason: 'subscriber-unknown' });
    expect(reading([{ type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'reading.set', billerId: 'elec', reading: '12a' }]).state).toMatchObject({ step: 'reading', error: 'reading-invalid' });
    expect(reading([{ type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'reading.set', billerId: 'water', reading: '1600' }]).state).toMatchObject({ step: 'reading', error: 'reading-invalid' });
    const prov = reading([{ type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'reading.set', billerId: 'elec', reading: '1600' }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'x' } }, { type: 'reader.loaded', person: { ...AHMAD, status: 'provisional' } }]);
    expect(prov.state).toMatchObject({ step: 'declined', reason: 'person-provisional' });
  });
});

describe('mandate flow', () => {
  const toPin: MandateEvent[] = [{ type: 'mandate.mode', mode: 'sign' }, { type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'mandate.terms', billerId: 'elec', maxMinor: 3_000_000 }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'signer.loaded', person: AHMAD, pinSet: true }];

  it('sign: terms → palm → PIN → one mandate for the person identified, with the maximum', () => {
    const r = mandate([...toPin, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }]);
    expect(r.effects.map((f) => f.type)).toEqual(['lookupMeters', 'identifyPalm', 'loadSigner', 'verifyCustomerPin', 'recordMandate']);
    expect(r.effects.at(-1)).toEqual({ type: 'recordMandate', requestId: 'rq-2', operatorId: 'cashier-1', mode: 'sign', personId: 'ahmad', billerId: 'elec', subscriber: '00123456', max: { minor: 3_000_000, currency: 'SYP' } });
  });

  it('never without the PIN: a wrong PIN asks again, a locked PIN declines; no PIN set declines; a zero maximum is refused', () => {
    expect(mandate([...toPin, { type: 'pin.submit', pin: '1111' }, { type: 'pin.result', result: { ok: false, attemptsLeft: 2 } }]).state).toMatchObject({ step: 'pin', wrong: true });
    const locked = mandate([...toPin, { type: 'pin.submit', pin: '1111' }, { type: 'pin.result', result: { ok: false, locked: true } }]);
    expect(locked.state).toMatchObject({ step: 'declined', reason: 'pin-locked' });
    expect(locked.effects.some((f) => f.type === 'recordMandate')).toBe(false);
    expect(mandate([...toPin.slice(0, -1), { type: 'signer.loaded', person: AHMAD, pinSet: false }]).state).toMatchObject({ step: 'declined', reason: 'pin-not-set' });
    expect(mandate([...toPin.slice(0, 3), { type: 'mandate.terms', billerId: 'elec', maxMinor: 0 }]).state).toMatchObject({ step: 'terms', error: 'terms-invalid' });
  });

  it('cancel: no maximum asked; palm + PIN, then one cancellation naming the person', () => {
    const r = mandate([{ type: 'mandate.mode', mode: 'cancel' }, { type: 'subscriber.set', subscriber: '00123456' }, found, { type: 'mandate.terms', billerId: 'elec' }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'signer.loaded', person: AHMAD, pinSet: true }, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }]);
    expect(r.effects.at(-1)).toEqual({ type: 'recordMandate', requestId: 'rq-2', operatorId: 'cashier-1', mode: 'cancel', personId: 'ahmad', billerId: 'elec', subscriber: '00123456', max: null });
  });

  describe('my mandates (issue 17): palm + PIN first, then the list, then end one of those shown', () => {
    const held = [{ billerId: 'elec', subscriber: '00123456', max: { minor: 3_000_000, currency: 'SYP' }, at: '2026-11-01T10:00:00.000Z' }];
    const toList: MandateEvent[] = [
      { type: 'mandate.mode', mode: 'mine' }, { type: 'palm.identified', outcome: { kind: 'match', personId: 'ahmad' } }, { type: 'signer.loaded', person: AHMAD, pinSet: true },
      { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } },
    ];
    it('no number typed; the list is loaded only after the PIN holds', () => {
      const wrong = mandate([...toList.slice(0, -1), { type: 'pin.result', result: { ok: false, attemptsLeft: 2 } }]);
      expect(wrong.effects.some((f) => f.type === 'loadMandates')).toBe(false);
      const r = mandate(toList);
      expect(r.effects.at(-1)).toEqual({ type: 'loadMandates', personId: 'ahmad' });
      expect(mandate([...toList, { type: 'mandates.loaded', mandates: held }]).state).toMatchObject({ step: 'list', mandates: held });
    });
    it('ending one records the cancellation for the person identified; one not shown is ignored', () => {
      const listed = [...toList, { type: 'mandates.loaded', mandates: held } as MandateEvent];
      expect(mandate([...listed, { type: 'mandate.end', billerId: 'elec', subscriber: '00999999' }]).state).toMatchObject({ step: 'list' });
      const r = mandate([...listed, { type: 'mandate.end', billerId: 'elec', subscriber: '00123456' }]);
      expect(r.state).toMatchObject({ step: 'recording', mode: 'cancel' });
      expect(r.effects.at(-1)).toEqual({ type: 'recordMandate', requestId: 'rq-2', operatorId: 'cashier-1', mode: 'cancel', personId: 'ahmad', billerId: 'elec', subscriber: '00123456', max: null });
    });
  });
});
