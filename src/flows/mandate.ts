// A direct-debit mandate at the counter (issue 17): sign one, or cancel one's own. Sign or cancel → subscriber
// number → its biller (from the feed) → for a new mandate, the maximum per bill → the person's palm, then their
// PIN (always: the mandate binds their account) → one signed `mandate` or `mandate_cancel` record naming the
// person identified and their own account. The centre re-checks the person, the account, the subscriber link
// and, for a cancellation, that the active mandate is theirs (src/server/billing/mandates.ts).
// "My mandates" (issue 17): palm, then PIN first → the person's mandates this counter knows (biller, subscriber,
// maximum per bill) → ending one of them is the same signed `mandate_cancel`, with no number typed.
import { isPin, type PinResult } from './auth.ts';
import { normaliseSubscriber } from './bill.ts';
import { go, stay, type Step } from './machine.ts';
import type { Meter, MeterLookup } from './meter-reading.ts';
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Money, type Person, type PlacementEvent, type Receipt } from './types.ts';

export type MandateMode = 'sign' | 'cancel' | 'mine';

/** A mandate of the person shown at the counter: signed here and not ended here since (the bank's journal). */
export interface HeldMandate {
  billerId: string;
  subscriber: string;
  max: Money;
  /** When it was signed (ISO time of the record). */
  at: string;
}

export type MandateDecline =
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'no-account'
  | 'pin-not-set'
  | 'pin-locked'
  | 'duplicate-request'
  | 'store-error';

type Body =
  | { step: 'mode' }
  | { step: 'subscriber'; error: 'subscriber-invalid' | null }
  | { step: 'looking-up' }
  | { step: 'refused'; reason: 'subscriber-unknown' }
  | { step: 'terms'; meters: Meter[]; error: 'terms-invalid' | null }
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'pin'; person: Person; wrong: boolean; attemptsLeft: number | null }
  | { step: 'checking-pin'; person: Person }
  | { step: 'listing'; person: Person }
  | { step: 'list'; person: Person; mandates: HeldMandate[] }
  | { step: 'recording'; person: Person }
  | { step: 'declined'; reason: MandateDecline; person: Person | null }
  | { step: 'done'; person: Person; receipt: Receipt; print?: PrintStatus }
  | { step: 'finished' };

export interface MandateContext {
  operatorId: string;
  requestId: string;
  currency: string;
  mode: MandateMode | null;
  subscriber: string | null;
  billerId: string | null;
  /** The maximum per bill of a new mandate. */
  max: Money | null;
}

export type MandateState = Body & MandateContext;

export type MandateEvent =
  | PlacementEvent
  | { type: 'mandate.mode'; mode: MandateMode }
  | { type: 'subscriber.set'; subscriber: string }
  | { type: 'meters.found'; lookup: MeterLookup }
  | { type: 'mandate.terms'; billerId: string; maxMinor?: number }
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'signer.loaded'; person: Person | null; pinSet: boolean }
  | { type: 'pin.submit'; pin: string }
  | { type: 'pin.result'; result: PinResult }
  | { type: 'mandates.loaded'; mandates: HeldMandate[] }
  | { type: 'mandate.end'; billerId: string; subscriber: string }
  | { type: 'mandate.recorded'; receipt: Receipt }
  | { type: 'mandate.declined'; reason: MandateDecline }
  | { type: 'print' }
  | PrintResult
  | { type: 'back' }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export interface MandateRequest {
  requestId: string;
  operatorId: string;
  mode: MandateMode;
  personId: string;
  billerId: string;
  subscriber: string;
  /** sign only */
  max: Money | null;
}

export type MandateEffect =
  | { type: 'lookupMeters'; subscriber: string }
  | { type: 'identifyPalm' }
  | { type: 'loadSigner'; personId: string }
  | { type: 'verifyCustomerPin'; personId: string; pin: string }
  | { type: 'loadMandates'; personId: string }
  | ({ type: 'recordMandate' } & MandateRequest)
  | { type: 'print'; receipt: Receipt };

export function startMandate(ctx: { operatorId: string; requestId: string; currency: string }): Step<MandateState, MandateEffect> {
  return go({ step: 'mode', ...ctx, mode: null, subscriber: null, billerId: null, max: null });
}

