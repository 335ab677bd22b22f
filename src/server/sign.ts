// THE owner of signature checks at the centre: every Ed25519 signature the centre verifies (records, request
// headers, the server time a record carries, settlement files) goes through `verifySignature` here.
// - Strict encodings, whatever the verifying library accepts: a signature is 64 bytes with R a canonical point
//   encoding (y < p) and S < L. Ed25519 without the S < L check is malleable: (R, S + L) verifies wherever (R, S)
//   does (tweetnacl accepts it; OpenSSL refuses it today), so a copy of a record with another signature would
//   pass as a different byte string. Refused here whichever library is underneath.
// - A public key must be a canonical point encoding of a point not of small order. A small-order key (e.g. the
//   identity, y = 1) makes (R = identity, S = 0) verify for EVERY message, in tweetnacl and OpenSSL alike, so a
//   terminal registered with one could disown its records ("anyone could have signed them").
// - Verification itself is node:crypto's native Ed25519 (OpenSSL), ~20–50× faster than tweetnacl's pure JS;
//   test/server/sign.test.ts shows the two agree on the RFC 8032 vectors and on random signatures.
// Keys are parsed once and kept (a KeyObject per key; the DER parse costs as much as a verify).
import { createPublicKey, verify as edVerify, type KeyObject } from 'node:crypto';
import { timeMessage, type SignedTime } from '../protocol/crypto.ts';
import { PalmPayError } from '../util/errors.ts';

/** The field prime p = 2^255 − 19 and the group order L = 2^252 + 27742317777372353535851937790883648493. */
const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
/** The curve constant d = −121665 / 121666 mod p. */
const D = mod(-121665n * inverse(121666n));
/** √−1 mod p, used to finish the square root when decoding a point. */
const SQRT_M1 = power(2n, (P - 1n) / 4n);
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class SignatureKeyError extends PalmPayError {
  constructor(message: string) {
    super('PUBLIC_KEY_UNUSABLE', message);
  }
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}
function power(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}
function inverse(a: bigint): bigint {
  return power(a, P - 2n);
}
/** A 32-byte little-endian integer. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** The y coordinate a 32-byte point encoding names (sign bit cleared), and whether it is below p (canonical). */
function encodedY(bytes: Uint8Array): { y: bigint; canonical: boolean } {
  const copy = Uint8Array.from(bytes);
  copy[31]! &= 0x7f;
  const y = littleEndian(copy);
  return { y, canonical: y < P };
}

