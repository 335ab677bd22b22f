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

/**
 * Scans slots [from, to) and merges them into a max-heap of the `k` smallest keys (distance << 32 | slot), which
 * already holds `n` keys; returns the new count. Keys are unique, so the result is exactly the first k of sorting
 * all (distance, slot) pairs whatever the visiting order. The tombstone bitmap is read only for a slot that would
 * enter the heap, so dead slots cost nothing in the hot loop.
 *
 * The range is walked as four interleaved streams (its four quarters side by side): with one stream the core
 * waits on memory between codes; four independent streams keep enough cache misses in flight to approach the
 * sequential-read floor (measured here: one stream ≈ 0.55 × floor, four ≈ 0.8 ×).
 */
export function topK(codes: usize, from: u32, to: u32, probe: usize, dead: usize, k: u32, heap: usize, n: u32): u32 {
  const q = (to - from) >> 2;
  const s1 = from + q;
  const s2 = s1 + q;
  const s3 = s2 + q;
  const stride = (<usize>q) * CODE_BYTES;
  for (let i = from; i < s1; i++) {
    const c0 = codes + (<usize>i) * CODE_BYTES;
    const d0 = dist(c0, probe);
    const d1 = dist(c0 + stride, probe);
    const d2 = dist(c0 + 2 * stride, probe);
    const d3 = dist(c0 + 3 * stride, probe);
    n = offer(d0, i, dead, k, heap, n);
    n = offer(d1, i + q, dead, k, heap, n);
    n = offer(d2, i + 2 * q, dead, k, heap, n);
    n = offer(d3, i + 3 * q, dead, k, heap, n);
  }
  for (let i = s3 + q; i < to; i++) n = offer(dist(codes + (<usize>i) * CODE_BYTES, probe), i, dead, k, heap, n);
  return n;
}

/** Smallest distance from the code to any of `np` probes stored back to back (the probe's shifted variants). */
// @ts-ignore: decorator
@inline function minDist(code: usize, probes: usize, np: u32): u32 {
  let best = dist(code, probes);
  for (let j: u32 = 1; j < np; j++) {
    const d = dist(code, probes + (<usize>j) * CODE_BYTES);
    if (d < best) best = d;
  }
  return best;
}

/** topK with several probes (shifted variants of one capture): a slot's distance is the smallest over them. */
export function topKMulti(codes: usize, from: u32, to: u32, probes: usize, np: u32, dead: usize, k: u32, heap: usize, n: u32): u32 {
  if (np == 1) return topK(codes, from, to, probes, dead, k, heap, n);
  const q = (to - from) >> 2;
  const s1 = from + q;
  const s2 = s1 + q;
  const s3 = s2 + q;
  const stride = (<usize>q) * CODE_BYTES;
  for (let i = from; i < s1; i++) {
    const c0 = codes + (<usize>i) * CODE_BYTES;
    const d0 = minDist(c0, probes, np);
    const d1 = minDist(c0 + stride, probes, np);
    const d2 = minDist(c0 + 2 * stride, probes, np);
    const d3 = minDist(c0 + 3 * stride, probes, np);
    n = offer(d0, i, dead, k, heap, n);
    n = offer(d1, i + q, dead, k, heap, n);
    n = offer(d2, i + 2 * q, dead, k, heap, n);
    n = offer(d3, i + 3 * q, dead, k, heap, n);
  }
  for (let i = s3 + q; i < to; i++) n = offer(minDist(codes + (<usize>i) * CODE_BYTES, probes, np), i, dead, k, heap, n);
  return n;
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
