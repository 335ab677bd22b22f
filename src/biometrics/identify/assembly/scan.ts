// Stage-1 kernel of the 1:N search (AssemblyScript → WebAssembly; built by `npm run build:wasm`).
// Every coarse code is CODE_BYTES = 128 bytes (1024 bits) in one contiguous run of linear memory; JS owns the
// layout and passes byte offsets. No allocator, no static data: the module only reads and writes what it is given.

const CODE_BYTES: usize = 128;

/** Hamming distance between the probe and one code: 8 × (xor, byte popcount), summed once at the end. */
// @ts-ignore: decorator
@inline function dist(code: usize, probe: usize): u32 {
  // Each byte lane gains at most 8 per step, 8 steps → at most 64: no u8 overflow.
  let acc = i8x16.popcnt(v128.xor(v128.load(code), v128.load(probe)));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 16), v128.load(probe, 16))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 32), v128.load(probe, 32))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 48), v128.load(probe, 48))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 64), v128.load(probe, 64))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 80), v128.load(probe, 80))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 96), v128.load(probe, 96))));
  acc = i8x16.add(acc, i8x16.popcnt(v128.xor(v128.load(code, 112), v128.load(probe, 112))));
  const s = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(acc));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

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

/** Byte-lane popcounts of (code xor probe p), the code held in g0…g7; a narrow scan uses only the first 4 vectors. */
// @ts-ignore: decorator
@inline function lanes(g0: v128, g1: v128, g2: v128, g3: v128, g4: v128, g5: v128, g6: v128, g7: v128, p: usize, wide: bool): v128 {
  // Each byte lane gains at most 8 per vector, 8 vectors → at most 64: no u8 overflow.
  let a = i8x16.add(i8x16.popcnt(v128.xor(g0, v128.load(p))), i8x16.popcnt(v128.xor(g1, v128.load(p, 16))));
  a = i8x16.add(a, i8x16.popcnt(v128.xor(g2, v128.load(p, 32))));
  a = i8x16.add(a, i8x16.popcnt(v128.xor(g3, v128.load(p, 48))));
  if (wide) {
    a = i8x16.add(a, i8x16.popcnt(v128.xor(g4, v128.load(p, 64))));
    a = i8x16.add(a, i8x16.popcnt(v128.xor(g5, v128.load(p, 80))));
    a = i8x16.add(a, i8x16.popcnt(v128.xor(g6, v128.load(p, 96))));
    a = i8x16.add(a, i8x16.popcnt(v128.xor(g7, v128.load(p, 112))));
  }
  return a;
}

/** Byte lanes → 4 partial sums (i32 lanes): two multiply-adds (pmaddubsw, pmaddwd on x64). */
// @ts-ignore: decorator
@inline function quarter(a: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.extadd_pairwise_i8x16_u(a), i16x8.splat(1));
}

/** Four probes' partial sums → their four distances, one per lane (a 4 × 4 transpose-add; no lane extraction). */
// @ts-ignore: decorator
@inline function sum4x4(d0: v128, d1: v128, d2: v128, d3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(d0, d1, 0, 4, 1, 5), i32x4.shuffle(d0, d1, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(d2, d3, 0, 4, 1, 5), i32x4.shuffle(d2, d3, 2, 6, 3, 7));
  return i32x4.add(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3));
}

/**
 * Smallest distance from the code at `c` to any of `np` probes stored back to back (the probe's shifted variants).
 * The code is read from memory once and held in registers for all probes (the probes stay in L1), and the
 * minimum is taken in SIMD over groups of 4 probes: per-probe cost is the xor-popcounts and little else.
 */
