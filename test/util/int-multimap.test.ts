// The palm index's digest table (util/int-multimap.ts) against a Map of Sets, through random adds and deletes that
// crowd few keys into long runs, wrap around the table's end and make it grow.
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/biometrics/identify/random.ts';
import { fmix32, IntMap, IntMultiMap } from '../../src/util/int-multimap.ts';

function sorted(xs: Iterable<number>): number[] {
  return [...xs].sort((a, b) => a - b);
}

describe('IntMultiMap', () => {
  it.each([
    [300, 40],
    [40, 6],
  ])('holds exactly the pairs a Map of Sets holds, through 20,000 random adds and deletes (%i keys, %i values)', (keyCount, valueCount) => {
    const r = rng(41 + keyCount);
    const map = new IntMultiMap(4);
    const ref = new Map<number, Set<number>>();
    // Random keys (negative ones too), each for up to valueCount values: shared keys, runs that cross each other and
    // the table's end; the smaller table is near half full most of the time.
    const keys = Array.from({ length: keyCount }, () => (Math.floor(r() * 2 ** 32) | 0));
    for (let step = 0; step < 20_000; step++) {
      const key = keys[Math.floor(r() * keys.length)]!;
      const value = Math.floor(r() * valueCount);
      const held = ref.get(key) ?? new Set<number>();
      if (r() < 0.55) {
        map.add(key, value);
        held.add(value);
        ref.set(key, held);
      } else {
        expect(map.delete(key, value)).toBe(held.delete(value));
      }
      if (step % 13 === 0) for (const k of keys) expect(sorted(map.get(k)), `key ${k} at step ${step}`).toEqual(sorted(ref.get(k) ?? []));
    }
    let pairs = 0;
    for (const k of keys) {
      expect(sorted(map.get(k))).toEqual(sorted(ref.get(k) ?? []));
      pairs += ref.get(k)?.size ?? 0;
    }
    expect(map.size).toBe(pairs);
  });

  it('a deletion keeps a pair that wrapped past the end of the table where its home slot finds it', () => {
    // Seed 0 and 16 slots: a key's home slot is the top 4 bits of fmix32(key); keys found for the slots wanted.
    const seed = 0;
    const map = new IntMultiMap(8, seed);
    const used = new Set<number>();
    const at = (slot: number) => {
      for (let k = 1; ; k++) if (!used.has(k) && fmix32(k ^ seed) >>> 28 === slot) return used.add(k), k;
    };
    const [k14, k15, k0, k14b] = [at(14), at(15), at(0), at(14)];
    map.add(k14, 1); // slot 14
    map.add(k15, 2); // slot 15
    map.add(k0, 3); // slot 0: the run 14, 15, 0 wraps
    map.add(k14b, 4); // slot 1, home 14: must move back when 14 empties
    expect(map.delete(k14, 1)).toBe(true);
    expect(map.get(k15)).toEqual([2]);
    expect(map.get(k0)).toEqual([3]);
    expect(map.get(k14b)).toEqual([4]);
    expect(map.size).toBe(3);
  });

  it('adds a pair once, deletes what it holds only, and takes non-negative 31-bit values only', () => {
    const map = new IntMultiMap();
    map.add(7, 1);
    map.add(7, 1);
    map.add(7, 2);
    expect(sorted(map.get(7))).toEqual([1, 2]);
    expect(map.size).toBe(2);
    expect(map.delete(7, 3)).toBe(false);
    expect(map.delete(8, 1)).toBe(false);
    expect(map.delete(7, 1)).toBe(true);
    expect(map.get(7)).toEqual([2]);
    expect(() => map.add(1, -1)).toThrow(RangeError);
    expect(() => map.add(1, 2 ** 31)).toThrow(RangeError);
    expect(() => map.add(1, 1.5)).toThrow(RangeError);
    // Keys are 32-bit integers: one outside is refused, not wrapped onto another key.
    expect(() => map.add(2 ** 31, 1)).toThrow(RangeError);
    expect(() => map.get(1.5)).toThrow(RangeError);
    expect(() => map.first(-(2 ** 31) - 1)).toThrow(RangeError);
    expect(map.size).toBe(1);
  });
});

describe('IntMap', () => {
  it('holds one value a key, as a Map does, through 20,000 random sets and deletes', () => {
    const r = rng(43);
    const map = new IntMap(4);
    const ref = new Map<number, number>();
    const keys = Array.from({ length: 200 }, () => (Math.floor(r() * 2 ** 32) | 0));
    for (let step = 0; step < 20_000; step++) {
      const key = keys[Math.floor(r() * keys.length)]!;
      if (r() < 0.6) {
        const value = Math.floor(r() * 1000);
        map.set(key, value);
        ref.set(key, value);
      } else {
        expect(map.delete(key)).toBe(ref.delete(key));
      }
      expect(map.size).toBe(ref.size);
      if (step % 13 === 0) for (const k of keys) {
        expect(map.get(k)).toBe(ref.get(k));
        expect(map.has(k)).toBe(ref.has(k));
      }
    }
  });
});
