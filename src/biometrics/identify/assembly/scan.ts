// Stage-1 kernel of the 1:N search (AssemblyScript → WebAssembly; built by `npm run build:wasm`).
// One slot of SLOT_BYTES = 128 per enrolled entry in one contiguous run of linear memory: the plain coarse code
// (CODE_BYTES = 64, 512 bits), then its `unstable` mask. JS owns the layout and passes byte offsets. No allocator,
// no static data: the module only reads and writes what it is given.

const CODE_BYTES: usize = 64;
const SLOT_BYTES: usize = 128;

/** Is slot `i` dead (tombstoned)? One bit per slot. */
// @ts-ignore: decorator
@inline function isDead(dead: usize, i: u32): bool {
  return ((load<u8>(dead + (i >> 3)) >> (i & 7)) & 1) != 0;
}

/** Restores the max-heap property downwards from the root (heap of u64 keys = distance << 32 | slot). */
function siftDown(heap: usize, n: u32, key: u64): void {
  let i: u32 = 0;
  while (true) {
    let c: u32 = 2 * i + 1;
    if (c >= n) break;
    let ck = load<u64>(heap + (<usize>c << 3));
    if (c + 1 < n) {
      const rk = load<u64>(heap + (<usize>(c + 1) << 3));
      if (rk > ck) {
        c++;
        ck = rk;
      }
    }
    if (ck <= key) break;
    store<u64>(heap + (<usize>i << 3), ck);
    i = c;
  }
  store<u64>(heap + (<usize>i << 3), key);
}

/** Adds `key` to a max-heap of `n` < capacity keys. */
function siftUp(heap: usize, n: u32, key: u64): void {
  let i = n;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const pk = load<u64>(heap + (<usize>p << 3));
    if (pk >= key) break;
    store<u64>(heap + (<usize>i << 3), pk);
    i = p;
  }
  store<u64>(heap + (<usize>i << 3), key);
}

/** Offers slot `i` at distance `d` to the heap of the k smallest keys; returns the new heap size. */
// @ts-ignore: decorator
@inline function offer(d: u32, i: u32, dead: usize, k: u32, heap: usize, n: u32): u32 {
  const key = ((<u64>d) << 32) | <u64>i;
  if (n < k) {
    if (isDead(dead, i)) return n;
    siftUp(heap, n, key);
    return n + 1;
  }
  if (key < load<u64>(heap) && !isDead(dead, i)) siftDown(heap, n, key);
  return n;
}

/** Byte-lane popcounts of (code xor probe p), the code held in g0…g3 (64 bytes). */
// @ts-ignore: decorator
@inline function lanes(g0: v128, g1: v128, g2: v128, g3: v128, p: usize): v128 {
  // Each byte lane gains at most 8 per vector, 4 vectors → at most 32: no u8 overflow.
  let a = i8x16.add(i8x16.popcnt(v128.xor(g0, v128.load(p))), i8x16.popcnt(v128.xor(g1, v128.load(p, 16))));
  a = i8x16.add(a, i8x16.popcnt(v128.xor(g2, v128.load(p, 32))));
  return i8x16.add(a, i8x16.popcnt(v128.xor(g3, v128.load(p, 48))));
}

/** Byte lanes → 4 partial sums (i32 lanes): two multiply-adds (pmaddubsw, pmaddwd on x64). */
// @ts-ignore: decorator
@inline function quarter(a: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extadd_pairwise_i8x16_u(a), i16x8.splat(1));
}

/** Four vectors of 4 partial sums → their four totals, one per lane (a 4 × 4 transpose-add; no lane extraction). */
// @ts-ignore: decorator
@inline function sum4x4(d0: v128, d1: v128, d2: v128, d3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(d0, d1, 0, 4, 1, 5), i32x4.shuffle(d0, d1, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(d2, d3, 0, 4, 1, 5), i32x4.shuffle(d2, d3, 2, 6, 3, 7));
  return i32x4.add(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3));
}

/**
 * Smallest distance from the plain code at `c` to any of `np` probes stored back to back (the probe's shifted
 * variants). The code is read once and held in registers for all probes (the probes stay in L1), and the minimum
 * is taken in SIMD over groups of 4 probes.
 */
