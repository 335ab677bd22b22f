// Sealing biometric bytes at rest: tweetnacl secretbox (XSalsa20-Poly1305) under the terminal's data key.
// Sealed layout: [0x01 format][24-byte nonce][secretbox(plaintext)], where plaintext = [u8 n][n-byte id][template].
// Binding the row id inside the box means a sealed template copied onto another row does not open there.
import nacl from 'tweetnacl';
import { PalmPayError } from '../util/errors.ts';
import type { TemplateOpener } from '../store/templates.ts';

export const SEAL_FORMAT_SECRETBOX = 0x01;
const NONCE = nacl.secretbox.nonceLength;

export class TemplateUnsealError extends PalmPayError {
  constructor(boundTo: string, why: string) {
    super('TEMPLATE_UNSEAL_FAILED', `template ${boundTo} does not decrypt (${why}): this person cannot be identified here until it is re-enrolled or re-synced`);
  }
}

export interface Sealer extends TemplateOpener {
  seal(plain: Uint8Array, boundTo: string): Uint8Array;
  open(sealed: Uint8Array, boundTo: string): Uint8Array;
}

/** A sealer over a 32-byte data key. The key stays inside this closure. */
export function secretboxSealer(dataKey: Uint8Array): Sealer {
  if (dataKey.length !== nacl.secretbox.keyLength) throw new PalmPayError('KEY_FORMAT', 'the data key must be 32 bytes');
  const key = Uint8Array.from(dataKey);
  return {
    seal(plain, boundTo) {
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
