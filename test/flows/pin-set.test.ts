// Setting a customer's PIN at a supervised counter (issue 17f) as a pure reducer: the supervisor first (the shared
// auth sub-machine, never the cashier), then the person's palm (a confirmed person only), then the new PIN twice
// (4-6 digits, not trivial, the same both times); the PIN goes only into the one effect that sets it.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/flows/machine.ts';
import { reducePinSet, startPinSet, type PinSetEvent } from '../../src/flows/pin-set.ts';
import { newPinProblem } from '../../src/flows/pin-policy.ts';
import type { Operator, Person } from '../../src/flows/types.ts';

const ROJIN: Person = { id: 'rojin', nameAr: 'روجين', nameLatin: 'Rojîn', status: 'active', accountId: 'A-1' };
const SARA: Operator = { id: 'super-1', name: 'Sara', roles: ['supervisor'] } as Operator;
const CASHIER: Operator = { id: 'cashier-1', name: 'Ali', roles: ['cashier', 'supervisor'] } as Operator;
const start = () => startPinSet({ operatorId: 'cashier-1', requestId: 'rq-1' });
const flow = (events: PinSetEvent[]) => run(reducePinSet, start().state, events);
const approved: PinSetEvent[] = [{ type: 'auth.palm', outcome: { kind: 'match', personId: 'super-1' }, operator: SARA }, { type: 'auth.submit', pin: '9999' }, { type: 'auth.pin-result', result: { ok: true } }];
const toPin: PinSetEvent[] = [...approved, { type: 'palm.identified', outcome: { kind: 'match', personId: 'rojin' } }, { type: 'holder.loaded', person: ROJIN, pinSet: false }];

describe('set PIN flow', () => {
  it('supervisor → the person’s palm → the PIN twice → one effect naming the approver; the PIN is never in a state', () => {
    expect(start().state.step).toBe('override');
    expect(start().effects).toEqual([{ type: 'identifyOperator' }]);
    const r = flow([...toPin, { type: 'pin.new', pin: '٢٥٨٠', again: '2580' }]);
    expect(r.effects.map((f) => f.type)).toEqual(['verifyOperatorPin', 'identifyPalm', 'loadHolder', 'setPin']);
    expect(r.effects.at(-1)).toEqual({ type: 'setPin', requestId: 'rq-1', operatorId: 'cashier-1', personId: 'rojin', pin: '2580', approvedBy: 'super-1' });
    expect(r.state).toMatchObject({ step: 'recording', approvedBy: 'super-1' });
    expect(JSON.stringify(r.state)).not.toContain('2580');
    const done = run(reducePinSet, r.state, [{ type: 'pin.recorded', receipt: { kind: 'pin-set' } as never }]);
    expect(done.state).toMatchObject({ step: 'done', hadPin: false });
  });

  it('attack: the cashier cannot approve (even one who is also a supervisor); a refused approval sets nothing', () => {
    const self = flow([{ type: 'auth.palm', outcome: { kind: 'match', personId: 'cashier-1' }, operator: CASHIER }]);
    expect(self.state).toMatchObject({ step: 'override', auth: { step: 'palm', retry: 'same-operator' } });
    const refused = flow([approved[0]!, approved[1]!, { type: 'auth.pin-result', result: { ok: false, locked: true } }]);
    expect(refused.state).toMatchObject({ step: 'declined', reason: 'override-refused' });
    expect(refused.effects.some((f) => f.type === 'identifyPalm' || f.type === 'setPin')).toBe(false);
  });

  it('a provisional or revoked person, an unknown palm: their screens, nothing set', () => {
    const load = (person: Person | null) => flow([...approved, { type: 'palm.identified', outcome: { kind: 'match', personId: 'x' } }, { type: 'holder.loaded', person, pinSet: false }]).state;
    expect(load({ ...ROJIN, status: 'provisional' })).toMatchObject({ step: 'declined', reason: 'person-provisional' });
    expect(load({ ...ROJIN, status: 'revoked' })).toMatchObject({ step: 'declined', reason: 'person-revoked' });
    expect(flow([...approved, { type: 'palm.identified', outcome: { kind: 'no-match' } }]).state).toMatchObject({ step: 'declined', reason: 'unknown-palm' });
  });

  it('a PIN too short or long, trivial, or typed differently the second time is asked again', () => {
    const typed = (pin: string, again = pin) => flow([...toPin, { type: 'pin.new', pin, again }]);
    expect(typed('123').state).toMatchObject({ step: 'pin', error: 'pin-invalid' });
    expect(typed('1234567').state).toMatchObject({ step: 'pin', error: 'pin-invalid' });
    for (const p of ['0000', '1234', '4321', '٩٨٧٦', '123456']) expect(typed(p).state).toMatchObject({ step: 'pin', error: 'pin-trivial' });
    expect(typed('2580', '2581').state).toMatchObject({ step: 'pin', error: 'pin-mismatch' });
    expect(typed('2580', '2581').effects.some((f) => f.type === 'setPin')).toBe(false);
    expect(newPinProblem('1357')).toBeNull();
    expect(newPinProblem('902468')).toBeNull();
  });
});