// @ts-ignore: decorator
@inline function minDist(c: usize, probes: usize, np: u32): u32 {
  const g0 = v128.load(c);
  const g1 = v128.load(c, 16);
  const g2 = v128.load(c, 32);
  const g3 = v128.load(c, 48);
  let m = i32x4.splat(-1); // u32 max in every lane
  let p = probes;
  let j: u32 = 0;
  for (; j + 4 <= np; j += 4, p += 4 * CODE_BYTES) {
    const d0 = quarter(lanes(g0, g1, g2, g3, p));
    const d1 = quarter(lanes(g0, g1, g2, g3, p + CODE_BYTES));
    const d2 = quarter(lanes(g0, g1, g2, g3, p + 2 * CODE_BYTES));
    const d3 = quarter(lanes(g0, g1, g2, g3, p + 3 * CODE_BYTES));
    m = i32x4.min_u(m, sum4x4(d0, d1, d2, d3));
  }
  for (; j < np; j++, p += CODE_BYTES) {
    // One probe: fold its 4 partial sums into every lane.
    let d = quarter(lanes(g0, g1, g2, g3, p));
    d = i32x4.add(d, i32x4.shuffle(d, d, 2, 3, 0, 1));
    m = i32x4.min_u(m, i32x4.add(d, i32x4.shuffle(d, d, 1, 0, 3, 2)));
  }
  m = i32x4.min_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = i32x4.min_u(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  return i32x4.extract_lane(m, 0);
}

/**
 * Exact search: merges slots [from, to) into a max-heap of the `k` smallest keys (distance << 32 | slot), which
 * already holds `n` keys; returns the new count. A slot's distance is the smallest over the `np` probe codes.
 * Keys are unique, so the result is exactly the first k of sorting all (distance, slot) pairs whatever the
 * visiting order. The tombstone bitmap is read only for a slot that would enter the heap.
 */
export function topKMulti(codes: usize, from: u32, to: u32, probes: usize, np: u32, dead: usize, k: u32, heap: usize, n: u32): u32 {
  for (let i = from; i < to; i++) n = offer(minDist(codes + (<usize>i) * SLOT_BYTES, probes, np), i, dead, k, heap, n);
  return n;
}

/**
 * Screening distance of one slot: the bits where the probe differs from the entry on a bit that is the same in all
 * of the entry's shifted variants. The unshifted variant is the plain code, so where they all agree its bit is
 * theirs: a mismatch is (probe ^ plain) & ~unstable. Byte lanes, at most 32 each.
 */
// @ts-ignore: decorator
@inline function screenLanes(c: usize, p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  let a = i8x16.add(i8x16.popcnt(v128.andnot(v128.xor(v128.load(c), p0), v128.load(c, 64))), i8x16.popcnt(v128.andnot(v128.xor(v128.load(c, 16), p1), v128.load(c, 80))));
  a = i8x16.add(a, i8x16.popcnt(v128.andnot(v128.xor(v128.load(c, 32), p2), v128.load(c, 96))));
  return i8x16.add(a, i8x16.popcnt(v128.andnot(v128.xor(v128.load(c, 48), p3), v128.load(c, 112))));
}

/**
 * Pass 1 of the screened search: the screening distance of every slot in [from, to) (to − from a multiple of 4;
 * the caller pads) as u16 to `out` (slot i at out + 2 (i − from)). The range is walked as four interleaved
 * streams (its four quarters side by side): one slot from each per step, so four independent streams of cache
 * misses are in flight. With one stream this loop waits on memory (measured here: ≈ 0.5 × the read floor); with
 * four it runs near the floor.
 */
export function screen(codes: usize, from: u32, to: u32, probe: usize, out: usize): void {
  const p0 = v128.load(probe);
  const p1 = v128.load(probe, 16);
  const p2 = v128.load(probe, 32);
  const p3 = v128.load(probe, 48);
  const q = (to - from) >> 2;
  const stride = (<usize>q) * SLOT_BYTES;
  const ostride = (<usize>q) << 1;
  let c = codes + (<usize>from) * SLOT_BYTES;
  let o = out;
  for (let i: u32 = 0; i < q; i++, c += SLOT_BYTES, o += 2) {
    const d = sum4x4(
      quarter(screenLanes(c, p0, p1, p2, p3)),
      quarter(screenLanes(c + stride, p0, p1, p2, p3)),
      quarter(screenLanes(c + 2 * stride, p0, p1, p2, p3)),
      quarter(screenLanes(c + 3 * stride, p0, p1, p2, p3)),
    );
    const d0 = i32x4.extract_lane(d, 0);
    const d1 = i32x4.extract_lane(d, 1);
    const d2 = i32x4.extract_lane(d, 2);
    const d3 = i32x4.extract_lane(d, 3);
    store<u16>(o, <u16>d0);
    store<u16>(o + ostride, <u16>d1);
    store<u16>(o + 2 * ostride, <u16>d2);
    store<u16>(o + 3 * ostride, <u16>d3);
  }
}

/**
 * Counts every `step`-th of `n` u16 distances into `hist` (u32 bins, zeroed by the caller): the sample the screen's
 * cut-off is taken from. Kept out of the screening loop, where four histogram updates per step cost ≈ 15 %.
 */
export function histogram(dists: usize, n: u32, step: u32, hist: usize): void {
  for (let i: u32 = 0; i < n; i += step) {
    const h = hist + (<usize>load<u16>(dists + (<usize>i << 1)) << 2);
    store<u32>(h, load<u32>(h) + 1);
  }
}

/**
 * Pass 2 of the screened search: every slot of [from, to) whose screening distance (in `dists`, from `screen`)
 * is at most `tau` is scored exactly (topKMulti's distance on its plain code) and offered to the heap. First the
 * kept slots are listed (eight distances tested at a time, branch-free inside a hit), then scored from the list:
 * with no unpredictable branch between them, the core has several of their cache misses in flight at once (scored
 * straight from the test, each miss waited alone: ≈ 200 ns a slot). `list` has room for to − from u32; the count of
 * slots scored goes to `stats` (u32 × 2).
 */
export function refine(codes: usize, from: u32, to: u32, dists: usize, tau: u32, probes: usize, np: u32, dead: usize, k: u32, heap: usize, n: u32, list: usize, stats: usize): u32 {
  const t = i16x8.splat(<i16>tau);
  let m: usize = 0;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const o = dists + (<usize>(i - from) << 1);
    if (!v128.any_true(i16x8.le_u(v128.load(o), t))) continue;
    for (let j: u32 = 0; j < 8; j++) {
      store<u32>(list + (m << 2), i + j);
      m += <usize>(<u32>load<u16>(o + (<usize>j << 1)) <= tau);
    }
  }
  for (; i < to; i++) {
    store<u32>(list + (m << 2), i);
    m += <usize>(<u32>load<u16>(dists + (<usize>(i - from) << 1)) <= tau);
  }
  // Touch every listed code first: a loop of independent loads keeps many misses in flight (wasm has no prefetch),
  // so the scoring below finds the codes in cache. The xor keeps the loads from being optimised away.
  let touched: u32 = 0;
  for (let e: usize = 0; e < m; e++) touched ^= load<u8>(codes + (<usize>load<u32>(list + (e << 2))) * SLOT_BYTES);
  for (let e: usize = 0; e < m; e++) {
    const slot = load<u32>(list + (e << 2));
    n = offer(minDist(codes + (<usize>slot) * SLOT_BYTES, probes, np), slot, dead, k, heap, n);
  }
  store<u32>(stats, <u32>m);
  store<u32>(stats, touched, 4);
  return n;
}

