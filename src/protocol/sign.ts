// Hashing and Ed25519 signing of records. Keys are tweetnacl's byte formats (32-byte public key, 64-byte
// secret key = seed ‖ public key); signing and verifying run through node:crypto's Ed25519 on the same bytes,
// which gives identical signatures (Ed25519 is deterministic) about 50× faster than tweetnacl in pure JS.
import { createHash, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonicalBytes, canonicalJson } from './canonical.ts';
import type { RecordBody, SignedRecord } from './record.ts';
import { PalmPayError } from '../util/errors.ts';

/** Prefix of every signed message: a signature over a record can never be replayed as a signature over something else. */
export const SIGNING_DOMAIN = Buffer.from('PalmPay record v1\n', 'utf8');

/** Signs messages with the terminal key without handing the key out (the key store implements this). */
export interface Signer {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export class KeyFormatError extends PalmPayError {
  constructor(message: string) {
    super('KEY_FORMAT', message);
  }
}

// DER prefixes that wrap raw Ed25519 key bytes as PKCS#8 (private) and SPKI (public) for node:crypto.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** node:crypto private key from tweetnacl's 64-byte secret key (or its 32-byte seed). */
export function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== 64 && secretKey.length !== 32) throw new KeyFormatError('an Ed25519 secret key is 64 bytes (or a 32-byte seed)');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
}

/** node:crypto public key from 32 raw bytes. */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new KeyFormatError('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** A Signer over a secret key held in memory (the key store wraps its unsealed key in one of these). */
export function signerFromSecretKey(secretKey: Uint8Array): Signer {
  const key = privateKeyObject(secretKey);
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length));
  if (secretKey.length === 64 && !Buffer.from(secretKey.subarray(32)).equals(publicKey)) {
    throw new KeyFormatError('secret key halves disagree: its public half is not the seed’s public key');
  }
  return { publicKey, sign: (m) => new Uint8Array(edSign(null, m, key)) };
}

/** SHA-256 of the canonical body, hex. The chain links on this; it does not cover the signature. */
export function recordHash(body: RecordBody): string {
  return createHash('sha256').update(canonicalBytes(body)).digest('hex');
}

/** The bytes the terminal signs: SIGNING_DOMAIN ‖ canonical body. */
export function signingMessage(body: RecordBody): Buffer {
  return Buffer.concat([SIGNING_DOMAIN, canonicalBytes(body)]);
}

/** Hashes and signs a body. The body must already be valid (parseBody). */
export function sealRecord(body: RecordBody, signer: Signer): SignedRecord {
  return sealWithCanonical(body, signer).record;
}

/** sealRecord, also returning the canonical JSON text (what the journal stores). */
export function sealWithCanonical(body: RecordBody, signer: Signer): { record: SignedRecord; canonical: string } {
  const canonical = canonicalJson(body);
  const bytes = Buffer.from(canonical, 'utf8');
  const hash = createHash('sha256').update(bytes).digest('hex');
  const sig = Buffer.from(signer.sign(Buffer.concat([SIGNING_DOMAIN, bytes]))).toString('hex');
  return { record: { ...body, hash, sig }, canonical };
}

/** A verifier bound to one public key (building the KeyObject once makes chain checks fast). */
export function makeVerifier(publicKey: Uint8Array): (body: RecordBody, sigHex: string) => boolean {
  const key = publicKeyObject(publicKey);
  return (body, sigHex) => {
    if (!/^[0-9a-f]{128}$/.test(sigHex)) return false;
    return edVerify(null, signingMessage(body), key, Buffer.from(sigHex, 'hex'));
  };
}

/** True when `sig` is the terminal's signature over `body`. */
export function verifyRecordSignature(rec: SignedRecord, publicKey: Uint8Array): boolean {
  const { hash: _h, sig, ...body } = rec;
  return makeVerifier(publicKey)(body as RecordBody, sig);
}
