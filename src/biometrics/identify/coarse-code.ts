// Coarse code: a fixed 2048-bit summary of a template for the stage-1 scan, tolerant to small misalignment.
// For every 4×4 window of the code grid (stride 2, so windows overlap by half: 15 × 15 windows on a 32 × 32 grid)
// it keeps, per orientation label (the 3-bit cell value, 8 labels), one bit: "this label fills at least a quarter of
// the window's valid cells". A shift of one or two cells changes few of these presence bits, where it changes
// about half of the raw cell bits. Chosen on the dev data (see README.md: it ranked the true mate best of the pooled
// variants tried). Sub-codes of an enrolment template are pooled together (their counts add up).
import type { FeatureCode, Template } from '../types.ts';
import { CODE_BYTES } from './kernel/kernel.ts';

const WINDOW = 4;
const STRIDE = 2;
const LABELS = 8;

export function coarseCode(t: Template): Uint8Array {
  const first = t.codes[0]!;
  const rows = first.rows;
  const cols = first.cols;
  // Each sub-code's cell labels once (−1 = masked), then the windows count from them.
  const labels = t.codes.map((c) => cellLabels(c));
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

/** Cell labels (the bits of up to 3 planes, plane p = bit p), −1 where the mask is 0. */
function cellLabels(c: FeatureCode): Int8Array {
  const out = new Int8Array(c.rows * c.cols).fill(-1);
  const planes = Math.min(c.planes, 3);
  for (let r = 0; r < c.rows; r++) {
    const m = c.mask[r]!;
    for (let col = 0; col < c.cols; col++) {
      if (((m >>> col) & 1) === 0) continue;
      let v = 0;
      for (let p = 0; p < planes; p++) v |= ((c.bits[p * c.rows + r]! >>> col) & 1) << p;
      out[r * c.cols + col] = v;
    }
  }
  return out;
}
