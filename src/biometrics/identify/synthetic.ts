// Synthetic palms for scale tests: templates with the statistics of real ones, for any coder (method: README.md).
// Two kinds, by coder:
// - 'labels' (CompCode: a cell's planes encode one of 6 orientations): a person is a smooth Gaussian latent field
//   over a slightly larger grid than the code; each cell's label is that latent mapped through the cell's own
//   label distribution (inverse CDF over the labels in orientation order), so every cell's label — hence every
//   bit's — probability is the measured one.
// - 'planes' (BOCV, Ordinal: each plane is its own sign map): one smooth latent field per plane, mixed by the
//   Cholesky factor of the planes' latent correlation (from how often two planes agree), each thresholded at the
//   cell's measured bit probability (a Gaussian copula). A capture of
// the person mixes the person's field with fresh noise (correlation ρ, drawn per capture), is cropped at a shift
// drawn from the measured genuine shifts, and takes a mask drawn from the real ones. The blur (spatial
// correlation) is fitted to the impostor distances, the ρ distribution to the genuine distances.
import { DEFAULT_EXTRACT } from '../config.ts';
import { TEMPLATE_FORMAT_VERSION } from '../template.ts';
import type { CoderId, CoderParams, FeatureCode, Template } from '../types.ts';
import { fillNormal, inverseNormal, normal, type Rng } from './random.ts';

export const GRID = 32;
/** Margin of the latent field around the code grid: room for capture shifts. */
const MARGIN = 4;
const FIELD = GRID + 2 * MARGIN;

/** Everything the generator needs; JSON-serialisable. */
export interface SyntheticModel {
  kind: 'labels' | 'planes';
  coder: CoderId;
  coderParams: CoderParams;
  planes: number;
  /** The cell values (bit p = plane p) the model draws, ordered so that neighbours differ by few bits. */
  values: number[];
  /** Per cell (r * 32 + c), the probability of each of `values` (sums to 1). 'labels' only. */
  valueProb: number[];
  /** Per cell and plane ((r * 32 + c) * planes + p), the probability of a 1. 'planes' only. */
  bitProb: number[];
  /** Lower-triangular Cholesky factor (planes × planes, row-major) of the planes' latent correlation. 'planes' only. */
  planeChol: number[];
  /** Gaussian blur σ (cells) of the latent fields: sets the spatial correlation, fitted to impostor distances. */
  blur: number;
  /** log(1 − ρ²) of a capture ~ Normal(genuineMu, genuineSigma): fitted to genuine distances. */
  genuineMu: number;
  genuineSigma: number;
  /** Genuine best shifts measured on the dev data: [dx, dy, weight]. */
  shifts: Array<[number, number, number]>;
  /** Masks (one u32 per row) sampled from real templates. */
  masks: number[][];
  /** Where the numbers came from. */
  source: string;
}

/** Uniform labels, with the blur and capture noise last fitted on the dev data (2026-11-22): for tests and for
 * when the dev data is absent. */
export function defaultModel(): SyntheticModel {
  const n = 6;
  return {
    kind: 'labels',
    bitProb: [],
    planeChol: [],
    coder: 'compcode',
    coderParams: { ...DEFAULT_EXTRACT.params, orientations: n },
    planes: 3,
    values: Array.from({ length: n }, (_, k) => labelBits(k, n)),
    valueProb: Array.from({ length: GRID * GRID * n }, () => 1 / n),
    blur: 1.3,
    genuineMu: -2.5,
    genuineSigma: 0.8,
    shifts: [[0, 0, 3], [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1], [1, 1, 1], [-1, -1, 1]],
    masks: [Array.from({ length: GRID }, () => 0xffffffff)],
    source: 'default (uniform labels, blur and noise from an earlier fit)',
  };
}

/** The code value of orientation index k (compcode: bit p set when (k − p − 1) mod n < n/2; see features.ts). */
export function labelBits(k: number, n: number): number {
  let v = 0;
  for (let p = 0; p < Math.ceil(n / 2); p++) if ((k - p - 1 + n) % n < n >> 1) v |= 1 << p;
  return v;
}

