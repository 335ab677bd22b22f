// The person's PIN, checked online by the centre before it serves a monthly report (issue 17). The counter seals
// the typed PIN to the centre's report-PIN key (X25519, sealed box of crypto.ts) together with the request it
// belongs to (terminal, request id, person, month); the signed `report_request` record pins the box's digest. So a
// box lifted into another request, or for another person or month, does not open as valid, and only the centre
// reads the PIN. The centre's X25519 key is derived from its Ed25519 key (no new key file) and published signed
// by it, so the terminal believes it only under the centre key pinned at registration.
import { createPrivateKey, createPublicKey, hkdfSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical.ts';
import { openSealed, sealFor, sha256Hex } from './crypto.ts';
import { Id } from './record.ts';
import { publicKeyObject } from './sign.ts';
import { PalmPayError } from '../util/errors.ts';

const KEY_DOMAIN = Buffer.from('PalmPay report PIN key v1\n');
const SEAL_PURPOSE = 'PalmPay report PIN v1';
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export class ReportPinError extends PalmPayError {}

/** The centre's report-PIN key as published: the X25519 public key (hex) and the centre's signature over it. */
export const ReportPinKey = z.object({ key: z.string().regex(/^[0-9a-f]{64}$/), sig: z.string().regex(/^[0-9a-f]{128}$/) });
export type ReportPinKey = z.infer<typeof ReportPinKey>;

/** What a sealed PIN is bound to: exactly one report request. */
export interface PinBinding {
  terminalId: string;
  requestId: string;
  personId: string;
  month: string;
}

const SealedContent = z.strictObject({ v: z.literal(1), terminalId: Id, requestId: Id, personId: Id, month: z.string(), pin: z.string().max(32) });

/** The centre's X25519 key pair for sealed PINs, derived (HKDF) from its Ed25519 signing key. Centre only. */
export function reportPinKeyPair(centrePrivateKey: KeyObject): { publicHex: string; privatePkcs8b64: string } {
  const seed = centrePrivateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const raw = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), 'PalmPay report PIN key v1', 32));
  const priv = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return {
    publicHex: createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length).toString('hex'),
    privatePkcs8b64: priv.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

export function signReportPinKey(centrePrivateKey: KeyObject, publicHex: string): ReportPinKey {
  return { key: publicHex, sig: edSign(null, Buffer.concat([KEY_DOMAIN, Buffer.from(publicHex)]), centrePrivateKey).toString('hex') };
}

/** The report-PIN key (hex) when the pinned centre key signed it; REPORT_PIN_KEY_FORGED otherwise. */
export function verifyReportPinKey(serverPublicKeyHex: string | undefined, published: unknown): string {
  const k = ReportPinKey.safeParse(published);
  let ok = false;
  try {
    ok = k.success && !!serverPublicKeyHex && edVerify(null, Buffer.concat([KEY_DOMAIN, Buffer.from(k.data.key)]), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(k.data.sig, 'hex'));
  } catch {
    ok = false;
  }
  if (!ok || !k.success) throw new ReportPinError('REPORT_PIN_KEY_FORGED', 'the report-PIN key is not signed by the centre key pinned at registration');
  return k.data.key;
}

/** The PIN sealed for the centre, bound to one request (base64). */
export function sealReportPin(centreKeyHex: string, bound: PinBinding, pin: string): string {
  const { terminalId, requestId, personId, month } = bound;
  return sealFor(centreKeyHex, canonicalBytes({ v: 1, terminalId, requestId, personId, month, pin }), SEAL_PURPOSE);
}

/** What a `report_request` record pins of its sealed PIN (SHA-256 hex of the base64 text). */
export function sealedPinDigest(sealed: string): string {
  return sha256Hex(sealed);
}

/**
 * Centre: the PIN inside a sealed box, when the box opens and is bound to exactly this request. REPORT_PIN_UNBOUND
 * otherwise (a box lifted from another request, person, month or terminal, or not sealed to this centre).
 */
export function openReportPin(privatePkcs8b64: string, sealed: string, expected: PinBinding): string {
  const unbound = () => new ReportPinError('REPORT_PIN_UNBOUND', 'the sealed PIN does not belong to this report request');
  let content: z.infer<typeof SealedContent>;
  try {
    content = SealedContent.parse(JSON.parse(openSealed(privatePkcs8b64, sealed, SEAL_PURPOSE).toString('utf8')));
  } catch {
    throw unbound();
  }
  const same = content.terminalId === expected.terminalId && content.requestId === expected.requestId && content.personId === expected.personId && content.month === expected.month;
  if (!same) throw unbound();
  return content.pin;
}