/** The floor, one stream: reads `bytes` (a multiple of 64) from `ptr` with the cheapest work per byte. */
export function sum1(ptr: usize, bytes: usize): u64 {
  let a = i64x2.splat(0);
  let b = i64x2.splat(0);
  const end = ptr + bytes;
  for (let p = ptr; p < end; p += 64) {
    a = i64x2.add(a, v128.load(p));
    b = i64x2.add(b, v128.load(p, 16));
    a = i64x2.add(a, v128.load(p, 32));
    b = i64x2.add(b, v128.load(p, 48));
  }
  const s = i64x2.add(a, b);
  return i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
}

/** The floor, four interleaved streams like topK (`bytes` a multiple of 256): the faster of the two is the floor. */
export function sum4(ptr: usize, bytes: usize): u64 {
  let a = i64x2.splat(0);
  let b = i64x2.splat(0);
  const h = bytes >> 2;
  const end = ptr + h;
  for (let p = ptr; p < end; p += 64) {
    a = i64x2.add(a, v128.load(p));
    b = i64x2.add(b, v128.load(p, 16));
    a = i64x2.add(a, v128.load(p, 32));
    b = i64x2.add(b, v128.load(p, 48));
    a = i64x2.add(a, v128.load(p + h));
    b = i64x2.add(b, v128.load(p + h, 16));
    a = i64x2.add(a, v128.load(p + h, 32));
    b = i64x2.add(b, v128.load(p + h, 48));
    a = i64x2.add(a, v128.load(p + 2 * h));
    b = i64x2.add(b, v128.load(p + 2 * h, 16));
    a = i64x2.add(a, v128.load(p + 2 * h, 32));
    b = i64x2.add(b, v128.load(p + 2 * h, 48));
    a = i64x2.add(a, v128.load(p + 3 * h));
    b = i64x2.add(b, v128.load(p + 3 * h, 16));
    a = i64x2.add(a, v128.load(p + 3 * h, 32));
    b = i64x2.add(b, v128.load(p + 3 * h, 48));
  }
  const s = i64x2.add(a, b);
  return i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
}

/** The memcpy peer: the engine's bulk copy over the same bytes. */
export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}
