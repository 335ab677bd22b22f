// Stage 1: the exact scan's top K equals a brute-force sort of every live entry, through adds, updates, removals,
// growth, and searches that run in chunks while the index changes; the screened search equals its plain-JS
// reference (same blocks, sample and cut-off) and keeps near entries.
import { describe, expect, it } from 'vitest';
import { unstableMask } from '../../src/biometrics/identify/coarse-code.ts';
import { CoarseIndex, type ScreenPolicy } from '../../src/biometrics/identify/coarse-index.ts';
import { jsTopK } from '../../src/biometrics/identify/js-scan.ts';
import { BLOCK_SLOTS, CODE_BYTES, ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { hamming, randomCode, rng, type Rng } from '../../src/biometrics/identify/random.ts';
import { IntMap } from '../../src/util/int-multimap.ts';

/** Scores every entry exactly (what the tests of the exact scan use). */
const EXACT: ScreenPolicy = { fraction: 1, minKeep: 0 };
/** A screen that keeps a share of each 16-slot block (so small galleries are screened, not scored in full). */
const DEFAULT_SCREEN_FOR_TEST: ScreenPolicy = { fraction: 1 / 4, minKeep: 8 };

/** An entry code for a plain code: the plain code, then the unstable mask of it and two variants near it. */
function entryOf(r: Rng, plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENTRY_CODE_BYTES);
  out.set(plain, 0);
  out.set(unstableMask([plain, near(r, plain, 12), near(r, plain, 12)]), CODE_BYTES);
  return out;
}

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
function expectExact<Id>(got: Array<{ id: Id; distance: number }>, live: Map<Id, Uint8Array>, probe: Uint8Array, k: number): void {
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
    index.upsert(`e${i}`, entryOf(r, code));
    live.set(`e${i}`, code);
  }
}

/** The index's codes as jsTopK reads them. */
function jsGallery(index: CoarseIndex) {
  const k = index.scanKernel;
  const n = index.slots;
  const g = { codes: new Uint32Array((n * ENTRY_CODE_BYTES) / 4), count: n };
  for (let s = 0; s < n; s++) g.codes.set(new Uint32Array(k.code(s).slice().buffer), (s * ENTRY_CODE_BYTES) / 4);
  return g;
}

const words = (probes: Uint8Array[]) => probes.map((p) => new Uint32Array(p.slice().buffer));