/** A smooth unit-variance Gaussian field over FIELD × FIELD cells (white noise, separable Gaussian blur). */
export function latentField(r: Rng, blur: number): Float64Array {
  if (blur <= 0) {
    const white = new Float64Array(FIELD * FIELD);
    fillNormal(r, white);
    return white;
  }
  const rad = Math.ceil(3 * blur);
  const w = FIELD + 2 * rad; // white noise with a border, so the blur needs no edge handling
  const white = new Float64Array(w * w);
  fillNormal(r, white);
  const k = blurTaps(blur);
  const tmp = new Float64Array(w * FIELD);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < FIELD; x++) {
      let s = 0;
      const o = y * w + x;
      for (let j = 0; j < k.length; j++) s += k[j]! * white[o + j]!;
      tmp[y * FIELD + x] = s;
    }
  }
  const out = new Float64Array(FIELD * FIELD);
  for (let y = 0; y < FIELD; y++) {
    for (let x = 0; x < FIELD; x++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j]! * tmp[(y + j) * FIELD + x]!;
      out[y * FIELD + x] = s;
    }
  }
  return out;
}

const tapCache = new Map<number, Float64Array>();
/** Gaussian taps of unit energy (so the blurred field keeps unit variance). */
function blurTaps(blur: number): Float64Array {
  let k = tapCache.get(blur);
  if (!k) {
    const rad = Math.ceil(3 * blur);
    const taps = Array.from({ length: 2 * rad + 1 }, (_, i) => Math.exp(-((i - rad) ** 2) / (2 * blur * blur)));
    const norm = Math.sqrt(taps.reduce((s, t) => s + t * t, 0));
    k = Float64Array.from(taps, (t) => t / norm);
    tapCache.set(blur, k);
  }
  return k;
}

const thresholdCache = new WeakMap<SyntheticModel, Float64Array>();
/** Per cell, the latent values where the value index steps up: z < t[0] → index 0, … (Φ⁻¹ of cumulative probabilities). */
function cellThresholds(model: SyntheticModel): Float64Array {
  let t = thresholdCache.get(model);
  if (!t) {
    const n = model.values.length;
    t = new Float64Array(GRID * GRID * (n - 1));
    for (let cell = 0; cell < GRID * GRID; cell++) {
      let acc = 0;
      for (let k = 0; k < n - 1; k++) {
        acc += model.valueProb[cell * n + k]!;
        t[cell * (n - 1) + k] = inverseNormal(Math.min(1 - 1e-12, acc));
      }
    }
    thresholdCache.set(model, t);
  }
  return t;
}

export interface SyntheticPerson {
  /** One latent field ('labels') or one per plane ('planes'). */
  fields: Float64Array[];
}

export function person(model: SyntheticModel, r: Rng): SyntheticPerson {
  const count = model.kind === 'planes' ? model.planes : 1;
  return { fields: Array.from({ length: count }, () => latentField(r, model.blur)) };
}

/**
 * Latent fields for the bulk of a large gallery: a pool of fresh fields, each handed out under one of its 8
 * symmetries (rotations, reflections). A gallery palm built from pooled fields is still a valid draw of the model;
 * two gallery palms may share a field, but every probe is fresh, so probe-to-gallery distances are unaffected.
 * It makes 10⁶-palm galleries affordable.
 */
export class FieldPool {
  private readonly fields: Float64Array[];

  constructor(model: SyntheticModel, r: Rng, size = 2048) {
    this.fields = Array.from({ length: size }, () => latentField(r, model.blur));
  }

  person(model: SyntheticModel, r: Rng): SyntheticPerson {
    const count = model.kind === 'planes' ? model.planes : 1;
    return { fields: Array.from({ length: count }, () => symmetric(this.fields[(r() * this.fields.length) | 0]!, (r() * 8) | 0)) };
  }
}

/** The field under symmetry `s` of the square (bit 0: transpose, bit 1: flip x, bit 2: flip y). */
function symmetric(f: Float64Array, s: number): Float64Array {
  const out = new Float64Array(f.length);
  for (let y = 0; y < FIELD; y++) {
    for (let x = 0; x < FIELD; x++) {
      let sx = s & 1 ? y : x;
      let sy = s & 1 ? x : y;
      if (s & 2) sx = FIELD - 1 - sx;
      if (s & 4) sy = FIELD - 1 - sy;
      out[y * FIELD + x] = f[sy * FIELD + sx]!;
    }
  }
  return out;
}

