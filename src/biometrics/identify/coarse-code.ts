// Coarse codes for the stage-1 search (README.md, "Coarse code" and "The screened scan"). For every 6×6 window of
// the code grid (stride 3: 9 × 9 windows on a 32 × 32 grid) a plain code keeps, by coder:
// - CompCode (a cell's planes encode ONE of 6 orientation labels): per label one bit, "this label fills at least a
//   quarter of the window's valid cells" (486 bits);
// - BOCV, Ordinal (each plane is its own binary map): per plane one bit, "most valid cells are 1" (486 bits).
// A shift of a cell or two changes few of these pooled bits, where it changes about half of the raw cell bits.
// Larger shifts (the matcher searches ±4 cells) are covered by probing with shifted variants of the probe
// (coarseProbes): the exact stage-1 distance is an entry's smallest over them.
// An entry also gets an `unstable` mask: its plain code taken at each of GALLERY_SHIFTS, 1 where they disagree.
// (The unshifted variant is the plain code itself, so where they agree their bit is the plain code's.) One probe
// code against plain code + mask tolerates ±1 cell without any probe shifts, which is what lets the screening
// pass run at memory speed.
// Sub-codes of an enrolment template are pooled together (their counts add up). Chosen on the dev data: README.md.
import type { Template } from '../types.ts';
import { CODE_BYTES, ENTRY_CODE_BYTES } from './kernel/kernel.ts';

const WINDOW = 6;
const STRIDE = 3;
/** The code values (plane bits) of CompCode's 6 orientations, in orientation order (features.ts): 2 and 5 never occur. */
const LABEL_VALUES = [0, 1, 3, 7, 6, 4];
const LABEL_OF = Int8Array.from({ length: 8 }, (_, v) => LABEL_VALUES.indexOf(v));
const LABELS = LABEL_VALUES.length;
/** Probe shifts (cells), the unshifted code first: the dev data's genuine pairs need ±2 on each axis (README.md). */
export const PROBE_SHIFTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [2, 0],
  [-2, 0],
  [0, 2],
  [0, -2],
];

/**
 * The centre's enrolment duplicate check probes wider (coarseProbesAt): PROBE_SHIFTS plus the 8 shifts of ±1 cell.
 * The screen uses the first (unshifted) code only, so the extra codes cost only the exact scoring of the kept slots.
 * Measured at 10⁵ synthetic palms (README, issue 16l): weak genuine pairs ranked 64th or worse by stage 1 fell from
 * 6 to 3 of 193. The terminal's 1:N keeps PROBE_SHIFTS (its figures and dev-data tests are for those).
 */
export const CENTRE_PROBE_SHIFTS: ReadonlyArray<readonly [number, number]> = [
  ...PROBE_SHIFTS,
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [-1, -1],
  [1, -1],
  [-1, 1],
];

/** Shifts (cells) whose plain codes make an entry's unstable mask: ±1 on both axes, (0, 0) among them (README.md). */
export const GALLERY_SHIFTS: ReadonlyArray<readonly [number, number]> = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [dx, dy] as const));

/** What the index stores for an enrolment: its plain code, then its `unstable` mask over GALLERY_SHIFTS. */
export function coarseCode(t: Template): Uint8Array {
  const sums = windowSums(t);
  const out = new Uint8Array(ENTRY_CODE_BYTES);
  out.set(pooledAt(sums, 0, 0), 0);
  out.set(unstableMask(GALLERY_SHIFTS.map(([dx, dy]) => pooledAt(sums, dx, dy))), CODE_BYTES);
  return out;
}

/** 1 where the plain codes (the variants of one entry) disagree. */
export function unstableMask(variants: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(CODE_BYTES);
  for (let i = 0; i < CODE_BYTES; i++) {
    let any = 0;
    let all = 0xff;
    for (const v of variants) {
      any |= v[i]!;
      all &= v[i]!;
    }
    out[i] = any & ~all;
  }
  return out;
}

/** The probe's codes for stage 1: the template's grid seen at each of PROBE_SHIFTS, the unshifted one first. */
export function coarseProbes(t: Template): Uint8Array[] {
  return coarseProbesAt(t, PROBE_SHIFTS);
}

