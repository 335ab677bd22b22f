// Synthetic NIR hand frames with known geometry, for tests and the benchmark's fallback. Pure and deterministic.
// Hand coordinates: palm centre at the origin, fingers towards −y, thumb on −x (a left hand seen palm-up
// with the thumb on the left... mirrored by `mirror`). One unit = one frame pixel at scale 1.
import type { GreyFrame } from './types.ts';
import { mulberry32 } from '../util/random.ts';

export interface SynthHandOptions {
  width?: number;
  height?: number;
  /** Rotation of the hand in the frame, radians (counter-clockwise on screen). */
  angle?: number;
  scale?: number;
  mirror?: boolean;
  /** Frame position of the palm centre. */
  cx?: number;
  cy?: number;
  /** Identity: the vein pattern. */
  seed?: number;
  /** Capture: the sensor noise. */
  noiseSeed?: number;
  /** Gap between neighbouring fingers at their base (0 = fingers closed). */
  fingerGap?: number;
  /** Vein darkness (0 = no veins). */
  veinDepth?: number;
}

export interface SynthHand {
  frame: GreyFrame;
  /** Ground truth in frame pixels: the index–middle and ring–little valleys, and the palm centre. */
  valleys: Array<{ x: number; y: number }>;
  palmCentre: { x: number; y: number };
}

const FINGERS = [
  { x: -75, len: 150 },
  { x: -25, len: 172 },
  { x: 25, len: 160 },
  { x: 75, len: 122 },
];
const PALM_TOP = -110;

export function synthHand(o: SynthHandOptions = {}): SynthHand {
  const width = o.width ?? 768;
  const height = o.height ?? 576;
  const angle = o.angle ?? 0;
  const scale = o.scale ?? 1;
  const mirror = o.mirror ?? false;
  const cx = o.cx ?? width / 2;
  const cy = o.cy ?? height / 2 + 60;
  const gap = o.fingerGap ?? 10;
  const fr = (50 - gap) / 2; // finger radius
  const veinDepth = o.veinDepth ?? 45;
  const rng = mulberry32(o.seed ?? 1);
  const waves = Array.from({ length: 10 }, () => ({
    kx: (rng() - 0.5) * 0.12,
    ky: (rng() - 0.5) * 0.12,
    ph: rng() * Math.PI * 2,
    a: 0.5 + rng(),
  }));
  const noise = mulberry32(o.noiseSeed ?? 7);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const toFrame = (hx: number, hy: number): { x: number; y: number } => {
    const x = (mirror ? -hx : hx) * scale;
    const y = hy * scale;
    return { x: cx + x * cos + y * sin, y: cy - x * sin + y * cos };
  };
  const px = new Uint8Array(width * height);
  for (let fy = 0; fy < height; fy++) {
    for (let fx = 0; fx < width; fx++) {
      // Frame → hand coordinates (inverse of toFrame).
      const dx = fx - cx;
      const dy = fy - cy;
      let hx = (dx * cos - dy * sin) / scale;
      const hy = (dx * sin + dy * cos) / scale;
      if (mirror) hx = -hx;
      let v = 22 + noise() * 10;
      if (inHand(hx, hy, fr)) {
        const shade = 175 - 0.0015 * (hx * hx + hy * hy) * 0.5;
        let f = 0;
        for (const w of waves) f += w.a * Math.sin(w.kx * hx + w.ky * hy + w.ph);
        const vein = Math.exp(-(f * f) / 0.08);
        v = Math.max(60, shade) - veinDepth * vein + (noise() - 0.5) * 12;
      }
      px[fy * width + fx] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return {
    frame: { width, height, pixels: px },
    valleys: [toFrame(-50, PALM_TOP), toFrame(50, PALM_TOP)],
    palmCentre: toFrame(0, 0),
  };
}

function inHand(x: number, y: number, fr: number): boolean {
  // Palm: a rounded rectangle; wrist and forearm run off towards +y.
  if (x >= -100 && x <= 100 && y >= PALM_TOP && y <= 130) {
    const rc = 30;
    const qx = Math.abs(x) - (100 - rc);
    const qy = y - (PALM_TOP + rc);
    if (!(qx > 0 && qy < 0 && qx * qx + qy * qy > rc * rc)) return true;
  }
  if (y > 100 && Math.abs(x) <= 80) return true;
  for (const f of FINGERS) if (capsule(x, y, f.x, PALM_TOP + 10, f.x, PALM_TOP - f.len, fr)) return true;
  // Thumb: out and up from the lower −x side.
  return capsule(x, y, -85, 40, -190, -60, 26);
}

function capsule(x: number, y: number, ax: number, ay: number, bx: number, by: number, r: number): boolean {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
  const ex = x - (ax + t * vx);
  const ey = y - (ay + t * vy);
  return ex * ex + ey * ey <= r * r;
}

/** Mirrors a frame left–right (a right hand from a left one). */
export function mirrorFrame(f: GreyFrame): GreyFrame {
  const out = new Uint8Array(f.pixels.length);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) out[y * f.width + x] = f.pixels[y * f.width + (f.width - 1 - x)]!;
  }
  return { width: f.width, height: f.height, pixels: out };
}
