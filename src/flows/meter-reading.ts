// A meter reading at the counter (issue 17): subscriber number → the meter's last reading (from the feed's bills
// or this counter's own readings) → the reading typed → below the last one, a supervisor's palm + PIN (the same
// approval step as refunds, voids and limit raises: auth.ts) → the palm of a payer of the subscriber → one signed
// `meter_reading` record. The ledger re-checks the approval; the centre re-checks the payer's link and the last
// reading (src/server/billing/readings.ts) and forwards it to the biller.
import { reduceAuth, startAuth, type AuthEffect, type AuthEvent, type AuthState } from './auth.ts';
import { normaliseSubscriber } from './bill.ts';
import { toLatinDigits } from './digits.ts';
import { go, stay, type Step } from './machine.ts';
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Person, type PlacementEvent, type Receipt } from './types.ts';

/** A meter the feed named for a subscriber number: its biller and last known reading (null: none yet). */
export interface Meter {
  billerId: string;
  lastReading: number | null;
}

/** What the terminal knows about a subscriber number's meters. */
export interface MeterLookup {
  known: boolean;
  meters: Meter[];
}

export type ReadingDecline =
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'no-account'
  | 'override-refused' // the supervisor's approval failed or was refused
  | 'needs-supervisor' // the store found the reading below the last one (the feed moved on meanwhile)
  | 'duplicate-request'
  | 'store-error';

type Body =
  | { step: 'subscriber'; error: 'subscriber-invalid' | null }
  | { step: 'looking-up' }
  | { step: 'refused'; reason: 'subscriber-unknown' }
  | { step: 'reading'; meters: Meter[]; error: 'reading-invalid' | null }
  | { step: 'override'; auth: AuthState }
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'recording'; person: Person }
  | { step: 'declined'; reason: ReadingDecline; person: Person | null }
  | { step: 'done'; person: Person; receipt: Receipt; print?: PrintStatus }
  | { step: 'finished' };

export interface ReadingContext {
  operatorId: string;
  requestId: string;
  subscriber: string | null;
  billerId: string | null;
  reading: number | null;
  lastReading: number | null;
  /** The supervisor who approved a reading below the last one. */
  approvedBy: string | null;
}

export type ReadingState = Body & ReadingContext;

export type ReadingEvent =
  | PlacementEvent
  | AuthEvent
  | { type: 'subscriber.set'; subscriber: string }
  | { type: 'meters.found'; lookup: MeterLookup }
  | { type: 'reading.set'; billerId: string; reading: string }
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'reader.loaded'; person: Person | null }
  | { type: 'reading.recorded'; receipt: Receipt }
  | { type: 'reading.declined'; reason: ReadingDecline }
  | { type: 'print' }
  | PrintResult
  | { type: 'back' }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export interface ReadingRequest {
  requestId: string;
  operatorId: string;
  personId: string;
  billerId: string;
  subscriber: string;
  reading: number;
  lastReading: number | null;
  approvedBy: string | null;
}

export type ReadingEffect =
  | AuthEffect
  | { type: 'lookupMeters'; subscriber: string }
  | { type: 'identifyPalm' }
  | { type: 'loadReader'; personId: string }
  | ({ type: 'recordReading' } & ReadingRequest)
  | { type: 'print'; receipt: Receipt };

/** A meter reading: whole kWh, up to 12 digits (Arabic-Indic digits accepted). */
export function parseReading(raw: string): number | null {
  const latin = toLatinDigits(raw.trim());
  return /^[0-9]{1,12}$/.test(latin) ? Number(latin) : null;
}

export function startReading(ctx: { operatorId: string; requestId: string }): Step<ReadingState, ReadingEffect> {
  return go({ step: 'subscriber', error: null, ...ctx, subscriber: null, billerId: null, reading: null, lastReading: null, approvedBy: null });
}

export function reduceReading(s: ReadingState, e: ReadingEvent): Step<ReadingState, ReadingEffect> {
  const ctx: ReadingContext = { operatorId: s.operatorId, requestId: s.requestId, subscriber: s.subscriber, billerId: s.billerId, reading: s.reading, lastReading: s.lastReading, approvedBy: s.approvedBy };
  const to = (b: Body, patch: Partial<ReadingContext> = {}, ...fx: ReadingEffect[]): Step<ReadingState, ReadingEffect> => go({ ...b, ...ctx, ...patch }, ...fx);
  const toPalm = (patch: Partial<ReadingContext> = {}) => to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, patch, { type: 'identifyPalm' });
  const decline = (reason: ReadingDecline, person: Person | null) => to({ step: 'declined', reason, person });

  if (e.type === 'cancel') {
    if (s.step === 'recording' || s.step === 'done' || s.step === 'looking-up') return stay(s);
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
    case 'subscriber': {
      if (e.type !== 'subscriber.set') return stay(s);
      const subscriber = normaliseSubscriber(e.subscriber);
      if (!subscriber) return to({ step: 'subscriber', error: 'subscriber-invalid' });
      return to({ step: 'looking-up' }, { subscriber }, { type: 'lookupMeters', subscriber });
    }
    case 'looking-up':
      if (e.type !== 'meters.found') return stay(s);
      if (!e.lookup.known || e.lookup.meters.length === 0) return to({ step: 'refused', reason: 'subscriber-unknown' });
      return to({ step: 'reading', meters: e.lookup.meters, error: null });
    case 'refused':
      if (e.type === 'retry' || e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'reading': {
      if (e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type !== 'reading.set') return stay(s);
      const meter = s.meters.find((m) => m.billerId === e.billerId);
      const reading = parseReading(e.reading);
      if (!meter || reading === null) return to({ ...s, error: 'reading-invalid' });
      const patch = { billerId: meter.billerId, reading, lastReading: meter.lastReading, approvedBy: null };
      // Below the last reading (a replaced meter, a typing error caught by a supervisor): the supervisor first.
      if (meter.lastReading !== null && reading < meter.lastReading) {
        const a = startAuth('supervisor', ctx.operatorId);
        return to({ step: 'override', auth: a.state }, patch, ...a.effects);
      }
      return toPalm(patch);
    }
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, {}, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return decline('ambiguous', null);
      if (o.kind === 'no-match') return decline('unknown-palm', null);
      return to({ step: 'loading', personId: o.personId }, {}, { type: 'loadReader', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'reader.loaded') return stay(s);
      const p = e.person;
      if (!p) return decline('unknown-palm', null);
      if (p.status === 'revoked') return decline('person-revoked', p);
      if (p.status === 'provisional') return decline('person-provisional', p);
      if (!p.accountId) return decline('no-account', p);
      return to({ step: 'recording', person: p }, {}, {
        type: 'recordReading', requestId: ctx.requestId, operatorId: ctx.operatorId, personId: p.id, billerId: ctx.billerId as string,
        subscriber: ctx.subscriber as string, reading: ctx.reading as number, lastReading: ctx.lastReading, approvedBy: ctx.approvedBy,
      });
    }
    case 'recording':
      if (e.type === 'reading.recorded') return to({ step: 'done', person: s.person, receipt: e.receipt });
      if (e.type === 'reading.declined') return decline(e.reason, s.person);
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
