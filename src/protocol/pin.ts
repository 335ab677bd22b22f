// PINs (operators' and customers'): scrypt hashes and an attempt limit with lockout. The one owner of the PIN rule:
// the terminal checks PINs at the counter (src/ledger) and the centre checks a sealed PIN online (src/server/report/access.ts).
// Hash format: scrypt$N$r$p$<salt b64>$<hash b64>, so the cost can rise later without breaking old hashes.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { PalmPayError } from '../util/errors.ts';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}
/** ~50-100 ms per hash on the terminal: slow for guessing, fine for a person at a counter. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 1 << 15, r: 8, p: 1 };

export interface PinPolicy {
  maxAttempts: number;
  lockoutMs: number;
}
export const DEFAULT_PIN_POLICY: PinPolicy = { maxAttempts: 5, lockoutMs: 15 * 60_000 };

export class PinFormatError extends PalmPayError {
  constructor(message: string) {
    super('PIN_FORMAT', message);
  }
}

function scryptAsync(pin: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A PIN is 4 to 12 digits. */
export function isPinFormat(pin: string): boolean {
  return /^\d{4,12}$/.test(pin);
}

export async function hashPin(pin: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (!isPinFormat(pin)) throw new PinFormatError('a PIN is 4 to 12 digits');
  const salt = randomBytes(16);
  const hash = await scryptAsync(pin, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPinHash(pin: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new PinFormatError('stored PIN hash is not in scrypt format');
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64');
  const got = await scryptAsync(pin, Buffer.from(parts[4]!, 'base64'), { N, r, p });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export interface AttemptState {
  failed: number;
  lockedUntilMs: number;
}
export type PinCheck = { ok: true } | { ok: false; reason: 'LOCKED' | 'WRONG_PIN'; attemptsLeft: number; lockedUntilMs: number };

/** Pure: may a PIN be tried now? */
export function pinLocked(s: AttemptState, nowMs: number): boolean {
  return nowMs < s.lockedUntilMs;
}

/** Pure: the attempt state after a try. A success clears it; the maxAttempts-th failure locks for lockoutMs. */
export function afterAttempt(s: AttemptState, success: boolean, nowMs: number, policy: PinPolicy = DEFAULT_PIN_POLICY): AttemptState {
  if (success) return { failed: 0, lockedUntilMs: 0 };
  const failed = s.failed + 1;
  return failed >= policy.maxAttempts ? { failed: 0, lockedUntilMs: nowMs + policy.lockoutMs } : { failed, lockedUntilMs: s.lockedUntilMs };
}

/**
 * Checks a PIN against a stored hash under the attempt limit. `save` persists the attempt state: a failure is
 * counted BEFORE the slow hash runs, so killing the process mid-check cannot buy free guesses; a success clears it.
 */
export async function checkPin(
  pin: string,
  pinHash: string,
  state: AttemptState,
  save: (s: AttemptState) => void,
  nowMs = Date.now(),
  policy: PinPolicy = DEFAULT_PIN_POLICY,
): Promise<PinCheck> {
  if (pinLocked(state, nowMs)) return { ok: false, reason: 'LOCKED', attemptsLeft: 0, lockedUntilMs: state.lockedUntilMs };
  const next = afterAttempt(state, false, nowMs, policy);
  save(next);
  const ok = isPinFormat(pin) && (await verifyPinHash(pin, pinHash));
  if (ok) {
    save(afterAttempt(next, true, nowMs, policy));
    return { ok: true };
  }
  if (pinLocked(next, nowMs)) return { ok: false, reason: 'LOCKED', attemptsLeft: 0, lockedUntilMs: next.lockedUntilMs };
  return { ok: false, reason: 'WRONG_PIN', attemptsLeft: policy.maxAttempts - next.failed, lockedUntilMs: 0 };
}
