// Setting a customer's PIN at a supervised counter (issue 17: "a payer without a PIN set gets one at enrolment or
// at a supervised counter"). A supervisor's palm + PIN first (the same approval step as refunds, voids and readings:
// auth.ts, never the cashier) → the person's own palm (1:N, a confirmed person) → the new PIN typed twice → one
// signed `pin_set` record carrying the PIN's scrypt verifier (made by the bank, never kept in this state) and the
// approver. The ledger re-checks the approval and stores the verifier sealed, so the person pays at once; the
// centre re-checks both and sends the verifier to the region's counters (src/server/customer-pins.ts).
import { reduceAuth, startAuth, type AuthEffect, type AuthEvent, type AuthState } from './auth.ts';
import { chosenPin, type NewPinError } from './pin-policy.ts';
import { go, stay, type Step } from './machine.ts';
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Person, type PlacementEvent, type Receipt } from './types.ts';

export type PinSetDecline =
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'override-refused' // the supervisor's approval failed, or the ledger found no supervisor who may approve it
  | 'duplicate-request'
  | 'pin-out-of-order' // a later PIN of this person is held here (set elsewhere after this terminal's clock)
  | 'store-error';

type Body =
  | { step: 'override'; auth: AuthState }
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'pin'; person: Person; hadPin: boolean; error: NewPinError | null }
  | { step: 'recording'; person: Person; hadPin: boolean }
  | { step: 'declined'; reason: PinSetDecline; person: Person | null }
  | { step: 'done'; person: Person; hadPin: boolean; receipt: Receipt; print?: PrintStatus }
  | { step: 'finished' };

export interface PinSetContext {
  operatorId: string;
  requestId: string;
  /** The supervisor who approved (set once the approval step granted). */
  approvedBy: string | null;
}

export type PinSetState = Body & PinSetContext;

export type PinSetEvent =
  | PlacementEvent
  | AuthEvent
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'holder.loaded'; person: Person | null; pinSet: boolean }
  | { type: 'pin.new'; pin: string; again: string }
  | { type: 'pin.recorded'; receipt: Receipt }
  | { type: 'pin.declined'; reason: PinSetDecline }
  | { type: 'print' }
  | PrintResult
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export interface PinSetRequest {
  requestId: string;
  operatorId: string;
  personId: string;
  /** The new PIN: only in this effect, hashed by the bank before anything is stored or signed. */
  pin: string;
  approvedBy: string;
}

export type PinSetEffect =
  | AuthEffect
  | { type: 'identifyPalm' }
  | { type: 'loadHolder'; personId: string }
  | ({ type: 'setPin' } & PinSetRequest)
  | { type: 'print'; receipt: Receipt };

export function startPinSet(ctx: { operatorId: string; requestId: string }): Step<PinSetState, PinSetEffect> {
  // The supervisor first: no palm of the person is read, and no PIN typed, before the approval.
  const a = startAuth('supervisor', ctx.operatorId);
  return go({ step: 'override', auth: a.state, ...ctx, approvedBy: null }, ...a.effects);
}

export function reducePinSet(s: PinSetState, e: PinSetEvent): Step<PinSetState, PinSetEffect> {
  const ctx: PinSetContext = { operatorId: s.operatorId, requestId: s.requestId, approvedBy: s.approvedBy };
  const to = (b: Body, patch: Partial<PinSetContext> = {}, ...fx: PinSetEffect[]): Step<PinSetState, PinSetEffect> => go({ ...b, ...ctx, ...patch }, ...fx);
  const toPalm = (patch: Partial<PinSetContext> = {}) => to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, patch, { type: 'identifyPalm' });
  const decline = (reason: PinSetDecline, person: Person | null) => to({ step: 'declined', reason, person });

  if (e.type === 'cancel') {
    if (s.step === 'recording' || s.step === 'done') return stay(s);
    return to({ step: 'finished' });
  }
  if (s.step === 'override') {
    if (!(e.type.startsWith('auth.') || isPlacement(e))) return stay(s);
    const a = reduceAuth(s.auth, e as AuthEvent);
    if (a.state.step === 'granted') return toPalm({ approvedBy: a.state.operator.id });
    if (a.state.step === 'refused') return decline('override-refused', null);
    return to({ step: 'override', auth: a.state }, {}, ...a.effects);
  }
  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);

  switch (s.step) {
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, {}, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return decline('ambiguous', null);
      if (o.kind === 'no-match') return decline('unknown-palm', null);
      return to({ step: 'loading', personId: o.personId }, {}, { type: 'loadHolder', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'holder.loaded') return stay(s);
      const p = e.person;
      if (!p) return decline('unknown-palm', null);
      if (p.status === 'revoked') return decline('person-revoked', p);
      if (p.status === 'provisional') return decline('person-provisional', p);
      return to({ step: 'pin', person: p, hadPin: e.pinSet, error: null });
    }
    case 'pin': {
      if (e.type !== 'pin.new') return stay(s);
      const chosen = chosenPin(e.pin, e.again);
      if (!chosen.ok) return to({ ...s, error: chosen.error });
      return to({ step: 'recording', person: s.person, hadPin: s.hadPin }, {}, {
        type: 'setPin', requestId: ctx.requestId, operatorId: ctx.operatorId, personId: s.person.id, pin: chosen.pin, approvedBy: ctx.approvedBy as string,
      });
    }
    case 'recording':
      if (e.type === 'pin.recorded') return to({ step: 'done', person: s.person, hadPin: s.hadPin, receipt: e.receipt });
      if (e.type === 'pin.declined') return decline(e.reason, s.person);
      return stay(s);
    case 'declined':
      if (e.type === 'retry' && (s.reason === 'unknown-palm' || s.reason === 'ambiguous')) return toPalm();
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'done': {
      const printed = printStep(s, e);
      if (printed) return printed;
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    }
    case 'finished':
      return stay(s);
  }
}
