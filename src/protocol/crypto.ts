// The centre's cryptography: its Ed25519 identity, terminal certificates, signed time, request authentication,
// and templates encrypted for one terminal (X25519 + HKDF + AES-256-GCM). node:crypto throughout (fast, native).
import {
  createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync,
  hkdfSync, randomBytes, sign as edSign, verify as edVerify, type KeyObject,
} from 'node:crypto';
import { canonicalBytes } from './canonical.ts';
import { publicKeyObject } from './sign.ts';
import { PalmPayError } from '../util/errors.ts';

const CERT_DOMAIN = Buffer.from('PalmPay terminal certificate v1\n');
const TIME_DOMAIN = Buffer.from('PalmPay server time v1\n');
const REQUEST_DOMAIN_V1 = Buffer.from('PalmPay request v1\n');
const REQUEST_DOMAIN = Buffer.from('PalmPay request v2\n');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class CryptoError extends PalmPayError {}

/** The centre's signing identity (kept in the database's meta table as PKCS#8). */
export interface ServerIdentity {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** 32 raw bytes, hex: what terminals pin. */
  publicKeyHex: string;
}

export function newServerKeyPkcs8(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

export function serverIdentity(pkcs8b64: string): ServerIdentity {
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8b64, 'base64'), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
  return { privateKey, publicKey, publicKeyHex: raw.toString('hex') };
}

// ---- certificates ----
export interface CertBody {
  v: 1;
  terminalId: string;
  name: string;
  branch: string;
  region: string;
  /** Ed25519 public key (hex) the terminal signs records and requests with. */
  publicKey: string;
  /** X25519 public key (hex) templates are encrypted to. */
  encKey: string;
  issuedAt: number;
}
export interface Certificate {
  body: CertBody;
  sig: string;
}

export function issueCertificate(id: ServerIdentity, body: CertBody): Certificate {
  return { body, sig: edSign(null, Buffer.concat([CERT_DOMAIN, canonicalBytes(body)]), id.privateKey).toString('hex') };
}

export function verifyCertificate(serverPublicKeyHex: string, cert: Certificate): boolean {
  try {
    return edVerify(null, Buffer.concat([CERT_DOMAIN, canonicalBytes(cert.body)]), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(cert.sig, 'hex'));
  } catch {
    return false;
  }
}

// ---- signed time ----
export interface SignedTime {
  ms: number;
  /** Ed25519 signature (hex) over the time; terminals put it in records as serverTime.ref. */
  sig: string;
}
/** The bytes the centre signs for a time (the centre's own checks of it: src/server/sign.ts verifyCentreTime). */
export function timeMessage(ms: number): Buffer {
  return Buffer.concat([TIME_DOMAIN, Buffer.from(String(ms))]);
}
export function signTime(id: ServerIdentity, ms: number): SignedTime {
  return { ms, sig: edSign(null, timeMessage(ms), id.privateKey).toString('hex') };
}
export function verifyTime(serverPublicKeyHex: string, t: SignedTime): boolean {
  try {
    return edVerify(null, timeMessage(t.ms), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(t.sig, 'hex'));
  } catch {
    return false;
  }
}

// ---- request authentication (terminal → centre) ----
/**
 * Header value: `PalmPay <terminalId>:<ms>:<nonce>:<body sha256 hex>:<sig hex>`; the signature covers method, path,
 * time, a random 128-bit nonce and the body's SHA-256. The centre accepts each nonce once (its request_nonces
 * table), so a captured request never replays, not even after a restart or at another centre process. The body's
 * hash is in the header so the centre checks the signature, the time and the nonce before it reads the body: a
 * body is buffered only for a request the terminal's key signed (the body must then hash to what was signed).
 */
