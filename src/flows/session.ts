// Operator session: locked → palm + PIN → active; locks itself after a quiet spell (idle timeout) or on request.
// The money flows run only while a session is active; their own supervisor overrides use auth.ts directly.
import { reduceAuth, startAuth, type AuthEffect, type AuthEvent, type AuthRefusal, type AuthState } from './auth.ts';
import { go, stay, type Step } from './machine.ts';
import { isPlacement, type Operator } from './types.ts';

export type LockReason = 'start' | 'idle' | 'manual' | AuthRefusal;

export type SessionState =
  | { step: 'locked'; reason: LockReason }
  | { step: 'login'; auth: AuthState }
  /** `lastActivity` is null until the first tick after login (reducers have no clock; ticks bring the time). */
  | { step: 'active'; operator: Operator; lastActivity: number | null };

export type SessionEvent =
  | AuthEvent
  | { type: 'login.start' }
  | { type: 'login.cancel' }
  | { type: 'activity'; at: number }
  | { type: 'tick'; at: number }
  | { type: 'lock' };

export interface SessionConfig {
  /** Lock after this many milliseconds without activity. */
  idleMs: number;
}

export const initialSession: SessionState = { step: 'locked', reason: 'start' };

export function reduceSession(cfg: SessionConfig, s: SessionState, e: SessionEvent): Step<SessionState, AuthEffect> {
  if (e.type === 'lock') return s.step === 'locked' ? stay(s) : stay({ step: 'locked', reason: 'manual' });
  switch (s.step) {
    case 'locked':
      if (e.type !== 'login.start') return stay(s);
      return wrap(startAuth('any'));
    case 'login': {
      if (e.type === 'login.cancel') return stay({ step: 'locked', reason: 'manual' });
      if (!(e.type.startsWith('auth.') || isPlacement(e))) return stay(s);
      return wrap(reduceAuth(s.auth, e as AuthEvent));
    }
    case 'active':
      if (e.type === 'activity') return stay({ ...s, lastActivity: e.at });
      if (e.type === 'tick') {
        if (s.lastActivity === null) return stay({ ...s, lastActivity: e.at });
        if (e.at - s.lastActivity >= cfg.idleMs) return stay({ step: 'locked', reason: 'idle' });
      }
      return stay(s);
  }
}

function wrap(step: Step<AuthState, AuthEffect>): Step<SessionState, AuthEffect> {
  const a = step.state;
  if (a.step === 'granted') return go({ step: 'active', operator: a.operator, lastActivity: null }, ...step.effects);
  if (a.step === 'refused') return go({ step: 'locked', reason: a.reason }, ...step.effects);
  return go({ step: 'login', auth: a }, ...step.effects);
}
