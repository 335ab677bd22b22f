// The sealed index snapshot: round trip, and every kind of damage is refused with a typed error.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { randomCode, rng } from '../../src/biometrics/identify/random.ts';
import { openSnapshot, sealSnapshot, SnapshotError } from '../../src/biometrics/identify/snapshot.ts';

const key = new Uint8Array(randomBytes(32));
const r = rng(5);
const entries = Array.from({ length: 300 }, (_, i) => ({ entryId: `e${i}`, personId: `p${i >> 1}`, hand: i % 2 ? ('right' as const) : ('left' as const) }));
const codes = new Uint8Array(entries.length * ENTRY_CODE_BYTES);
entries.forEach((_, i) => codes.set(randomCode(r, ENTRY_CODE_BYTES), i * ENTRY_CODE_BYTES));

describe('index snapshot', () => {
  it('round-trips entries and codes', () => {
    const got = openSnapshot(sealSnapshot(entries, codes, key), key);
    expect(got.entries).toEqual(entries);
    expect(Buffer.from(got.codes).equals(Buffer.from(codes))).toBe(true);
  });

  it('refuses a wrong key, any altered byte, truncation and an unknown version', () => {
    const sealed = sealSnapshot(entries, codes, key);
    const refuse = (bytes: Uint8Array, k = key) => expect(() => openSnapshot(bytes, k)).toThrow(SnapshotError);
    refuse(sealed, new Uint8Array(randomBytes(32)));
    for (const at of [0, 5, 10, 25, 40, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 1;
      refuse(bad);
    }
    refuse(sealed.subarray(0, sealed.length - 100));
    // Version 1 held 128-byte codes of the old layout: refused (the kiosk rebuilds the snapshot from the rows).
    for (const v of [1, 3]) {
      const other = sealed.slice();
      other[4] = v;
      expect(() => openSnapshot(other, key)).toThrow(new RegExp(`version ${v}`));
    }
  });
});