/** The probe's codes at the given shifts (the first is the one the screen uses), from one set of window sums. */
export function coarseProbesAt(t: Template, shifts: ReadonlyArray<readonly [number, number]>): Uint8Array[] {
  const sums = windowSums(t);
  return shifts.map(([dx, dy]) => pooledAt(sums, dx, dy));
}

/** The plain code of the grid shifted by (dx, dy): window cell (r, c) reads grid cell (r + dy, c + dx); outside = masked. */
export function pooled(t: Template, dx: number, dy: number): Uint8Array {
  return pooledAt(windowSums(t), dx, dy);
}

/**
 * Per channel (a plane for BOCV/Ordinal, an orientation label for CompCode) and for the valid cells, integral
 * images over the grid with all sub-codes added up: any window's counts in 4 look-ups, so an entry's 10 shifted
 * codes cost little more than one.
 */
interface WindowSums {
  rows: number;
  cols: number;
  /** Channels whose bit is "this channel fills at least 1/share of the window's valid cells". */
  channels: number;
  share: number;
  /** (channels + 1) integral images of (rows + 1) × (cols + 1); the last one counts valid cells. */
  sums: Int32Array;
}

function windowSums(t: Template): WindowSums {
  const { rows, cols, planes } = t.codes[0]!;
  const labels = t.coder === 'compcode';
  const channels = labels ? LABELS : planes;
  const w = cols + 1;
  const size = (rows + 1) * w;
  const sums = new Int32Array((channels + 1) * size);
  const valid = channels * size;
  for (const c of t.codes) {
    for (let r = 0; r < rows; r++) {
      const m = c.mask[r]!;
      for (let col = 0; col < cols; col++) {
        if (((m >>> col) & 1) === 0) continue;
        const at = (r + 1) * w + col + 1;
        sums[valid + at]!++;
        if (labels) {
          let v = 0;
          for (let p = 0; p < Math.min(planes, 3); p++) v |= ((c.bits[p * rows + r]! >>> col) & 1) << p;
          const l = LABEL_OF[v]!;
          if (l >= 0) sums[l * size + at]!++;
          else sums[valid + at]!--; // a value no orientation has: not a valid cell for the labels
        } else {
          for (let p = 0; p < planes; p++) sums[p * size + at]! += (c.bits[p * rows + r]! >>> col) & 1;
        }
      }
    }
  }
  // Prefix sums in place, channel by channel.
  for (let ch = 0; ch <= channels; ch++) {
    const o = ch * size;
    for (let r = 1; r <= rows; r++) {
      for (let col = 1; col <= cols; col++) {
        const at = o + r * w + col;
        sums[at]! += sums[at - 1]! + sums[at - w]! - sums[at - w - 1]!;
      }
    }
  }
  return { rows, cols, channels, share: labels ? 4 : 2, sums };
}

/** The plain code from window sums, the grid shifted by (dx, dy). Bit order: window by window, channel by channel. */
function pooledAt(s: WindowSums, dx: number, dy: number): Uint8Array {
  const { rows, cols, channels, share, sums } = s;
  const w = cols + 1;
  const size = (rows + 1) * w;
  const count = (o: number, r0: number, r1: number, c0: number, c1: number): number =>
    sums[o + r1 * w + c1]! - sums[o + r0 * w + c1]! - sums[o + r1 * w + c0]! + sums[o + r0 * w + c0]!;
  const out = new Uint8Array(CODE_BYTES);
  let bit = 0;
  for (let r0 = 0; r0 + WINDOW <= rows; r0 += STRIDE) {
    const ra = Math.min(rows, Math.max(0, r0 + dy));
    const rb = Math.min(rows, Math.max(0, r0 + dy + WINDOW));
    for (let c0 = 0; c0 + WINDOW <= cols; c0 += STRIDE) {
      const ca = Math.min(cols, Math.max(0, c0 + dx));
      const cb = Math.min(cols, Math.max(0, c0 + dx + WINDOW));
      const valid = count(channels * size, ra, rb, ca, cb);
      for (let ch = 0; ch < channels; ch++, bit++) {
        if (bit >= CODE_BYTES * 8) return out; // grids larger than 32 × 32: the first 512 bits
        if (valid > 0 && count(ch * size, ra, rb, ca, cb) * share >= valid) out[bit >> 3]! |= 1 << (bit & 7);
      }
    }
  }
  return out;
}
