// Coarse code: a fixed 1024-bit slot summarising a template for the stage-1 scan, tolerant to misalignment.
// For every 6×6 window of the code grid (stride 3: 9 × 9 windows on a 32 × 32 grid) it keeps, by coder:
// - CompCode (a cell's planes encode ONE orientation label, 8 values): per label one bit, "this label fills at
//   least a quarter of the window's valid cells" (648 bits);
// - BOCV, Ordinal (each plane is its own binary map): per plane one bit, "most valid cells are 1" (6 planes:
//   486 bits, so the kernel's narrow scan reads only the first 64 bytes).
// A shift of a cell or two changes few of these pooled bits, where it changes about half of the raw cell bits.
// Larger shifts (the matcher searches ±4 cells) are covered by probing with shifted variants of the probe
// (coarseProbes): the scan keeps each entry's smallest distance over them.
// Sub-codes of an enrolment template are pooled together (their counts add up). Chosen on the dev data: README.md.
import type { FeatureCode, Template } from '../types.ts';
import { popcount } from '../match.ts';
import { CODE_BYTES } from './kernel/kernel.ts';

const WINDOW = 6;
const STRIDE = 3;
const LABELS = 8;
/** Probe shifts (cells): the dev data's genuine pairs need ±2 on each axis (README.md). */
export const PROBE_SHIFTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [2, 0],
  [-2, 0],
  [0, 2],
  [0, -2],
];

/** The coarse code of a template (what the index stores for an enrolment). */
export function coarseCode(t: Template): Uint8Array {
  return pooled(t, 0, 0);
}

/** The probe's codes for stage 1: the template's grid seen at each of PROBE_SHIFTS. */
export function coarseProbes(t: Template): Uint8Array[] {
  return PROBE_SHIFTS.map(([dx, dy]) => pooled(t, dx, dy));
}

/** Pools the grid shifted by (dx, dy): window cell (r, c) reads grid cell (r + dy, c + dx); outside = masked. */
function pooled(t: Template, dx: number, dy: number): Uint8Array {
  const first = t.codes[0]!;
  const rows = first.rows;
  const cols = first.cols;
  if (t.coder !== 'compcode') return pooledPlanes(t, dx, dy);
  // Each sub-code's cell labels once (−1 = masked), then the windows count from them.
  const labels = t.codes.map((c) => cellLabels(c, dx, dy));
  const out = new Uint8Array(CODE_BYTES);
  let bit = 0;
  const counts = new Int32Array(LABELS);
  for (let r0 = 0; r0 + WINDOW <= rows; r0 += STRIDE) {
    for (let c0 = 0; c0 + WINDOW <= cols; c0 += STRIDE) {
      counts.fill(0);
      let valid = 0;
      for (const lab of labels) {
        for (let r = r0; r < r0 + WINDOW; r++) {
          for (let col = c0; col < c0 + WINDOW; col++) {
            const l = lab[r * cols + col]!;
            if (l < 0) continue;
            valid++;
            counts[l]!++;
          }
        }
      }
      for (let l = 0; l < LABELS; l++, bit++) {
        if (bit >= CODE_BYTES * 8) return out; // grids larger than 32 × 32: the first 2048 bits
        if (valid > 0 && counts[l]! * 4 >= valid) out[bit >> 3]! |= 1 << (bit & 7);
      }
    }
  }
  return out;
}

/** Per window and plane: the majority bit over the window's valid cells (all sub-codes pooled). */
function pooledPlanes(t: Template, dx: number, dy: number): Uint8Array {
  const first = t.codes[0]!;
  const { rows, cols, planes } = first;
  const out = new Uint8Array(CODE_BYTES);
  let bit = 0;
  for (let r0 = 0; r0 + WINDOW <= rows; r0 += STRIDE) {
    for (let c0 = 0; c0 + WINDOW <= cols; c0 += STRIDE) {
      for (let p = 0; p < planes; p++, bit++) {
        if (bit >= CODE_BYTES * 8) return out;
        let ones = 0;
        let valid = 0;
        for (const c of t.codes) {
          for (let r = r0 + dy; r < r0 + dy + WINDOW; r++) {
            if (r < 0 || r >= rows) continue;
            // Window columns c0 + dx … c0 + dx + WINDOW − 1 of this row, as a bit mask (cols = 32: one word).
            const lo = c0 + dx;
            const span = windowMask(lo, WINDOW, cols);
            const m = c.mask[r]! & span;
            valid += popcount(m);
            ones += popcount(c.bits[p * rows + r]! & m);
          }
        }
        if (valid > 0 && ones * 2 >= valid) out[bit >> 3]! |= 1 << (bit & 7);
      }
    }
  }
  return out;
}

/** Bits lo … lo + w − 1 of a 32-bit row word, clipped to the grid. */
function windowMask(lo: number, w: number, cols: number): number {
  let m = 0;
  for (let c = Math.max(0, lo); c < Math.min(cols, lo + w); c++) m |= 1 << c;
  return m >>> 0;
}

/** Cell labels (the bits of up to 3 planes, plane p = bit p) of the grid shifted by (dx, dy), −1 where masked. */
function cellLabels(c: FeatureCode, dx: number, dy: number): Int8Array {
  const out = new Int8Array(c.rows * c.cols).fill(-1);
  const planes = Math.min(c.planes, 3);
  for (let r = 0; r < c.rows; r++) {
    const rs = r + dy;
    if (rs < 0 || rs >= c.rows) continue;
    const m = c.mask[rs]!;
    for (let col = 0; col < c.cols; col++) {
      const cs = col + dx;
      if (cs < 0 || cs >= c.cols || ((m >>> cs) & 1) === 0) continue;
      let v = 0;
      for (let p = 0; p < planes; p++) v |= ((c.bits[p * c.rows + rs]! >>> cs) & 1) << p;
      out[r * c.cols + col] = v;
    }
  }
  return out;
}
