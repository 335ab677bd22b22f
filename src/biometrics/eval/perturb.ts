// Reproducible geometric perturbation for robustness evaluation: each image is warped once by a seeded random
// similarity transform (rotation and scale about the frame centre), as when a hand is laid on the counter at
// another angle and height. Pure: no I/O.
import { PalmPayError } from '../../util/errors.ts';
import { fnv1a, mulberry32 } from '../../util/random.ts';
import { bilinear } from '../image.ts';
import type { GreyFrame, RoiGeometry } from '../types.ts';

/** What to draw per image: rotation uniform in ±rotateDeg, scale uniform in [scaleMin, scaleMax]. */
export interface PerturbSpec {
  rotateDeg: number;
  scaleMin: number;
  scaleMax: number;
  seed: number;
}

/** One drawn transform: output pixel p maps to source pixel centre + R(−angle)·(p − centre)/scale. */
export interface Similarity {
  /** Rotation, radians, counter-clockwise on screen (y down: a positive angle turns the content anticlockwise). */
  angle: number;
  scale: number;
  cx: number;
  cy: number;
}

export class PerturbSpecError extends PalmPayError {
  constructor(message: string) {
    super('EVAL_USAGE', `bad --perturb: ${message}`);
  }
}

/** Parses `rotate=30,scale=0.85-1.1,seed=1` (every key optional, each at most once; rotate in degrees, ±). */
export function parsePerturb(text: string): PerturbSpec {
  const spec: PerturbSpec = { rotateDeg: 0, scaleMin: 1, scaleMax: 1, seed: 1 };
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new PerturbSpecError('empty (expected e.g. rotate=30,scale=0.85-1.1,seed=1)');
  const seen = new Set<string>();
  const num = /^\d+(?:\.\d+)?$/; // plain decimals only: no signs, exponents or hex
  for (const part of parts) {
    const m = /^(rotate|scale|seed)=(.*)$/.exec(part);
    if (!m) throw new PerturbSpecError(`"${part}" (expected rotate=DEG, scale=MIN-MAX or scale=S, seed=N)`);
    const key = m[1]!;
    const v = m[2]!;
    if (seen.has(key)) throw new PerturbSpecError(`${key} given twice`);
    seen.add(key);
    if (key === 'rotate') {
      const d = num.test(v) ? Number(v) : NaN;
      if (!(d >= 0 && d <= 180)) throw new PerturbSpecError(`rotate=${v} (0..180 degrees)`);
      spec.rotateDeg = d;
    } else if (key === 'scale') {
      const [a, b, ...rest] = v.split('-');
      const lo = a !== undefined && num.test(a) ? Number(a) : NaN;
      const hi = b === undefined ? lo : num.test(b) ? Number(b) : NaN;
      if (rest.length || !(lo >= 0.25 && hi <= 4 && lo <= hi)) throw new PerturbSpecError(`scale=${v} (S or MIN-MAX, within 0.25..4, MIN ≤ MAX)`);
      spec.scaleMin = lo;
      spec.scaleMax = hi;
    } else {
      const s = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(s <= 0xffffffff)) throw new PerturbSpecError(`seed=${v} (an integer 0..4294967295)`);
      spec.seed = s;
    }
  }
  return spec;
}

/**
 * The transform for one image, drawn from the seed and the image's key (its file name), so that a sample gets
 * the same warp whatever the order or subset of the data set.
 */