const bitThresholdCache = new WeakMap<SyntheticModel, Float64Array>();
/** Per cell and plane, the latent value above which the bit is 1. */
function bitThresholds(model: SyntheticModel): Float64Array {
  let t = bitThresholdCache.get(model);
  if (!t) {
    t = Float64Array.from(model.bitProb, (p) => inverseNormal(1 - Math.min(0.999, Math.max(0.001, p))));
    bitThresholdCache.set(model, t);
  }
  return t;
}

function pick<T>(r: Rng, items: readonly T[], weight: (t: T) => number): T {
  const total = items.reduce((s, t) => s + weight(t), 0);
  let u = r() * total;
  for (const t of items) if ((u -= weight(t)) < 0) return t;
  return items[items.length - 1]!;
}

export interface CaptureOptions {
  /** The person's own field, without capture noise (an impostor's capture is statistically the same: see bench). */
  exact?: boolean;
  /** Shift by a draw from the measured genuine shifts. The shifts were measured between two captures, so shift
   * the probe and not the enrolment, and the pair's relative shift follows the measured one. */
  shift?: boolean;
}

/** One capture's code of `p`: ρ-mixed with fresh noise, maybe shifted, with a mask drawn from the real ones. */
export function capture(model: SyntheticModel, p: SyntheticPerson, r: Rng, opts: CaptureOptions = {}): FeatureCode {
  const exact = opts.exact ?? false;
  const planes = model.planes;
  let dx = 0;
  let dy = 0;
  let fields = p.fields;
  if (!exact) {
    const rho = Math.sqrt(Math.max(0, 1 - Math.exp(model.genuineMu + model.genuineSigma * normal(r))));
    const s = Math.sqrt(1 - rho * rho);
    fields = fields.map((f) => {
      const noise = latentField(r, model.blur);
      return f.map((v, i) => rho * v + s * noise[i]!);
    });
  }
  if (opts.shift) [dx, dy] = pick(r, model.shifts, (t) => t[2]);
  const mask = Uint32Array.from(model.masks[(r() * model.masks.length) | 0]!);
  const bits = new Uint32Array(planes * GRID);
  const set = (row: number, col: number, v: number) => {
    for (let pl = 0; pl < planes; pl++) if ((v >>> pl) & 1) bits[pl * GRID + row]! |= 1 << col;
  };
  if (model.kind === 'labels') {
    const n = model.values.length;
    const thresholds = cellThresholds(model);
    const field = fields[0]!;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (((mask[row]! >>> col) & 1) === 0) continue;
        const z = field[(row + MARGIN + dy) * FIELD + col + MARGIN + dx]!;
        const o = (row * GRID + col) * (n - 1);
        let k = 0;
        while (k < n - 1 && z >= thresholds[o + k]!) k++;
        set(row, col, model.values[k]!);
      }
    }
  } else {
    const t = bitThresholds(model);
    const L = model.planeChol;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (((mask[row]! >>> col) & 1) === 0) continue;
        const at = (row + MARGIN + dy) * FIELD + col + MARGIN + dx;
        let v = 0;
        for (let pl = 0; pl < planes; pl++) {
          let z = 0;
          for (let j = 0; j <= pl; j++) z += L[pl * planes + j]! * fields[j]![at]!;
          if (z > t[(row * GRID + col) * planes + pl]!) v |= 1 << pl;
        }
        set(row, col, v);
      }
    }
  }
  for (let i = 0; i < bits.length; i++) bits[i] = bits[i]! >>> 0;
  return { rows: GRID, cols: GRID, planes, bits, mask };
}

/** An enrolment template of `captures` unshifted sub-codes, or a probe (one shifted capture). */
export function syntheticTemplate(model: SyntheticModel, p: SyntheticPerson, r: Rng, kind: 'enrol' | 'probe', captures = 1): Template {
  return {
    formatVersion: TEMPLATE_FORMAT_VERSION,
    coder: model.coder,
    coderParams: model.coderParams,
    hand: 'unknown',
    quality: 0.8,
    codes: kind === 'probe' ? [capture(model, p, r, { shift: true })] : Array.from({ length: captures }, () => capture(model, p, r)),
  };
}

/** A template of the model's coder around the given codes. */
export function modelTemplate(model: SyntheticModel, codes: FeatureCode[]): Template {
  return { formatVersion: TEMPLATE_FORMAT_VERSION, coder: model.coder, coderParams: model.coderParams, hand: 'unknown', quality: 0.8, codes };
}
