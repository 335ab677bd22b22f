// Stage 1 is exact: the kernel's top K equals a brute-force sort of every live entry, through adds, updates,
// removals, growth, and searches that run in chunks while the index changes.
import { describe, expect, it } from 'vitest';
import { CoarseIndex } from '../../src/biometrics/identify/coarse-index.ts';
import { CODE_BYTES, NARROW_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { hamming, randomCode, rng, type Rng } from '../../src/biometrics/identify/random.ts';

/** A code at a small random distance from `base` (so galleries have near neighbours and ties). */
function near(r: Rng, base: Uint8Array, flips: number): Uint8Array {
  const c = base.slice();
  for (let i = 0; i < flips; i++) {
    const b = (r() * CODE_BYTES * 8) | 0;
    c[b >> 3]! ^= 1 << (b & 7);
  }
  return c;
}

/** Checks `got` against brute force over `live`: same sorted distances, each distance true, ids live and unique. */
function expectExact(got: Array<{ id: string; distance: number }>, live: Map<string, Uint8Array>, probe: Uint8Array, k: number): void {
  const all = [...live.entries()].map(([id, code]) => ({ id, distance: hamming(code, probe) })).sort((a, b) => a.distance - b.distance);
  const want = all.slice(0, k).map((x) => x.distance);
  expect(got.map((g) => g.distance)).toEqual(want);
  for (const g of got) expect(hamming(live.get(g.id)!, probe)).toBe(g.distance);
  expect(new Set(got.map((g) => g.id)).size).toBe(got.length);
}

function gallery(r: Rng, n: number, index: CoarseIndex, live: Map<string, Uint8Array>): void {
  const bases = Array.from({ length: 8 }, () => randomCode(r, CODE_BYTES));
  for (let i = 0; i < n; i++) {
    const code = r() < 0.3 ? near(r, bases[(r() * bases.length) | 0]!, (r() * 40) | 0) : randomCode(r, CODE_BYTES);
    index.upsert(`e${i}`, code);
    live.set(`e${i}`, code);
  }
}

describe('coarse index (stage 1)', () => {
  it('returns exactly the brute-force top K on random galleries (all K, sizes not multiples of 4, k > n)', () => {
    const r = rng(1);
    for (const n of [0, 1, 3, 7, 130, 2051]) {
      const index = new CoarseIndex(16); // starts small: exercises growth
      const live = new Map<string, Uint8Array>();
      gallery(r, n, index, live);
      for (const k of [1, 5, 64, 300]) {
        for (let q = 0; q < 3; q++) {
          const probe = n > 0 && q > 0 ? near(r, [...live.values()][(r() * n) | 0]!, 30) : randomCode(r, CODE_BYTES);
          expectExact(index.nearest(probe, k), live, probe, k);
        }
      }
    }
  });

  it('with several probe codes, ranks by the smallest distance over them, exactly', () => {
    const r = rng(6);
    const index = new CoarseIndex(32);
    const live = new Map<string, Uint8Array>();
    gallery(r, 777, index, live);
    for (const np of [2, 5, 16]) {
      const probes = Array.from({ length: np }, (_, j) => (j === 1 ? near(r, live.get('e500')!, 20) : randomCode(r, CODE_BYTES)));
      const got = index.nearest(probes, 25);
      const want = [...live.entries()]
        .map(([id, code]) => ({ id, distance: Math.min(...probes.map((p) => hamming(code, p))) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, 25);
      expect(got.map((g) => g.distance)).toEqual(want.map((w) => w.distance));
      expect(got[0]!.id).toBe('e500');
    }
    expect(() => index.nearest(Array.from({ length: 17 }, () => randomCode(r, CODE_BYTES)), 5)).toThrow(RangeError);
  });

  it('narrow codes (zero past NARROW_BYTES, like BOCV) take the narrow scan and stay exact, also once a wide code or probe appears', () => {
    const r = rng(7);
    const narrow = (): Uint8Array => {
      const c = randomCode(r, CODE_BYTES);
      c.fill(0, NARROW_BYTES);
      return c;
    };
    const index = new CoarseIndex(32);
    const live = new Map<string, Uint8Array>();
    const ids = Array.from({ length: 1001 }, (_, i) => `n${i}`);
    const codes = ids.map(() => narrow());
    index.upsertMany(ids, Buffer.concat(codes));
    ids.forEach((id, i) => live.set(id, codes[i]!));
    const check = (probes: Uint8Array[]): void => {
      const got = index.nearest(probes, 20);
      const want = [...live.values()].map((code) => Math.min(...probes.map((p) => hamming(code, p)))).sort((a, b) => a - b);
      expect(got.map((g) => g.distance)).toEqual(want.slice(0, 20));
    };
    // 1…9 probes: every remainder after the groups of 4.
    for (let np = 1; np <= 9; np++) check(Array.from({ length: np }, (_, j) => (j === 0 ? near(r, live.get('n7')!, 30) : narrow())));
    check([narrow(), randomCode(r, CODE_BYTES)]); // a wide probe on a narrow gallery
    const wide = randomCode(r, CODE_BYTES);
    index.upsert('wide', wide);
    live.set('wide', wide);
    for (const np of [1, 5]) check(Array.from({ length: np }, (_, j) => (j === 0 ? near(r, wide, 10) : narrow())));
  });

  it('breaks ties on the slot: identical codes give a deterministic, exact answer', () => {
    const index = new CoarseIndex();
    const code = randomCode(rng(2), CODE_BYTES);
    for (let i = 0; i < 100; i++) index.upsert(`same${i}`, code);
    const got = index.nearest(code, 10);
    expect(got.map((g) => g.id)).toEqual(Array.from({ length: 10 }, (_, i) => `same${i}`));
    expect(got.every((g) => g.distance === 0)).toBe(true);
  });

  it('stays exact through random add / update / remove with searches in between', () => {
    const r = rng(3);
    const index = new CoarseIndex(8);
    const live = new Map<string, Uint8Array>();
    gallery(r, 500, index, live);
    let next = 500;
    for (let step = 0; step < 400; step++) {
      const op = r();
      const ids = [...live.keys()];
      if (op < 0.35) {
        const code = randomCode(r, CODE_BYTES);
        index.upsert(`e${next}`, code);
        live.set(`e${next++}`, code);
      } else if (op < 0.55 && ids.length > 0) {
        const id = ids[(r() * ids.length) | 0]!;
        const code = near(r, live.get(id)!, 5);
        index.upsert(id, code);
        live.set(id, code);
      } else if (op < 0.85 && ids.length > 0) {
        const id = ids[(r() * ids.length) | 0]!;
        expect(index.remove(id)).toBe(true);
        live.delete(id);
      } else {
        const probe = ids.length > 0 && r() < 0.5 ? near(r, live.get(ids[0]!)!, 10) : randomCode(r, CODE_BYTES);
        expectExact(index.nearest(probe, 20), live, probe, 20);
      }
      expect(index.size).toBe(live.size);
    }
    expect(index.remove('nobody')).toBe(false);
  });

  it('chunked searches: removals meanwhile are never returned, slots do not move under a running search', () => {
    const r = rng(4);
    const index = new CoarseIndex(64);
    const live = new Map<string, Uint8Array>();
    gallery(r, 1000, index, live);
    const probe = near(r, live.get('e999')!, 3); // the best match lives in the LAST slot
    const a = index.begin(probe, 50);
    const b = index.begin(randomCode(r, CODE_BYTES), 5); // a second search interleaved with the first
    a.step(300);
    b.step(1000);
    // Remove entries on both sides of the scan position; with swap-remove e999 would jump into a scanned slot.
    for (const id of ['e0', 'e10', 'e500', 'e998']) {
      index.remove(id);
      live.delete(id);
    }
    index.upsert('late', probe); // added after begin(): not visited by `a`
    a.step(300);
    a.step(10_000);
    const got = a.finish();
    expect(got[0]!.id).toBe('e999');
    expect(got.some((g) => ['e0', 'e10', 'e500', 'e998', 'late'].includes(g.id))).toBe(false);
    expect(index.size).toBe(live.size + 1);
    b.finish(); // the last search ends: tombstones are compacted
    expect(index.slots).toBe(index.size);
    live.set('late', probe);
    expectExact(index.nearest(probe, 30), live, probe, 30);
  });

  it('rejects codes of the wrong size and bad k', () => {
    const index = new CoarseIndex();
    expect(() => index.upsert('x', new Uint8Array(10))).toThrow(RangeError);
    expect(() => index.nearest(new Uint8Array(CODE_BYTES), 0)).toThrow(RangeError);
  });
});
