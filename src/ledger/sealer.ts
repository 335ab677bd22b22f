// Sealing biometric bytes at rest under the terminal's data key, bound to their row id (a sealed template
// copied onto another row does not open there). The first byte names the format; open() reads any format.
// - 0x01 (default, as the issue asks): tweetnacl secretbox (XSalsa20-Poly1305).
//   [0x01][24-byte nonce][secretbox([u8 n][n-byte id][template])]
// - 0x02 (opt-in, for the 1:N bulk load): AES-256-GCM in node:crypto (native, ~4-6x faster to open), key =
//   HKDF-SHA256(data key, "palmpay templates aes-256-gcm"), the id as additional data.
//   [0x02][12-byte IV][ciphertext][16-byte tag]
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { PalmPayError } from '../util/errors.ts';
import type { TemplateOpener } from '../store/templates.ts';

export const SEAL_FORMAT_SECRETBOX = 0x01;
export const SEAL_FORMAT_AES256GCM = 0x02;
export type SealFormat = 'secretbox' | 'aes-256-gcm';
const NONCE = nacl.secretbox.nonceLength;

export class TemplateUnsealError extends PalmPayError {
  constructor(boundTo: string, why: string) {
    super('TEMPLATE_UNSEAL_FAILED', `template ${boundTo} does not decrypt (${why}): this person cannot be identified here until it is re-enrolled or re-synced`);
  }
}

export interface Sealer extends TemplateOpener {
  seal(plain: Uint8Array, boundTo: string): Uint8Array;
  open(sealed: Uint8Array, boundTo: string): Uint8Array;
  /** A 32-byte subkey of the data key for one named purpose (HKDF-SHA256), e.g. the 1:N index snapshot; the data key itself never leaves. */
  deriveKey(purpose: string): Uint8Array;
}

/** A sealer over a 32-byte data key; seals in `format`, opens either. The key stays inside this closure. */
export function secretboxSealer(dataKey: Uint8Array, format: SealFormat = 'secretbox'): Sealer {
  if (dataKey.length !== nacl.secretbox.keyLength) throw new PalmPayError('KEY_FORMAT', 'the data key must be 32 bytes');
  const key = Uint8Array.from(dataKey);
  const gcmKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'palmpay templates aes-256-gcm', 32));
  const sealGcm = (plain: Uint8Array, boundTo: string): Uint8Array => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', gcmKey, iv);
    c.setAAD(Buffer.from(boundTo, 'utf8'));
    return Buffer.concat([Buffer.of(SEAL_FORMAT_AES256GCM), iv, c.update(plain), c.final(), c.getAuthTag()]);
  };
  const openGcm = (sealed: Uint8Array, boundTo: string): Uint8Array => {
    if (sealed.length < 1 + 12 + 16) throw new TemplateUnsealError(boundTo, 'too short');
    const buf = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    try {
      const d = createDecipheriv('aes-256-gcm', gcmKey, buf.subarray(1, 13));
      d.setAAD(Buffer.from(boundTo, 'utf8'));
      d.setAuthTag(buf.subarray(buf.length - 16));
      const out = d.update(buf.subarray(13, buf.length - 16));
      d.final(); // GCM: returns nothing, throws when the tag does not match
      return out;
    } catch {
      throw new TemplateUnsealError(boundTo, 'wrong data key, damaged bytes, or it belongs to another row');
    }
  };
  return {
    deriveKey(purpose) {
      return new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), `palmpay subkey: ${purpose}`, 32));
    },
    seal(plain, boundTo) {
      if (format === 'aes-256-gcm') return sealGcm(plain, boundTo);
      const id = Buffer.from(boundTo, 'utf8');
      if (id.length > 255) throw new PalmPayError('KEY_FORMAT', 'sealed ids are at most 255 bytes');
      const msg = new Uint8Array(1 + id.length + plain.length);
      msg[0] = id.length;
      msg.set(id, 1);
      msg.set(plain, 1 + id.length);
      const nonce = nacl.randomBytes(NONCE);
      const box = nacl.secretbox(msg, nonce, key);
      const out = new Uint8Array(1 + NONCE + box.length);
      out[0] = SEAL_FORMAT_SECRETBOX;
      out.set(nonce, 1);
      out.set(box, 1 + NONCE);
      return out;
    },
    open(sealed, boundTo) {
      if (sealed[0] === SEAL_FORMAT_AES256GCM) return openGcm(sealed, boundTo);
      if (sealed.length < 1 + NONCE + nacl.secretbox.overheadLength + 1) throw new TemplateUnsealError(boundTo, 'too short');
      if (sealed[0] !== SEAL_FORMAT_SECRETBOX) throw new TemplateUnsealError(boundTo, `unknown seal format ${sealed[0]}`);
      const msg = nacl.secretbox.open(sealed.subarray(1 + NONCE), sealed.subarray(1, 1 + NONCE), key);
      if (msg === null) throw new TemplateUnsealError(boundTo, 'wrong data key or damaged bytes');
      const n = msg[0]!;
      if (Buffer.from(msg.subarray(1, 1 + n)).toString('utf8') !== boundTo) throw new TemplateUnsealError(boundTo, 'it belongs to another row');
      return msg.subarray(1 + n);
    },
  };
}
