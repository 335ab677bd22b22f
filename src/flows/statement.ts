// Statement: after a palm, the person sees their recent payouts, purchases, refunds and voids (each with its sign,
// salaries with their period, voided records marked) and what is left of their offline allowance. Read-only.
import { go, stay, type Step } from './machine.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Person, type PlacementEvent, type StatementEntry, type AllowanceLeft } from './types.ts';

export type StatementRefusal = 'unknown-palm' | 'ambiguous' | 'person-revoked';

type Body =
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'shown'; person: Person; entries: StatementEntry[]; allowance: AllowanceLeft | null }
  | { step: 'refused'; reason: StatementRefusal }
  | { step: 'finished' };

export type StatementState = Body & { operatorId: string };

export type StatementEvent =
  | PlacementEvent
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'statement.loaded'; person: Person | null; entries: StatementEntry[]; allowance?: AllowanceLeft | null }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export type StatementEffect = { type: 'identifyPalm' } | { type: 'loadStatement'; personId: string };

export function startStatement(operatorId: string): Step<StatementState, StatementEffect> {
  return go({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null, operatorId }, { type: 'identifyPalm' });
}

export function reduceStatement(s: StatementState, e: StatementEvent): Step<StatementState, StatementEffect> {
  const to = (b: Body, ...fx: StatementEffect[]): Step<StatementState, StatementEffect> => go({ ...b, operatorId: s.operatorId }, ...fx);
  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  if (e.type === 'cancel' || e.type === 'done') return s.step === 'finished' ? stay(s) : to({ step: 'finished' });
  switch (s.step) {
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return to({ step: 'refused', reason: 'ambiguous' });
      if (o.kind === 'no-match') return to({ step: 'refused', reason: 'unknown-palm' });
      return to({ step: 'loading', personId: o.personId }, { type: 'loadStatement', personId: o.personId });
    }
    case 'loading':
      if (e.type !== 'statement.loaded') return stay(s);
      if (!e.person) return to({ step: 'refused', reason: 'unknown-palm' });
      if (e.person.status === 'revoked') return to({ step: 'refused', reason: 'person-revoked' });
      return to({ step: 'shown', person: e.person, entries: e.entries, allowance: e.allowance ?? null });
    case 'refused':
      if (e.type === 'retry') return startStatement(s.operatorId);
      return stay(s);
    default:
      return stay(s);
  }
}
