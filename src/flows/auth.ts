// Operator authentication: the operator's own palm, then their PIN. Used for login (any role) and for a
// supervisor override (role 'supervisor'). A sub-machine: login and the money flows embed its state.
import { go, stay, type Step } from './machine.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Operator, type PlacementEvent, type Role } from './types.ts';

export type AuthRefusal =
  | 'unknown-palm' // no operator with this palm
  | 'ambiguous' // identification not sure: lay the palm again
  | 'not-an-operator' // the palm is a known person, but not an operator here
  | 'role-missing' // an operator, but not allowed to do this (e.g. not a supervisor)
  | 'same-operator' // a supervisor cannot approve their own operation
  | 'pin-locked'; // too many wrong PINs

export type AuthState =
  | { step: 'palm'; need: Role | 'any'; guidance: Guidance; retry: AuthRefusal | 'fta' | null; exclude?: string }
  | { step: 'identifying'; need: Role | 'any'; exclude?: string }
  | { step: 'pin'; need: Role | 'any'; operator: Operator; wrong: boolean; attemptsLeft: number | null; exclude?: string }
  | { step: 'checking-pin'; need: Role | 'any'; operator: Operator; exclude?: string }
  | { step: 'granted'; operator: Operator }
  | { step: 'refused'; reason: AuthRefusal };

export type AuthEvent =
  | PlacementEvent
  | { type: 'auth.palm'; outcome: IdentifyOutcome; operator: Operator | null }
  /** The PIN is typed on the renderer's keypad and sent once; it is never part of a state (states are broadcast). */
  | { type: 'auth.submit'; pin: string }
  | { type: 'auth.pin-result'; result: PinResult };

export type PinResult = { ok: true } | { ok: false; attemptsLeft: number } | { ok: false; locked: true };

export type AuthEffect =
  | { type: 'identifyOperator' }
  | { type: 'verifyOperatorPin'; operatorId: string; pin: string };

export const PIN_MAX = 8;

/** Starts authentication; `exclude` is an operator id that may not approve (the one asking for the override). */
export function startAuth(need: Role | 'any', exclude?: string): Step<AuthState, AuthEffect> {
  return go({ step: 'palm', need, guidance: NO_GUIDANCE, retry: null, ...(exclude ? { exclude } : {}) }, { type: 'identifyOperator' });
}

export function reduceAuth(s: AuthState, e: AuthEvent): Step<AuthState, AuthEffect> {
  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  const base = { need: s.step === 'granted' || s.step === 'refused' ? ('any' as const) : s.need, ...('exclude' in s && s.exclude ? { exclude: s.exclude } : {}) };
  switch (e.type) {
    case 'auth.palm': {
      if (s.step !== 'palm' && s.step !== 'identifying') return stay(s);
      const retry = (why: AuthRefusal | 'fta'): Step<AuthState, AuthEffect> =>
        go({ step: 'palm', ...base, guidance: NO_GUIDANCE, retry: why }, { type: 'identifyOperator' });
      const o = e.outcome;
      if (o.kind === 'fta') return retry('fta');
      if (o.kind === 'ambiguous') return retry('ambiguous');
      if (o.kind === 'no-match') return retry('unknown-palm');
      if (!e.operator) return retry('not-an-operator');
      if (base.need !== 'any' && !e.operator.roles.includes(base.need)) return retry('role-missing');
      if (base.exclude === e.operator.id) return retry('same-operator');
      return stay({ step: 'pin', ...base, operator: e.operator, wrong: false, attemptsLeft: null });
    }
    case 'auth.submit': {
      if (s.step !== 'pin' || !isPin(e.pin)) return stay(s);
      return go({ step: 'checking-pin', ...base, operator: s.operator }, { type: 'verifyOperatorPin', operatorId: s.operator.id, pin: e.pin });
    }
    case 'auth.pin-result': {
      if (s.step !== 'checking-pin') return stay(s);
      const r = e.result;
      if (r.ok) return stay({ step: 'granted', operator: s.operator });
      if ('locked' in r) return stay({ step: 'refused', reason: 'pin-locked' });
      return stay({ step: 'pin', ...base, operator: s.operator, wrong: true, attemptsLeft: r.attemptsLeft });
    }
  }
}

export const PIN_MIN = 4;

export function isPin(pin: string): boolean {
  return new RegExp(`^[0-9]{${PIN_MIN},${PIN_MAX}}$`).test(pin);
}

export function isAuthEvent(e: { type: string }): e is AuthEvent {
  return e.type.startsWith('auth.') || isPlacement(e);
}
