// Features: local contrast normalisation, a bank of real Gabor filters evaluated on the code grid only, and
// the orientation coders (Competitive Code, BOCV, ordinal) packed in the bit layout of types.ts.
import { boxBlur } from './image.ts';
import { planesForCoder } from './template.ts';
import type { CoderId, CoderParams, FeatureCode } from './types.ts';

export const CODE_COLS = 32;

/** Zero-mean, unit-variance within a (2r+1)² window: undoes uneven illumination and skin tone. */
export function normaliseLocal(img: Float32Array, size: number, r: number): Float32Array {
  const mean = boxBlur(img, size, size, r);
  const sq = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) sq[i] = img[i]! * img[i]!;
  const meanSq = boxBlur(sq, size, size, r);
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) {
    const sd = Math.sqrt(Math.max(meanSq[i]! - mean[i]! * mean[i]!, 0));
    out[i] = (img[i]! - mean[i]!) / (sd + 2);
  }
  return out;
}

export interface FilterBank {
  params: CoderParams;
  /** orientations × (2R+1)² taps, orientation-major. */
  taps: Float32Array;
  side: number;
}

const banks = new Map<string, FilterBank>();

/**
 * Real Gabor filters of Competitive Code (Kong & Zhang 2004): orientation θ_k = kπ/N, one-octave bandwidth,
 * envelope twice as long along the line as across it, made exactly zero-mean so flat skin gives no response.
 */
export function filterBank(params: CoderParams): FilterBank {
  const key = `${params.wavelength10}/${params.kernelRadius}/${params.orientations}`;
  const cached = banks.get(key);
  if (cached) return cached;
  const R = params.kernelRadius;
  const side = 2 * R + 1;
  const n = params.orientations;
  const omega = (2 * Math.PI) / (params.wavelength10 / 10);
  const kappa = Math.sqrt(2 * Math.LN2) * 3; // (2^δ + 1)/(2^δ − 1) with δ = 1 octave
  const sAcross = kappa / omega;
  const sAlong = (2 * kappa) / omega;
  const taps = new Float32Array(n * side * side);
  for (let k = 0; k < n; k++) {
    const th = (k * Math.PI) / n;
    const c = Math.cos(th);
    const s = Math.sin(th);
    const env = new Float64Array(side * side);
    const car = new Float64Array(side * side);
    let se = 0;
    let sec = 0;
    for (let y = -R; y <= R; y++) {
      for (let x = -R; x <= R; x++) {
        const across = x * c + y * s;
        const along = -x * s + y * c;
        const i = (y + R) * side + (x + R);
        env[i] = Math.exp(-(across * across) / (2 * sAcross * sAcross) - (along * along) / (2 * sAlong * sAlong));
        car[i] = Math.cos(omega * across);
        se += env[i]!;
        sec += env[i]! * car[i]!;
      }
    }
    const dc = sec / se;
    let norm = 0;
    for (let i = 0; i < side * side; i++) norm += Math.abs(env[i]! * (car[i]! - dc));
    for (let i = 0; i < side * side; i++) taps[k * side * side + i] = (env[i]! * (car[i]! - dc)) / norm;
  }
  const bank = { params, taps, side };
  banks.set(key, bank);
  return bank;
}

/**
 * Filter responses at the code grid: cell (r, c) sits at ROI pixel (margin + stride·c + stride/2, …).
 * Returns rows × cols × orientations values (orientation innermost).
 */
export function gridResponses(img: Float32Array, size: number, margin: number, bank: FilterBank, rows: number, cols: number): Float32Array {
  const n = bank.params.orientations;
  const R = bank.params.kernelRadius;
  const side = bank.side;
  const taps = bank.taps;
  const area = side * side;
  const stride = bank.params.roiSize / cols;
  const out = new Float32Array(rows * cols * n);
  // Real Gabor kernels are point-symmetric, k(x, y) = k(−x, −y): fold each patch once (p[t] + p[mirror t]) and
  // take half-length dot products for every orientation.
  const half = (area - 1) / 2;
  const folded = new Float32Array(half + 1);
  for (let r = 0; r < rows; r++) {
    const cy = margin + Math.floor(stride * r + stride / 2);
    for (let c = 0; c < cols; c++) {
      const cx = margin + Math.floor(stride * c + stride / 2);
      const base = (cy - R) * size + (cx - R);
      let t = 0;
      for (let dy = 0; dy <= R; dy++) {
        const row = base + dy * size;
        const mirrorRow = base + (side - 1 - dy) * size + side - 1;
        const last = dy === R ? R : side - 1; // the centre row folds onto itself up to the centre
        for (let dx = 0; dx <= last; dx++, t++) folded[t] = t === half ? img[row + dx]! : img[row + dx]! + img[mirrorRow - dx]!;
      }
      const o = (r * cols + c) * n;
      for (let k = 0; k < n; k++) {
        const tk = k * area;
        let acc = 0;
        for (let i = 0; i <= half; i++) acc += folded[i]! * taps[tk + i]!;
        out[o + k] = acc;
      }
    }
  }
  return out;
}

/**
 * BOCV plane p holds the sign of orientation bocvOrientation(p): the even orientations first, then the odd
 * ones (0°, 60°, 120°, 30°, 90°, 150° for 6), so any prefix of 3 planes spans the half-circle evenly (the 1:N
 * coarse code reads the first 3 planes as an 8-valued orientation label).
 */
export function bocvOrientation(p: number, n: number): number {
  const evens = Math.ceil(n / 2);
  return p < evens ? 2 * p : 2 * (p - evens) + 1;
}

/** Packs responses into a code (bit layout: types.ts). `cellValid[r * cols + c]` gates each cell. */
export function encodeResponses(coder: CoderId, resp: Float32Array, n: number, rows: number, cellValid: Uint8Array): FeatureCode {
  const cols = CODE_COLS;
  const planes = planesForCoder(coder, n);
  const bits = new Uint32Array(planes * rows);
  const mask = new Uint32Array(rows);
  const half = n >> 1;
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) {
      if (!cellValid[r * cols + c]) continue;
      m |= 1 << c;
      const o = (r * cols + c) * n;
      if (coder === 'compcode') {
        // Winner = most negative response (veins are dark lines). Bit p is set when (k − p − 1) mod n < n/2,
        // so Hamming distance between two cells = angular distance between their winners.
        let k = 0;
        for (let j = 1; j < n; j++) if (resp[o + j]! < resp[o + k]!) k = j;
        for (let p = 0; p < planes; p++) if ((k - p - 1 + n) % n < half) bits[p * rows + r]! |= 1 << c;
      } else if (coder === 'bocv') {
        for (let p = 0; p < planes; p++) if (resp[o + bocvOrientation(p, n)]! < 0) bits[p * rows + r]! |= 1 << c;
      } else {
        for (let p = 0; p < planes; p++) if (resp[o + p]! < resp[o + p + half]!) bits[p * rows + r]! |= 1 << c;
      }
    }
    mask[r] = m >>> 0;
  }
  for (let i = 0; i < bits.length; i++) bits[i] = bits[i]! >>> 0;
  return { rows, cols, planes, bits, mask };
}
