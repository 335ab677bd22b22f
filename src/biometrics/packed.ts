// Fast 1:1 matching on packed codes: each code's rows shifted by every horizontal shift are laid out once, so the
// shift search is a run of AND / XOR / popcount over consecutive words; the six BOCV planes are summed by a
// carry-save adder (3 popcounts instead of 6). Gives exactly match.ts's codeDistance, plus the elastic refinement.
//
// Elastic matching: the palm deforms between captures (finger spread, tilt), so one global shift cannot align
// the whole grid. After the best global shift, the grid is cut into blocks (4 × 4 blocks of 8 × 8 cells) and each
// block may move by up to ±1 cell on its own; the score is the masked Hamming distance summed over all blocks.
// A block with too few jointly valid cells at some offset keeps only the offsets it can be measured at.
import type { FeatureCode } from './types.ts';

/** A code prepared for fast matching (see prepareCode). */
export interface PackedCode {
  rows: number;
  planes: number;
  /** Largest horizontal shift prepared. */
  maxShift: number;
  /** Words per (shift, row): the mask, then one word per plane. */
  stride: number;
  /** [(dx + maxShift) * rows + r] * stride + w: row r shifted so that its column c holds column c + dx. */
  words: Uint32Array;
}

export interface ElasticOptions {
  /** Block side in cells (the grid is 32 × 32 cells). */
  block: number;
  /** Largest extra shift of a block, in cells, on each axis. */
  reach: number;
  /** Fewest jointly valid cells, as a fraction of the block, for a block offset to count. */
  minBlockValid: number;
}

export const DEFAULT_ELASTIC: ElasticOptions = { block: 8, reach: 1, minBlockValid: 0.5 };

/** `reuse`: a PackedCode whose words are overwritten when large enough (scratch; the result may be it). */
export function prepareCode(code: FeatureCode, maxShift: number, reuse?: PackedCode): PackedCode {
  const { rows, planes } = code;
  const stride = planes + 1;
  const size = (2 * maxShift + 1) * rows * stride;
  if (reuse && reuse.words.length >= size) {
    fillPacked(reuse.words, code, maxShift);
    return Object.assign(reuse, { rows, planes, maxShift, stride });
  }
  const words = new Uint32Array(size);
  fillPacked(words, code, maxShift);
  return { rows, planes, maxShift, stride, words };
}

function fillPacked(words: Uint32Array, code: FeatureCode, maxShift: number): void {
  const { rows, planes } = code;
  const stride = planes + 1;
  for (let dx = -maxShift; dx <= maxShift; dx++) {
    for (let r = 0; r < rows; r++) {
      const o = ((dx + maxShift) * rows + r) * stride;
      words[o] = shiftWord(code.mask[r]!, dx);
      for (let p = 0; p < planes; p++) words[o + 1 + p] = shiftWord(code.bits[p * rows + r]!, dx);
    }
  }
}