// @ts-ignore: decorator
@inline function minDist(c: usize, probes: usize, np: u32, wide: bool): u32 {
  const zero = i64x2.splat(0);
  const g0 = v128.load(c);
  const g1 = v128.load(c, 16);
  const g2 = v128.load(c, 32);
  const g3 = v128.load(c, 48);
  const g4 = wide ? v128.load(c, 64) : zero;
  const g5 = wide ? v128.load(c, 80) : zero;
  const g6 = wide ? v128.load(c, 96) : zero;
  const g7 = wide ? v128.load(c, 112) : zero;
  let m = i32x4.splat(-1); // u32 max in every lane
  let p = probes;
  let j: u32 = 0;
  for (; j + 4 <= np; j += 4, p += 4 * CODE_BYTES) {
    const d0 = quarter(lanes(g0, g1, g2, g3, g4, g5, g6, g7, p, wide));
    const d1 = quarter(lanes(g0, g1, g2, g3, g4, g5, g6, g7, p + CODE_BYTES, wide));
    const d2 = quarter(lanes(g0, g1, g2, g3, g4, g5, g6, g7, p + 2 * CODE_BYTES, wide));
    const d3 = quarter(lanes(g0, g1, g2, g3, g4, g5, g6, g7, p + 3 * CODE_BYTES, wide));
    m = i32x4.min_u(m, sum4x4(d0, d1, d2, d3));
  }
  for (; j < np; j++, p += CODE_BYTES) {
    // One probe: fold its 4 partial sums into every lane.
    let d = quarter(lanes(g0, g1, g2, g3, g4, g5, g6, g7, p, wide));
    d = i32x4.add(d, i32x4.shuffle(d, d, 2, 3, 0, 1));
    m = i32x4.min_u(m, i32x4.add(d, i32x4.shuffle(d, d, 1, 0, 3, 2)));
  }
  m = i32x4.min_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = i32x4.min_u(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  return i32x4.extract_lane(m, 0);
}

/** The scan loop of topKMulti, specialised by `wide` (a constant after inlining). */
// @ts-ignore: decorator
@inline function scan(codes: usize, from: u32, to: u32, probes: usize, np: u32, wide: bool, dead: usize, k: u32, heap: usize, n: u32): u32 {
  const q = (to - from) >> 2;
  const s1 = from + q;
  const s3 = s1 + 2 * q;
  const stride = (<usize>q) * CODE_BYTES;
  for (let i = from; i < s1; i++) {
    const c0 = codes + (<usize>i) * CODE_BYTES;
    const d0 = minDist(c0, probes, np, wide);
    const d1 = minDist(c0 + stride, probes, np, wide);
    const d2 = minDist(c0 + 2 * stride, probes, np, wide);
    const d3 = minDist(c0 + 3 * stride, probes, np, wide);
    n = offer(d0, i, dead, k, heap, n);
    n = offer(d1, i + q, dead, k, heap, n);
    n = offer(d2, i + 2 * q, dead, k, heap, n);
    n = offer(d3, i + 3 * q, dead, k, heap, n);
  }
  for (let i = s3 + q; i < to; i++) n = offer(minDist(codes + (<usize>i) * CODE_BYTES, probes, np, wide), i, dead, k, heap, n);
  return n;
}

/**
 * Scans slots [from, to) and merges them into a max-heap of the `k` smallest keys (distance << 32 | slot), which
 * already holds `n` keys; returns the new count. A slot's distance is the smallest over the `np` probes (shifted
 * variants of one capture). Keys are unique, so the result is exactly the first k of sorting all (distance, slot)
 * pairs whatever the visiting order. The tombstone bitmap is read only for a slot that would enter the heap, so
 * dead slots cost nothing in the hot loop.
 *
 * `wide` = 0 when every code and probe is zero past byte 64 (BOCV: 486 bits): the scan then reads only the slot's
 * first cache line and skips the last 4 of the 8 vectors, whose xor is zero, so it is exact all the same. JS tracks
 * this (kernel.ts).
 *
 * The range is walked as four interleaved streams (its four quarters side by side): with one stream the core
 * waits on memory between codes; four independent streams keep enough cache misses in flight to approach the
 * sequential-read floor (measured here: one stream ≈ 0.55 × floor, four ≈ 0.8 ×).
 */
export function topKMulti(codes: usize, from: u32, to: u32, probes: usize, np: u32, wide: u32, dead: usize, k: u32, heap: usize, n: u32): u32 {
  return wide != 0
    ? scan(codes, from, to, probes, np, true, dead, k, heap, n)
    : scan(codes, from, to, probes, np, false, dead, k, heap, n);
}

/** Writes the distance of every slot in [from, to) as u16 to `out` (for tests and recall measurements). */
export function distances(codes: usize, from: u32, to: u32, probe: usize, out: usize): void {
  for (let i = from; i < to; i++) {
    store<u16>(out + (<usize>(i - from) << 1), <u16>dist(codes + (<usize>i) * CODE_BYTES, probe));
  }
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
