// Sealed index snapshot: the coarse codes and entry ids of a whole gallery as one blob, so start-up does not open
// every template. Why: opening 10⁵ per-row tweetnacl secretboxes of 1.5 KB templates costs ≈ 2 s (measured here:
// 72 MB/s, 22 µs per row), past the 1 s budget; the snapshot is ≈ 290 B per palm and is sealed with AES-256-GCM
// (node:crypto, hardware AES: GB/s, where tweetnacl does ≈ 90 MB/s even on one big box). Its key is derived by
// HKDF from the store's secretbox key, so the store keeps one secret. Full templates stay sealed per row and
// stage 2 opens only its K candidates.
// Layout: 'PVIX' | u8 version | 3 × u8 0 | 12-byte IV | 16-byte tag | ciphertext; the first 20 bytes are
// authenticated as associated data. Plaintext: u32 length | u32 count | u32 code bytes | codes | u32 n | meta JSON.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { PalmPayError } from '../../util/errors.ts';
import type { Hand } from '../types.ts';
import { ENTRY_CODE_BYTES } from './kernel/kernel.ts';

/**
 * 2: entry codes are plain code + unstable mask (128 bytes, like version 1's codes but not their meaning): a
 * version-1 snapshot is refused, and the kiosk rebuilds it from the rows.
 */
export const SNAPSHOT_VERSION = 2;
const MAGIC = [0x50, 0x56, 0x49, 0x58];
const HEADER = 4 + 4 + 12 + 16;

export interface SnapshotEntry {
  entryId: string;
  personId: string;
  hand: Hand;
  /** Optional digest of the stored template the code was made from (lets the loader spot a replaced row). */
  digest?: string;
}

export class SnapshotError extends PalmPayError {
  constructor(message: string) {
    super('IDENTIFY_SNAPSHOT_INVALID', `index snapshot rejected: ${message}`);
  }
}

/** The snapshot key: HKDF-SHA-256 of the store key, bound to this purpose. */
function snapshotKey(storeKey: Uint8Array): Buffer {
  if (storeKey.length !== 32) throw new RangeError('the store key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', storeKey, 'palmpay', 'identify index snapshot v1', 32));
}

export function sealSnapshot(entries: readonly SnapshotEntry[], codes: Uint8Array, key: Uint8Array): Uint8Array {
  if (codes.length !== entries.length * ENTRY_CODE_BYTES) throw new RangeError('codes do not match the entries');
  const meta = new TextEncoder().encode(JSON.stringify(entries.map((e) => (e.digest === undefined ? [e.entryId, e.personId, e.hand] : [e.entryId, e.personId, e.hand, e.digest]))));
  const plain = new Uint8Array(16 + codes.length + meta.length);
  const pv = new DataView(plain.buffer);
  pv.setUint32(0, plain.length, true);
  pv.setUint32(4, entries.length, true);
  pv.setUint32(8, ENTRY_CODE_BYTES, true);
  plain.set(codes, 12);
  pv.setUint32(12 + codes.length, meta.length, true);
  plain.set(meta, 16 + codes.length);
  const out = new Uint8Array(HEADER + plain.length);
  out.set(MAGIC, 0);
  out[4] = SNAPSHOT_VERSION;
  const iv = randomBytes(12);
  out.set(iv, 8);
  const cipher = createCipheriv('aes-256-gcm', snapshotKey(key), iv);
  cipher.setAAD(out.subarray(0, 20));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  out.set(cipher.getAuthTag(), 20);
  out.set(body, HEADER);
  return out;
}

export function openSnapshot(bytes: Uint8Array, key: Uint8Array): { entries: SnapshotEntry[]; codes: Uint8Array } {
  if (bytes.length < HEADER || MAGIC.some((m, i) => bytes[i] !== m)) throw new SnapshotError('not an index snapshot');
  if (bytes[4] !== SNAPSHOT_VERSION) throw new SnapshotError(`version ${bytes[4]} is not supported (this build reads ${SNAPSHOT_VERSION})`);
  let plain: Uint8Array;
  try {
    const decipher = createDecipheriv('aes-256-gcm', snapshotKey(key), bytes.subarray(8, 20));
    decipher.setAAD(bytes.subarray(0, 20));
    decipher.setAuthTag(bytes.subarray(20, HEADER));
    plain = new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(HEADER)), decipher.final()]));
  } catch {
    throw new SnapshotError('authentication failed (wrong key or altered bytes)');
  }
  const total = plain.length;
  const pv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  if (total < 16 || pv.getUint32(0, true) !== total) throw new SnapshotError('truncated or padded');
  const count = pv.getUint32(4, true);
  if (pv.getUint32(8, true) !== ENTRY_CODE_BYTES || 16 + count * ENTRY_CODE_BYTES > total) throw new SnapshotError('code size mismatch');
  const codes = plain.subarray(12, 12 + count * ENTRY_CODE_BYTES);
  const metaLen = pv.getUint32(12 + count * ENTRY_CODE_BYTES, true);
  if (16 + count * ENTRY_CODE_BYTES + metaLen !== total) throw new SnapshotError('length mismatch');
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder().decode(plain.subarray(16 + count * ENTRY_CODE_BYTES)));
  } catch {
    throw new SnapshotError('bad entry list');
  }
  if (!Array.isArray(meta) || meta.length !== count) throw new SnapshotError('entry count mismatch');
  const entries = meta.map((m: unknown) => {
    if (!Array.isArray(m) || typeof m[0] !== 'string' || typeof m[1] !== 'string' || !['left', 'right', 'unknown'].includes(m[2]) || (m[3] !== undefined && typeof m[3] !== 'string')) {
      throw new SnapshotError('bad entry');
    }
    return { entryId: m[0], personId: m[1], hand: m[2] as Hand, ...(typeof m[3] === 'string' ? { digest: m[3] } : {}) };
  });
  return { entries, codes };
}