/** RFC 8032 §5.1.3: the point a canonical encoding names, or undefined when no point has it. */
function decodePoint(bytes: Uint8Array): { x: bigint; y: bigint } | undefined {
  const { y, canonical } = encodedY(bytes);
  if (!canonical) return undefined;
  const sign = (bytes[31]! >> 7) & 1;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * power(v, 3n) * power(u * power(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return undefined;
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = P - x;
  return { x, y };
}

/**
 * [8]P in projective coordinates (X : Y : Z), by three doublings (dbl-2008-hwcd, a = −1): no inversions, so the
 * check costs one square root (the decoding) instead of six modular inversions per key.
 */
function timesEight(p: { x: bigint; y: bigint }): { X: bigint; Y: bigint; Z: bigint } {
  let X = p.x;
  let Y = p.y;
  let Z = 1n;
  for (let i = 0; i < 3; i++) {
    const A = mod(X * X);
    const B = mod(Y * Y);
    const C = mod(2n * Z * Z);
    const E = mod((X + Y) * (X + Y) - A - B);
    const G = mod(B - A);
    const F = mod(G - C);
    const H = mod(-A - B);
    [X, Y, Z] = [mod(E * F), mod(G * H), mod(F * G)];
  }
  return { X, Y, Z };
}

/** Why a 32-byte Ed25519 public key is unusable, or undefined when it is usable. */
export function publicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (publicKey.length !== 32) return 'an Ed25519 public key is 32 bytes';
  const point = decodePoint(publicKey);
  if (!point) return 'the public key is not a canonical encoding of a curve point';
  const q = timesEight(point); // the identity exactly when the point is of small order (cofactor 8)
  if (q.X === 0n && q.Y === q.Z) return 'the public key is a point of small order (signatures under it prove nothing)';
  return undefined;
}

/** True when a 64-byte signature is in canonical form: R's y below p, S below L (no malleable twin). */
export function isCanonicalSignature(sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  return encodedY(sig.subarray(0, 32)).canonical && littleEndian(sig.subarray(32, 64)) < L;
}

const keys = new Map<string, KeyObject | SignatureKeyError>();
/** The node:crypto key for a public key (hex), parsed and checked once; SignatureKeyError when it is unusable. */
export function centreVerifyKey(publicKeyHex: string): KeyObject {
  let key = keys.get(publicKeyHex);
  if (!key) {
    const raw = /^[0-9a-f]{64}$/.test(publicKeyHex) ? Buffer.from(publicKeyHex, 'hex') : Buffer.alloc(0);
    const problem = publicKeyProblem(raw);
    key = problem ? new SignatureKeyError(problem) : createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    if (keys.size >= 10_000) keys.clear(); // a region's terminals fit many times over; a flood of unknown keys does not grow it
    keys.set(publicKeyHex, key);
  }
  if (key instanceof SignatureKeyError) throw key;
  return key;
}

/** Throws SignatureKeyError unless the key (hex) is one the centre can verify under (registration). */
export function assertUsablePublicKey(publicKeyHex: string): void {
  centreVerifyKey(publicKeyHex);
}

/**
 * The one verification: true when `sig` (64 bytes, or 128 hex digits) is a canonical Ed25519 signature of `message`
 * under the public key (hex). Never throws: an unusable key, a malformed or malleable signature is false.
 */
export function verifySignature(publicKeyHex: string, message: Uint8Array, sig: Uint8Array | string): boolean {
  const bytes = typeof sig === 'string' ? (/^[0-9a-f]{128}$/i.test(sig) ? Buffer.from(sig, 'hex') : undefined) : sig;
  if (!bytes || !isCanonicalSignature(bytes)) return false;
  let key: KeyObject;
  try {
    key = centreVerifyKey(publicKeyHex);
  } catch {
    return false;
  }
  return edVerify(null, message, key, bytes);
}

/**
 * Checks many signatures under one key. `raw` verifies already screened items elsewhere (the worker threads of
 * verify-pool.ts run node:crypto's verify on them); the canonical-form and key checks stay here.
 */
export async function verifyAll(
  publicKeyHex: string,
  items: ReadonlyArray<{ message: Buffer; sig: string }>,
  raw?: (publicKeyHex: string, items: Array<{ message: Buffer; signature: Buffer }>) => Promise<boolean[]>,
): Promise<boolean[]> {
  let usable = true;
  try {
    centreVerifyKey(publicKeyHex);
  } catch {
    usable = false;
  }
  if (!usable) return items.map(() => false);
  if (!raw) return items.map((it) => verifySignature(publicKeyHex, it.message, it.sig));
  const out = items.map(() => false);
  const screened: Array<{ at: number; message: Buffer; signature: Buffer }> = [];
  items.forEach((it, at) => {
    if (!/^[0-9a-f]{128}$/i.test(it.sig)) return;
    const signature = Buffer.from(it.sig, 'hex');
    if (isCanonicalSignature(signature)) screened.push({ at, message: it.message, signature });
  });
  const verdicts = await raw(publicKeyHex, screened);
  screened.forEach((s, i) => (out[s.at] = verdicts[i] === true));
  return out;
}

// A terminal's records carry the last server time it saw, so a batch names the same few signed times again and
// again: each is verified once and remembered (a verify per record was as costly as the record's own signature).
const timesVerified = new Map<string, boolean>();
/** True when the centre (key hex) signed this time; remembered per (key, time, signature). */
export function verifyCentreTime(centrePublicKeyHex: string, t: SignedTime): boolean {
  const id = `${centrePublicKeyHex}:${t.ms}:${t.sig}`;
  let ok = timesVerified.get(id);
  if (ok === undefined) {
    ok = verifySignature(centrePublicKeyHex, timeMessage(t.ms), t.sig);
    if (timesVerified.size >= 10_000) timesVerified.clear();
    timesVerified.set(id, ok);
  }
  return ok;
}
