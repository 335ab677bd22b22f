// The one policy for a PIN a payer chooses, wherever they choose it: at enrolment (enrolment.ts) or at a supervised
// counter (pin-set.ts). Pure. Only the PIN's scrypt verifier ever leaves the keypad side: the bank hashes it.
import { PIN_MIN } from './auth.ts';
import { toLatinDigits } from './digits.ts';

/** A customer's PIN: 4 to 6 digits (what a payer types at the bill, mandate and report PIN steps). */
export const CUSTOMER_PIN_MAX = 6;

/** Why a new PIN is not taken: not 4-6 digits, one too easy to guess, or the two entries differ. */
export type NewPinError = 'pin-invalid' | 'pin-trivial' | 'pin-mismatch';

/**
 * Pure: why a new customer PIN is refused, or null. 4 to 6 digits (Arabic-Indic digits read as Latin), not one
 * digit repeated (0000) and not a run up or down (1234, 6543): the first PINs anyone tries.
 */
export function newPinProblem(raw: string): 'pin-invalid' | 'pin-trivial' | null {
  const pin = toLatinDigits(raw.trim());
  if (!new RegExp(`^[0-9]{${PIN_MIN},${CUSTOMER_PIN_MAX}}$`).test(pin)) return 'pin-invalid';
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => x - d[i]!));
  if (steps.size === 1 && [0, 1, -1].includes([...steps][0]!)) return 'pin-trivial';
  return null;
}

/** Pure: the PIN typed twice, as it is to be hashed (Latin digits), or why not. */
export function chosenPin(pin: string, again: string): { ok: true; pin: string } | { ok: false; error: NewPinError } {
  const problem = newPinProblem(pin);
  if (problem) return { ok: false, error: problem };
  const a = toLatinDigits(pin.trim());
  if (a !== toLatinDigits(again.trim())) return { ok: false, error: 'pin-mismatch' };
  return { ok: true, pin: a };
}