export function reduceMandate(s: MandateState, e: MandateEvent): Step<MandateState, MandateEffect> {
  const ctx: MandateContext = { operatorId: s.operatorId, requestId: s.requestId, currency: s.currency, mode: s.mode, subscriber: s.subscriber, billerId: s.billerId, max: s.max };
  const to = (b: Body, patch: Partial<MandateContext> = {}, ...fx: MandateEffect[]): Step<MandateState, MandateEffect> => go({ ...b, ...ctx, ...patch }, ...fx);
  const toPalm = (patch: Partial<MandateContext> = {}) => to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, patch, { type: 'identifyPalm' });
  const decline = (reason: MandateDecline, person: Person | null) => to({ step: 'declined', reason, person });

  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  if (e.type === 'cancel') {
    if (s.step === 'recording' || s.step === 'checking-pin' || s.step === 'done' || s.step === 'looking-up' || s.step === 'listing') return stay(s);
    return to({ step: 'finished' });
  }
  switch (s.step) {
    case 'mode':
      if (e.type !== 'mandate.mode') return stay(s);
      if (e.mode === 'mine') return toPalm({ mode: 'mine' }); // the person first: no number typed
      return to({ step: 'subscriber', error: null }, { mode: e.mode });
    case 'subscriber': {
      if (e.type === 'back') return to({ step: 'mode' }, { mode: null });
      if (e.type !== 'subscriber.set') return stay(s);
      const subscriber = normaliseSubscriber(e.subscriber);
      if (!subscriber) return to({ step: 'subscriber', error: 'subscriber-invalid' });
      return to({ step: 'looking-up' }, { subscriber }, { type: 'lookupMeters', subscriber });
    }
    case 'looking-up':
      if (e.type !== 'meters.found') return stay(s);
      if (!e.lookup.known || e.lookup.meters.length === 0) return to({ step: 'refused', reason: 'subscriber-unknown' });
      return to({ step: 'terms', meters: e.lookup.meters, error: null });
    case 'refused':
      if (e.type === 'retry' || e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'terms': {
      if (e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type !== 'mandate.terms') return stay(s);
      const meter = s.meters.find((m) => m.billerId === e.billerId);
      if (!meter) return to({ ...s, error: 'terms-invalid' });
      if (ctx.mode === 'cancel') return toPalm({ billerId: meter.billerId, max: null });
      const minor = e.maxMinor;
      if (minor === undefined || !Number.isSafeInteger(minor) || minor <= 0) return to({ ...s, error: 'terms-invalid' });
      return toPalm({ billerId: meter.billerId, max: { minor, currency: ctx.currency } });
    }
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, {}, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return decline('ambiguous', null);
      if (o.kind === 'no-match') return decline('unknown-palm', null);
      return to({ step: 'loading', personId: o.personId }, {}, { type: 'loadSigner', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'signer.loaded') return stay(s);
      const p = e.person;
      if (!p) return decline('unknown-palm', null);
      if (p.status === 'revoked') return decline('person-revoked', p);
      if (p.status === 'provisional') return decline('person-provisional', p);
      if (!p.accountId) return decline('no-account', p);
      if (!e.pinSet) return decline('pin-not-set', p);
      return to({ step: 'pin', person: p, wrong: false, attemptsLeft: null });
    }
    case 'pin':
      if (e.type !== 'pin.submit' || !isPin(e.pin)) return stay(s);
      return to({ step: 'checking-pin', person: s.person }, {}, { type: 'verifyCustomerPin', personId: s.person.id, pin: e.pin });
    case 'checking-pin': {
      if (e.type !== 'pin.result') return stay(s);
      const r = e.result;
      if (r.ok && ctx.mode === 'mine') return to({ step: 'listing', person: s.person }, {}, { type: 'loadMandates', personId: s.person.id });
      if (r.ok) {
        return to({ step: 'recording', person: s.person }, {}, {
          type: 'recordMandate', requestId: ctx.requestId, operatorId: ctx.operatorId, mode: ctx.mode as MandateMode, personId: s.person.id,
          billerId: ctx.billerId as string, subscriber: ctx.subscriber as string, max: ctx.max,
        });
      }
      if ('locked' in r) return decline('pin-locked', s.person);
      return to({ step: 'pin', person: s.person, wrong: true, attemptsLeft: r.attemptsLeft });
    }
    case 'listing':
      if (e.type !== 'mandates.loaded') return stay(s);
      return to({ step: 'list', person: s.person, mandates: e.mandates });
    case 'list': {
      if (e.type === 'done') return to({ step: 'finished' });
      if (e.type !== 'mandate.end') return stay(s);
      // Only one of those shown: the palm and PIN were checked for this very person a moment ago.
      const m = s.mandates.find((x) => x.billerId === e.billerId && x.subscriber === e.subscriber);
      if (!m) return stay(s);
      const patch = { mode: 'cancel' as const, billerId: m.billerId, subscriber: m.subscriber, max: null };
      return to({ step: 'recording', person: s.person }, patch, {
        type: 'recordMandate', requestId: ctx.requestId, operatorId: ctx.operatorId, mode: 'cancel', personId: s.person.id, billerId: m.billerId, subscriber: m.subscriber, max: null,
      });
    }
    case 'recording':
      if (e.type === 'mandate.recorded') return to({ step: 'done', person: s.person, receipt: e.receipt });
      if (e.type === 'mandate.declined') return decline(e.reason, s.person);
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
