// The one rule for a customer PIN's scrypt verifier that crosses from a terminal to the centre (`pin_set`, and an
// `enrolment` carrying `pinHash`). The record schema only says "looks like scrypt$N$r$p$salt$hash"; a terminal
// signs whatever it likes, so the centre judges the verifier here before it is stored and sent to every counter of
// the region: well-formed, slow enough to resist guessing a 4-6 digit PIN, and not so costly that checking it at a
// counter (or the centre's own checks) would stall or exhaust memory. Pure: parsing only, no hashing.
import { z } from 'zod';
import { PalmPayError } from '../util/errors.ts';
import { Id } from './record.ts';

/** scrypt's memory-hard cost floor: the terminal's own default (src/ledger/pin.ts DEFAULT_SCRYPT_COST.N). */
export const PIN_VERIFIER_MIN_N = 1 << 15;
/** 128·N·r bytes of memory at most (128 MiB): a counter must be able to check the PIN. */
export const PIN_VERIFIER_MAX_MEMORY_BYTES = 128 * 1024 * 1024;
/** 128·N·r·p at most (8× the default cost): a check must take seconds at worst, never minutes. */
export const PIN_VERIFIER_MAX_WORK = 8 * 128 * (1 << 15) * 8;
const SALT_BYTES = { min: 16, max: 64 };
const HASH_BYTES = 32;

export type PinVerifierProblemCode = 'PIN_VERIFIER_MALFORMED' | 'PIN_VERIFIER_WEAK' | 'PIN_VERIFIER_TOO_COSTLY';
export interface PinVerifierProblem {
  code: PinVerifierProblemCode;
  message: string;
}

export class PinVerifierError extends PalmPayError {
  constructor(p: PinVerifierProblem) {
    super(p.code, p.message);
  }
}

/** Strict base64 (canonical padding, nothing else): decoded bytes, or null. */
function strictBase64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** A positive decimal integer without sign, leading zeros or exponent, or null. */
const wholeNumber = (s: string) => (/^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : null);

/**
 * Pure: why this verifier must not be stored, or null. Format `scrypt$N$r$p$<salt b64>$<hash b64>` as
 * src/ledger/pin.ts hashPin writes it: N a power of two ≥ 2^15, r and p ≥ 1, a 16-64 byte salt, a 32-byte hash.
 */
export function pinVerifierProblem(v: string): PinVerifierProblem | null {
  const malformed = (why: string): PinVerifierProblem => ({ code: 'PIN_VERIFIER_MALFORMED', message: `PIN verifier is malformed: ${why}` });
  if (typeof v !== 'string' || v.length > 300) return malformed('not a string of at most 300 characters');
  const parts = v.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return malformed('expected scrypt$N$r$p$salt$hash');
  const [N, r, p] = parts.slice(1, 4).map(wholeNumber);
  if (N === null || r === null || p === null || N === undefined || r === undefined || p === undefined) return malformed('N, r and p must be positive whole numbers');
  if (N < 2 || (N & (N - 1)) !== 0) return malformed(`N = ${N} is not a power of two`);
  const salt = strictBase64(parts[4]!);
  const hash = strictBase64(parts[5]!);
  if (!salt || salt.length < SALT_BYTES.min || salt.length > SALT_BYTES.max) return malformed(`the salt must be ${SALT_BYTES.min}-${SALT_BYTES.max} bytes of canonical base64`);
  if (!hash || hash.length !== HASH_BYTES) return malformed(`the hash must be ${HASH_BYTES} bytes of canonical base64`);
  if (N < PIN_VERIFIER_MIN_N) return { code: 'PIN_VERIFIER_WEAK', message: `PIN verifier is too weak: scrypt N = ${N} < ${PIN_VERIFIER_MIN_N}` };
  const memory = 128 * N * r;
  if (memory > PIN_VERIFIER_MAX_MEMORY_BYTES || memory * p > PIN_VERIFIER_MAX_WORK) {
    return { code: 'PIN_VERIFIER_TOO_COSTLY', message: `PIN verifier is too costly to check: scrypt N = ${N}, r = ${r}, p = ${p}` };
  }
  return null;
}

/** Throws PinVerifierError (PIN_VERIFIER_MALFORMED / _WEAK / _TOO_COSTLY) unless the verifier may be stored. */
export function assertPinVerifier(v: string): void {
  const p = pinVerifierProblem(v);
  if (p) throw new PinVerifierError(p);
}

/**
 * Which record set a person's PIN: its own time (the record's HLC milliseconds), then its terminal and seq. The one
 * order of a person's PINs, at the centre (customer-pins.ts, in SQL) and at a counter (Ledger.applyCustomerPin): the
 * later record stands, whichever arrives last. Sent with each verifier in the feed (`pinVersion`).
 */
export const PinVersion = z.strictObject({
  atMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  terminalId: Id,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
export type PinVersion = z.infer<typeof PinVersion>;

/** The version of a PIN set by this record (a `pin_set`, or an enrolment carrying the chosen PIN). */
export function pinVersionOf(rec: { hlc: { ms: number }; terminalId: string; seq: number }): PinVersion {
  return { atMs: rec.hlc.ms, terminalId: rec.terminalId, seq: rec.seq };
}

/** Negative when a PIN set by record `a` is older than one set by `b`. No version (a row or event from before) is the oldest. */
export function comparePinVersions(a: PinVersion | null, b: PinVersion | null): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  if (a.terminalId !== b.terminalId) return a.terminalId < b.terminalId ? -1 : 1;
  return a.seq - b.seq;
}
