// PIN checks wired to the store: operators (log-in, supervisor approval) and customers (above the PIN threshold).
// The attempt count is persisted before the slow hash runs (see pin.ts), so restarts do not reset it.
import { PalmPayError } from '../util/errors.ts';
import type { Store } from '../store/store.ts';
import type { Operator } from '../store/operators.ts';
import { checkPin, DEFAULT_PIN_POLICY, type PinCheck, type PinPolicy } from './pin.ts';

export class AuthError extends PalmPayError {}

/** Checks an operator's PIN. Unknown or deactivated operators get a typed error (no attempt is counted). */
export async function checkOperatorPin(store: Store, operatorId: string, pin: string, nowMs = Date.now(), policy: PinPolicy = DEFAULT_PIN_POLICY): Promise<PinCheck & { operator: Operator }> {
  const op = store.operators.get(operatorId);
  if (!op) throw new AuthError('OPERATOR_UNKNOWN', `no operator ${operatorId} on this terminal`);
  if (!op.active) throw new AuthError('OPERATOR_INACTIVE', `operator ${operatorId} is deactivated`);
  const r = await checkPin(pin, op.pinHash, { failed: op.failedAttempts, lockedUntilMs: op.lockedUntilMs }, (s) => store.operators.setAttempts(operatorId, s.failed, s.lockedUntilMs), nowMs, policy);
  return { ...r, operator: op };
}

/** Checks a customer's PIN (hash from the centre). No PIN on file is a typed error: the payment needs the link. */
export async function checkCustomerPin(store: Store, personId: string, pin: string, nowMs = Date.now(), policy: PinPolicy = DEFAULT_PIN_POLICY): Promise<PinCheck> {
  const p = store.people.getPin(personId);
  if (!p) throw new AuthError('PERSON_UNKNOWN', `no person ${personId} on this terminal`);
  if (!p.pinHash) throw new AuthError('PIN_NOT_SET', `person ${personId} has no PIN on this terminal: connect to the centre`);
  return checkPin(pin, p.pinHash, { failed: p.failed, lockedUntilMs: p.lockedUntilMs }, (s) => store.people.setPinAttempts(personId, s.failed, s.lockedUntilMs), nowMs, policy);
}