describe('coarse index (stage 1)', () => {
  it('returns exactly the brute-force top K on random galleries (all K, sizes not multiples of 4, k > n)', () => {
    const r = rng(1);
    for (const n of [0, 1, 3, 7, 130, 2051]) {
      const index = new CoarseIndex(16, EXACT); // starts small: exercises growth
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
    const index = new CoarseIndex(32, EXACT);
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

  it('breaks ties on the slot: identical codes give a deterministic, exact answer', () => {
    const index = new CoarseIndex();
    const code = randomCode(rng(2), CODE_BYTES);
    const entry = entryOf(rng(2), code);
    for (let i = 0; i < 100; i++) index.upsert(`same${i}`, entry);
    const got = index.nearest(code, 10);
    expect(got.map((g) => g.id)).toEqual(Array.from({ length: 10 }, (_, i) => `same${i}`));
    expect(got.every((g) => g.distance === 0)).toBe(true);
  });

  it('stays exact through random add / update / remove with searches in between', () => {
    const r = rng(3);
    const index = new CoarseIndex(8, EXACT);
    const live = new Map<string, Uint8Array>();
    gallery(r, 500, index, live);
    let next = 500;
    for (let step = 0; step < 400; step++) {
      const op = r();
      const ids = [...live.keys()];
      if (op < 0.35) {
        const code = randomCode(r, CODE_BYTES);
        index.upsert(`e${next}`, entryOf(r, code));
        live.set(`e${next++}`, code);
      } else if (op < 0.55 && ids.length > 0) {
        const id = ids[(r() * ids.length) | 0]!;
        const code = near(r, live.get(id)!, 5);
        index.upsert(id, entryOf(r, code));
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

  it('upsertMany of fresh ids, of an id already present, and of an id twice in one call equals upsert one by one', () => {
    const r = rng(5);
    for (const shape of ['fresh', 'present', 'twice'] as const) {
      const bulk = new CoarseIndex(8, EXACT);
      const single = new CoarseIndex(8, EXACT);
      const live = new Map<string, Uint8Array>();
      const first = Array.from({ length: 30 }, (_, i) => ({ id: `a${i}`, code: randomCode(r, CODE_BYTES) }));
      const second = Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, code: randomCode(r, CODE_BYTES) }));
      if (shape === 'present') second[17]!.id = 'a4';
      if (shape === 'twice') second[23]!.id = 'b3';
      for (const batch of [first, second]) {
        const entries = batch.map((e) => entryOf(r, e.code));
        bulk.upsertMany(batch.map((e) => e.id), Buffer.concat(entries));
        batch.forEach((e, i) => {
          single.upsert(e.id, entries[i]!);
          live.set(e.id, e.code);
        });
      }
      expect(bulk.size, shape).toBe(live.size);
      for (const [id] of live) expect(bulk.codeOf(id), `${shape} ${id}`).toEqual(single.codeOf(id));
      const probe = near(r, live.get('a4')!, 6);
      expectExact(bulk.nearest(probe, 15), live, probe, 15);
      expect(bulk.nearest(probe, 15)).toEqual(single.nearest(probe, 15));
    }
  });

  it('on a typed slot map (integer ids, as the centre) answers as on a Map through random adds, updates, removals and chunked searches', async () => {
    const r = rng(8);
    const typed = new CoarseIndex<number>(8, DEFAULT_SCREEN_FOR_TEST, 16, new IntMap(4));
    const mapped = new CoarseIndex<number>(8, DEFAULT_SCREEN_FOR_TEST, 16);
    const live: number[] = [];
    for (let step = 0; step < 3000; step++) {
      const op = r();
      if (op < 0.45 || live.length === 0) {
        const id = Math.floor(r() * 2 ** 31);
        const entry = entryOf(r, randomCode(r, CODE_BYTES));
        typed.upsert(id, entry);
        mapped.upsert(id, entry);
        if (!live.includes(id)) live.push(id);
      } else if (op < 0.55) {
        const id = live[Math.floor(r() * live.length)]!;
        const entry = entryOf(r, randomCode(r, CODE_BYTES));
        typed.upsertMany([id], entry);
        mapped.upsertMany([id], entry);
      } else if (op < 0.8) {
        const id = live.splice(Math.floor(r() * live.length), 1)[0]!;
        expect(typed.remove(id)).toBe(true);
        expect(mapped.remove(id)).toBe(true);
      } else {
        const probe = randomCode(r, CODE_BYTES);
        // A removal while the searches run: both keep it as a tombstone, compacted once they end.
        const [a, b] = [typed.nearestChunked(probe, 12, 16), mapped.nearestChunked(probe, 12, 16)];
        if (live.length > 1) {
          const id = live.pop()!;
          typed.remove(id);
          mapped.remove(id);
        }
        expect(await a).toEqual(await b);
      }
      expect(typed.size).toBe(mapped.size);
      expect(typed.slots).toBe(mapped.slots);
    }
    for (const id of live) expect(typed.codeOf(id)).toEqual(mapped.codeOf(id));
    expect(typed.remove(-5)).toBe(false);
  });

  it('upsertMany that cannot grow the kernel leaves the index as it was (no id for a slot never filled), on a Map and a typed map', () => {
    for (const slotMap of [undefined, new IntMap()]) {
      const r = rng(9);
      const index = new CoarseIndex<number>(4, EXACT, 16, slotMap);
      const codes = new Map<number, Uint8Array>();
      for (const id of [1, 2, 3]) {
        codes.set(id, randomCode(r, CODE_BYTES));
        index.upsert(id, entryOf(r, codes.get(id)!));
      }
      const kernel = index.scanKernel;
      const grow = kernel.ensureCapacity.bind(kernel);
      kernel.ensureCapacity = () => {
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      };
      const fresh = [10, 11].map((id) => ({ id, code: randomCode(r, CODE_BYTES) }));
      expect(() => index.upsertMany([10, 11], Buffer.concat(fresh.map((f) => entryOf(r, f.code))))).toThrow(RangeError);
      kernel.ensureCapacity = grow;
      expect({ size: index.size, slots: index.slots, has10: index.has(10) }).toEqual({ size: 3, slots: 3, has10: false });
      // The retry, as the palm index's poller makes it: the removals of ids never added, then the page again.
      expect(index.remove(10)).toBe(false);
      index.upsertMany([10, 11], Buffer.concat(fresh.map((f) => entryOf(r, f.code))));
      for (const f of fresh) codes.set(f.id, f.code);
      // Entry 3 leaves: every other entry is still found first by its own code.
      expect(index.remove(3)).toBe(true);
      codes.delete(3);
      for (const [id, code] of codes) expect(index.nearestExact(code, 1)[0]?.id).toBe(id);
      expectExact(index.nearestExact(codes.get(10)!, 8), codes, codes.get(10)!, 8);
    }
  });

  it('chunked searches: removals meanwhile are never returned, slots do not move under a running search', () => {
    const r = rng(4);
    const index = new CoarseIndex(64, EXACT);
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
    index.upsert('late', entryOf(r, probe)); // added after begin(): not visited by `a`
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

  it('rejects codes of the wrong size, bad k and a bad screen policy', () => {
    const index = new CoarseIndex();
    expect(() => index.upsert('x', new Uint8Array(10))).toThrow(RangeError);
    expect(() => index.upsert('x', new Uint8Array(CODE_BYTES))).toThrow(RangeError); // a plain code is not an entry code
    expect(() => index.nearest(new Uint8Array(CODE_BYTES), 0)).toThrow(RangeError);
    expect(() => new CoarseIndex(16, { fraction: 0, minKeep: 10 })).toThrow(RangeError);
    expect(() => new CoarseIndex(16, { fraction: 0.5, minKeep: -1 })).toThrow(RangeError);
  });

  it('screening distance: the probe bits that differ from the plain code where the entry is stable', () => {
    const r = rng(11);
    const index = new CoarseIndex(64);
    const codes = Array.from({ length: 40 }, () => entryOf(r, randomCode(r, CODE_BYTES)));
    codes.forEach((c, i) => index.upsert(`s${i}`, c));
    const probe = randomCode(r, CODE_BYTES);
    index.scanKernel.setProbes([probe]);
    const got = index.scanKernel.screenDistances(0, 40);
    codes.forEach((c, i) => {
      let want = 0;
      for (let b = 0; b < CODE_BYTES; b++) {
        const x = (probe[b]! ^ c[b]!) & ~c[CODE_BYTES + b]! & 0xff;
        for (let v = x; v; v >>= 1) want += v & 1;
      }
      expect(got[i], `slot ${i}`).toBe(want);
    });
  });

  it('screened search = its plain-JS reference, over several blocks, sizes not multiples of 4, several policies', () => {
    const r = rng(12);
    for (const n of [7, 130, 2051, BLOCK_SLOTS + 1003]) {
      for (const screen of [{ fraction: 1 / 128, minKeep: 0 }, { fraction: 1 / 16, minKeep: 64 }]) {
        const index = new CoarseIndex(16, screen);
        const live = new Map<string, Uint8Array>();
        gallery(r, n, index, live);
        const g = jsGallery(index);
        for (let q = 0; q < 3; q++) {
          const target = `e${(r() * n) | 0}`;
          const probes = [near(r, live.get(target)!, 20), randomCode(r, CODE_BYTES), near(r, live.get(target)!, 30)];
          const got = index.nearest(probes, 16);
          const want = jsTopK(g, words(probes), 16, screen);
          expect(got.map((c) => c.distance), `n=${n} fraction=${screen.fraction}`).toEqual(want.map((w) => w.distance));
          expect(got.map((c) => c.id)).toEqual(want.map((w) => `e${w.slot}`));
          // The entry the probe was made from is close on both codes: the screen keeps it.
          expect(got[0]!.id).toBe(target);
        }
      }
    }
  });

  it('a gallery up to minKeep entries is scored exactly in full; beyond it the screen scores only its share', () => {
    const r = rng(13);
    const small = new CoarseIndex(16, { fraction: 1 / 128, minKeep: 512 });
    const live = new Map<string, Uint8Array>();
    gallery(r, 500, small, live);
    const probe = randomCode(r, CODE_BYTES);
    expectExact(small.nearest(probe, 20), live, probe, 20);
    const big = new CoarseIndex(16, { fraction: 1 / 128, minKeep: 0 });
    gallery(r, 20_000, big, new Map());
    const search = big.begin(probe, 20);
    search.step(Infinity);
    search.finish();
    expect(search.refined).toBeGreaterThan(20_000 / 256);
    expect(search.refined).toBeLessThan(20_000 / 32);
  });

  it('a screened search in chunks gives the same answer as in one go, across blocks', () => {
    const r = rng(14);
    const index = new CoarseIndex(16, { fraction: 1 / 64, minKeep: 0 });
    const live = new Map<string, Uint8Array>();
    gallery(r, 2 * BLOCK_SLOTS + 77, index, live);
    const target = `e${BLOCK_SLOTS + 40}`; // in the second block
    const probes = [near(r, live.get(target)!, 25)];
    const whole = index.nearest(probes, 10);
    const chunked = index.begin(probes, 10);
    while (!chunked.step(1000)) {
      /* whole blocks per step */
    }
    expect(chunked.finish()).toEqual(whole);
    expect(whole[0]!.id).toBe(target);
  });
});