function shiftWord(w: number, dx: number): number {
  return (dx >= 0 ? w >>> dx : w << -dx) >>> 0;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

// Scratch for the diff/valid sums of one row range: [valid, diff].
const acc = new Float64Array(2);

/**
 * Adds to acc the jointly valid cells and the differing bits of rows [r0, r1) of `a` (unshifted) against `b`
 * shifted by (dx, dy), over the columns in `colMask`.
 */
function accumulate(a: PackedCode, b: PackedCode, dx: number, dy: number, r0: number, r1: number, colMask: number): void {
  const aw = a.words;
  const bw = b.words;
  const st = a.stride;
  const aBase = a.maxShift * a.rows;
  const bBase = (dx + b.maxShift) * b.rows + dy;
  let valid = 0;
  let diff = 0;
  if (a.planes === 6) {
    for (let r = r0; r < r1; r++) {
      const ia = (aBase + r) * st;
      const ib = (bBase + r) * st;
      const m = aw[ia]! & bw[ib]! & colMask;
      if (m === 0) continue;
      valid += popcount32(m);
      const x0 = (aw[ia + 1]! ^ bw[ib + 1]!) & m;
      const x1 = (aw[ia + 2]! ^ bw[ib + 2]!) & m;
      const x2 = (aw[ia + 3]! ^ bw[ib + 3]!) & m;
      const x3 = (aw[ia + 4]! ^ bw[ib + 4]!) & m;
      const x4 = (aw[ia + 5]! ^ bw[ib + 5]!) & m;
      const x5 = (aw[ia + 6]! ^ bw[ib + 6]!) & m;
      // Carry-save adder: per column, x0 + … + x5 = ones + 2·twos + 4·fours.
      const s1 = x0 ^ x1 ^ x2;
      const c1 = (x0 & x1) | (x2 & (x0 ^ x1));
      const s2 = x3 ^ x4 ^ x5;
      const c2 = (x3 & x4) | (x5 & (x3 ^ x4));
      const ones = s1 ^ s2;
      const c3 = s1 & s2;
      const twos = c1 ^ c2 ^ c3;
      const fours = (c1 & c2) | (c3 & (c1 ^ c2));
      diff += popcount32(ones) + 2 * popcount32(twos) + 4 * popcount32(fours);
    }
  } else {
    for (let r = r0; r < r1; r++) {
      const ia = (aBase + r) * st;
      const ib = (bBase + r) * st;
      const m = aw[ia]! & bw[ib]! & colMask;
      if (m === 0) continue;
      valid += popcount32(m);
      for (let p = 1; p <= a.planes; p++) diff += popcount32((aw[ia + p]! ^ bw[ib + p]!) & m);
    }
  }
  acc[0] = valid;
  acc[1] = diff;
}

/** The global shift search, as codeDistance: best distance, and the shift it was found at. */
export interface ShiftResult {
  distance: number;
  dx: number;
  dy: number;
}

/** Exactly codeDistance(a, b, {maxShift, minOverlap}) of match.ts, on prepared codes. */
export function rigidDistance(a: PackedCode, b: PackedCode, maxShift: number, minValid: number): ShiftResult {
  const rows = a.rows;
  let best = 1;
  let bx = 0;
  let by = 0;
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    const r0 = Math.max(0, -dy);
    const r1 = Math.min(rows, rows - dy);
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      accumulate(a, b, dx, dy, r0, r1, 0xffffffff | 0);
      const valid = acc[0]!;
      if (valid < minValid || valid === 0) continue;
      const d = acc[1]! / (valid * a.planes);
      if (d < best) { best = d; bx = dx; by = dy; }
    }
  }
  return { distance: best, dx: bx, dy: by };
}

/**
 * Elastic distance: the best global shift (rigidDistance), then every block moves by up to ±reach cells on its
 * own; returns the masked Hamming distance summed over all blocks at their own offsets (never above the rigid
 * distance's block sums, since offset 0 is always among the choices).
 */
export function elasticDistance(a: PackedCode, b: PackedCode, maxShift: number, minValid: number, e: ElasticOptions = DEFAULT_ELASTIC): number {
  const g = rigidDistance(a, b, maxShift, minValid);
  if (g.distance >= 1) return g.distance;
  const rows = a.rows;
  const bs = e.block;
  const minBlock = e.minBlockValid * bs * bs;
  let valid = 0;
  let diff = 0;
  for (let r0 = 0; r0 < rows; r0 += bs) {
    for (let c0 = 0; c0 < 32; c0 += bs) {
      const colMask = (bs >= 32 ? 0xffffffff : ((1 << bs) - 1) << c0) | 0;
      let bestD = Infinity;
      let bestV = 0;
      let bestX = 0;
      for (let oy = -e.reach; oy <= e.reach; oy++) {
        const dy = g.dy + oy;
        const lo = Math.max(r0, -dy);
        const hi = Math.min(r0 + bs, rows - dy);
        if (lo >= hi) continue;
        for (let ox = -e.reach; ox <= e.reach; ox++) {
          const dx = g.dx + ox;
          if (dx < -b.maxShift || dx > b.maxShift) continue;
          accumulate(a, b, dx, dy, lo, hi, colMask);
          const v = acc[0]!;
          const centre = ox === 0 && oy === 0;
          if (v === 0 || (!centre && v < minBlock)) continue;
          const d = acc[1]! / v;
          // Ties and the centre: prefer the global offset.
          if (d < bestD || (centre && d <= bestD)) { bestD = d; bestV = v; bestX = acc[1]!; }
        }
      }
      if (bestD === Infinity) continue;
      valid += bestV;
      diff += bestX;
    }
  }
  if (valid < minValid || valid === 0) return g.distance;
  return Math.min(g.distance, diff / (valid * a.planes));
}