export function requestMessage(method: string, path: string, ms: number, nonce: string, body: Buffer | string): Buffer {
  return signedRequestMessage(method, path, ms, nonce, sha256Hex(body));
}
/** The same message from the body's hash as the header states it (checked against the body once it is read). */
export function signedRequestMessage(method: string, path: string, ms: number, nonce: string, bodySha256: string): Buffer {
  return Buffer.concat([REQUEST_DOMAIN, Buffer.from(`${method.toUpperCase()}\n${path}\n${ms}\n${nonce}\n${bodySha256}`)]);
}
/** What terminals before the nonce signed (`PalmPay <id>:<ms>:<sig>`): the centre only recognises it to say AUTH_OUTDATED. */
export function outdatedRequestMessage(method: string, path: string, ms: number, body: Buffer | string): Buffer {
  return Buffer.concat([REQUEST_DOMAIN_V1, Buffer.from(`${method.toUpperCase()}\n${path}\n${ms}\n${sha256Hex(body)}`)]);
}
export function newRequestNonce(): string {
  return randomBytes(16).toString('hex');
}
export function authorizationHeader(terminalId: string, ms: number, sign: (m: Uint8Array) => Uint8Array, method: string, path: string, body: Buffer | string, nonce = newRequestNonce()): string {
  const bodySha256 = sha256Hex(body);
  return `PalmPay ${terminalId}:${ms}:${nonce}:${bodySha256}:${Buffer.from(sign(signedRequestMessage(method, path, ms, nonce, bodySha256))).toString('hex')}`;
}
export interface ParsedAuthorization {
  terminalId: string;
  ms: number;
  /** Absent in the header of a terminal too old to send one (refused with AUTH_OUTDATED). */
  nonce?: string;
  /** The body's SHA-256 the terminal signed; absent in the headers of older terminals (refused with AUTH_OUTDATED). */
  bodySha256?: string;
  sig: string;
}
export function parseAuthorization(h: string | undefined): ParsedAuthorization | undefined {
  const m = /^PalmPay ([A-Za-z0-9][A-Za-z0-9._:-]{0,63}):(\d{1,16}):([0-9a-f]{32}):([0-9a-f]{64}):([0-9a-f]{128})$/.exec(h ?? '');
  if (m) return { terminalId: m[1]!, ms: Number(m[2]), nonce: m[3]!, bodySha256: m[4]!, sig: m[5]! };
  const noHash = /^PalmPay ([A-Za-z0-9][A-Za-z0-9._:-]{0,63}):(\d{1,16}):([0-9a-f]{32}):([0-9a-f]{128})$/.exec(h ?? '');
  if (noHash) return { terminalId: noHash[1]!, ms: Number(noHash[2]), nonce: noHash[3]!, sig: noHash[4]! };
  const old = /^PalmPay ([A-Za-z0-9][A-Za-z0-9._:-]{0,63}):(\d{1,16}):([0-9a-f]{128})$/.exec(h ?? '');
  return old ? { terminalId: old[1]!, ms: Number(old[2]), sig: old[3]! } : undefined;
}

// ---- X25519 keys and template encryption ----
export function newEncKeyPair(): { publicHex: string; privatePkcs8b64: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length).toString('hex'),
    privatePkcs8b64: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}
function x25519Public(hex: string): KeyObject {
  const raw = Buffer.from(hex, 'hex');
  if (raw.length !== 32) throw new CryptoError('ENC_KEY_FORMAT', 'an X25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}
/** What a sealed box is for (the HKDF info): a box sealed for one use never opens as another. */
export const SEAL_TEMPLATE = 'PalmPay template v1';
function aeadKey(shared: Buffer, ephPub: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, ephPub, purpose, 32));
}
/** Sealed box: base64(ephemeral public 32 ‖ iv 12 ‖ tag 16 ‖ ciphertext). Only the holder of the recipient's X25519 key opens it. */
export function sealFor(recipientPublicHex: string, plaintext: Buffer, purpose = SEAL_TEMPLATE): string {
  const eph = generateKeyPairSync('x25519');
  const ephPub = eph.publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length);
  const key = aeadKey(diffieHellman({ privateKey: eph.privateKey, publicKey: x25519Public(recipientPublicHex) }), ephPub, purpose);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([ephPub, iv, c.getAuthTag(), ct]).toString('base64');
}
export function openSealed(privatePkcs8b64: string, sealed: string, purpose = SEAL_TEMPLATE): Buffer {
  const buf = Buffer.from(sealed, 'base64');
  if (buf.length < 60) throw new CryptoError('SEALED_FORMAT', 'sealed template is too short');
  const ephPub = buf.subarray(0, 32);
  const priv = createPrivateKey({ key: Buffer.from(privatePkcs8b64, 'base64'), format: 'der', type: 'pkcs8' });
  const key = aeadKey(diffieHellman({ privateKey: priv, publicKey: x25519Public(ephPub.toString('hex')) }), ephPub, purpose);
  const d = createDecipheriv('aes-256-gcm', key, buf.subarray(32, 44));
  d.setAuthTag(buf.subarray(44, 60));
  try {
    return Buffer.concat([d.update(buf.subarray(60)), d.final()]);
  } catch (err) {
    throw new CryptoError('SEALED_AUTH', 'sealed box failed authentication', { cause: err });
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