export function drawSimilarity(spec: PerturbSpec, key: string, width: number, height: number): Similarity {
  const rng = mulberry32(fnv1a(key, spec.seed >>> 0));
  const angle = (rng() * 2 - 1) * spec.rotateDeg * (Math.PI / 180);
  const scale = spec.scaleMin + rng() * (spec.scaleMax - spec.scaleMin);
  return { angle, scale, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

/** Where source point p lands in the warped frame. */
export function forwardPoint(t: Similarity, p: { x: number; y: number }): { x: number; y: number } {
  const c = Math.cos(t.angle);
  const s = Math.sin(t.angle);
  const dx = p.x - t.cx;
  const dy = p.y - t.cy;
  // Anticlockwise on screen with y down: (x, y) → (x cos + y sin, −x sin + y cos).
  return { x: t.cx + t.scale * (c * dx + s * dy), y: t.cy + t.scale * (-s * dx + c * dy) };
}

/**
 * Warps a frame (same size) by the similarity, bilinear; output pixels whose source falls outside the frame
 * take `fill` (default: the frame's background level, see backgroundLevel).
 */
export function warpSimilarity(f: GreyFrame, t: Similarity, fill = backgroundLevel(f)): GreyFrame {
  const { width: w, height: h, pixels: src } = f;
  const out = new Uint8Array(w * h);
  const c = Math.cos(t.angle) / t.scale;
  const s = Math.sin(t.angle) / t.scale;
  for (let y = 0; y < h; y++) {
    const dy = y - t.cy;
    for (let x = 0; x < w; x++) {
      const dx = x - t.cx;
      // Inverse of forwardPoint.
      const v = bilinear(src, w, h, t.cx + c * dx - s * dy, t.cy + s * dx + c * dy);
      out[y * w + x] = v < 0 ? fill : Math.round(v);
    }
  }
  return { width: w, height: h, pixels: out };
}

/** The background grey level: the median of the frame's outermost pixel ring (mostly background; the wrist is a minority). */
export function backgroundLevel(f: GreyFrame): number {
  const hist = new Uint32Array(256);
  const { width: w, height: h, pixels: p } = f;
  for (let x = 0; x < w; x++) { hist[p[x]!]!++; hist[p[(h - 1) * w + x]!]!++; }
  for (let y = 1; y < h - 1; y++) { hist[p[y * w]!]!++; hist[p[y * w + w - 1]!]!++; }
  const n = 2 * w + 2 * (h - 2);
  let acc = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v]!;
    if (acc * 2 >= n) return v;
  }
  return 0;
}

/** How far the ROI found on a warped frame lies from the ROI of the unwarped frame carried through the warp. */
export interface GeometryError {
  /** Signed ROI rotation error, degrees. */
  angleDeg: number;
  /** Relative ROI size error: found side / (unwarped side × true scale) − 1. */
  scale: number;
  /** ROI centre displacement, in code cells (1/32 of the ROI side). */
  centreCells: number;
  /** Larger displacement of the two valleys, in code cells. */
  valleyCells: number;
}

export function geometryError(ref: RoiGeometry, got: RoiGeometry, t: Similarity): GeometryError {
  const cell = got.side / 32;
  const dist = (p: { x: number; y: number }, q: { x: number; y: number }): number => {
    const f = forwardPoint(t, q);
    return Math.hypot(p.x - f.x, p.y - f.y);
  };
  // The warp turns the content anticlockwise on screen (y down), which lowers atan2 angles by t.angle.
  let da = got.angle - (ref.angle - t.angle);
  da = Math.atan2(Math.sin(da), Math.cos(da));
  return {
    angleDeg: (da * 180) / Math.PI,
    scale: got.side / (ref.side * t.scale) - 1,
    centreCells: dist(got.centre, ref.centre) / cell,
    valleyCells: Math.max(dist(got.valleyA, ref.valleyA), dist(got.valleyB, ref.valleyB)) / cell,
  };
}

/** The ROI of the unwarped frame carried through the warp: where a perfect landmark stage would put it. */
export function warpGeometry(g: RoiGeometry, t: Similarity): RoiGeometry {
  return {
    valleyA: forwardPoint(t, g.valleyA),
    valleyB: forwardPoint(t, g.valleyB),
    centre: forwardPoint(t, g.centre),
    side: g.side * t.scale,
    angle: g.angle - t.angle,
  };
}
