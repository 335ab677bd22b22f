// Refund and void of a purchase or bill payment. Both need a supervisor (palm + PIN) before anything is written.
// A void cancels a purchase of the current, not yet closed day; a refund returns money later. The store refuses
// a second reversal of the same record (keyed by the original record id), whatever the screens do.
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { reduceAuth, startAuth, type AuthEffect, type AuthEvent, type AuthState } from './auth.ts';
import { go, stay, type Step } from './machine.ts';
import { isPlacement, type Money, type Receipt } from './types.ts';
import { toLatinDigits } from './digits.ts';

export type ReversalKind = 'refund' | 'void';

export type ReversalRefusal =
  | 'not-found' // no record with this receipt number here
  | 'not-reversible' // only purchases and bill payments can be refunded or voided
  | 'already-reversed'
  | 'void-after-close' // the day is closed: refund instead
  | 'override-refused'
  | 'store-error';

/** The record to reverse, as the store found it. */
export interface Original {
  recordId: string;
  seq: number;
  kind: 'purchase' | 'bill' | 'payout' | 'refund' | 'void' | 'enrolment' | 'day-close' | 'meter-reading' | 'mandate' | 'mandate-cancel' | 'pin-set';
  at: string;
  amount: Money | null;
  personName: { ar: string; latin: string } | null;
}

type Body =
  | { step: 'lookup'; error: 'reference-invalid' | 'not-found' | null }
  | { step: 'finding' }
  | { step: 'found'; original: Original }
  | { step: 'override'; original: Original; auth: AuthState }
  | { step: 'recording'; original: Original; supervisorId: string }
  | { step: 'refused'; reason: ReversalRefusal; original: Original | null }
  | { step: 'done'; receipt: Receipt; print?: PrintStatus }
  | { step: 'finished' };

export interface ReversalContext {
  operatorId: string;
  kind: ReversalKind;
}

export type ReversalState = Body & ReversalContext;

export type ReversalEvent =
  | AuthEvent
  | { type: 'reference.set'; reference: string }
  | { type: 'record.found'; original: Original | null }
  | { type: 'confirm' }
  | { type: 'reversal.recorded'; receipt: Receipt }
  | { type: 'reversal.failed'; reason: ReversalRefusal }
  | { type: 'print' }
  | PrintResult
  | { type: 'cancel' }
  | { type: 'done' };

export type ReversalEffect =
  | AuthEffect
  | { type: 'findRecord'; seq: number }
  | { type: 'recordReversal'; kind: ReversalKind; originalId: string; operatorId: string; supervisorId: string }
  | { type: 'print'; receipt: Receipt };

export function startReversal(ctx: ReversalContext): Step<ReversalState, ReversalEffect> {
  return go({ step: 'lookup', error: null, ...ctx });
}

export function reduceReversal(s: ReversalState, e: ReversalEvent): Step<ReversalState, ReversalEffect> {
  const ctx: ReversalContext = { operatorId: s.operatorId, kind: s.kind };
  const to = (b: Body, ...fx: ReversalEffect[]): Step<ReversalState, ReversalEffect> => go({ ...b, ...ctx }, ...fx);

  if (e.type === 'cancel') {
    if (s.step === 'recording' || s.step === 'done') return stay(s);
    return to({ step: 'finished' });
  }
  if (s.step === 'override') {
    if (!(e.type.startsWith('auth.') || isPlacement(e))) return stay(s);
    const a = reduceAuth(s.auth, e as AuthEvent);
    if (a.state.step === 'granted') {
      return to(
        { step: 'recording', original: s.original, supervisorId: a.state.operator.id },
        { type: 'recordReversal', kind: ctx.kind, originalId: s.original.recordId, operatorId: ctx.operatorId, supervisorId: a.state.operator.id },
      );
    }
    if (a.state.step === 'refused') return to({ step: 'refused', reason: 'override-refused', original: s.original });
    return to({ step: 'override', original: s.original, auth: a.state }, ...a.effects);
  }
  switch (s.step) {
    case 'lookup': {
      if (e.type !== 'reference.set') return stay(s);
      const ref = toLatinDigits(e.reference.trim());
      if (!/^[0-9]{1,12}$/.test(ref)) return to({ step: 'lookup', error: 'reference-invalid' });
      return to({ step: 'finding' }, { type: 'findRecord', seq: Number(ref) });
    }
    case 'finding':
      if (e.type !== 'record.found') return stay(s);
      if (!e.original) return to({ step: 'lookup', error: 'not-found' });
      if (e.original.kind !== 'purchase' && e.original.kind !== 'bill') return to({ step: 'refused', reason: 'not-reversible', original: e.original });
      return to({ step: 'found', original: e.original });
    case 'found': {
      if (e.type !== 'confirm') return stay(s);
      const a = startAuth('supervisor', ctx.operatorId);
      return to({ step: 'override', original: s.original, auth: a.state }, ...a.effects);
    }
    case 'recording':
      if (e.type === 'reversal.recorded') return to({ step: 'done', receipt: e.receipt });
      if (e.type === 'reversal.failed') return to({ step: 'refused', reason: e.reason, original: s.original });
      return stay(s);
    case 'refused':
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'done':
      {
        const printed = printStep(s, e);
        if (printed) return printed;
      }
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'finished':
      return stay(s);
  }
}
