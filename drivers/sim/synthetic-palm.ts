/**
 * Synthetic near-infrared hand images, so the simulator works with no data: a palm + fingers + thumb
 * silhouette on a dark background, lit unevenly, with a dense branching vein network (fixed per identity, at
 * the scale palm-vein coders look at) darker inside the palm, and per-capture changes of pose, distance, light
 * and noise only.
 * Hand frame: u across the palm (−1..1), v from the finger bases (−1.1) to the wrist (+1.1); fingers up.
 */
import { between, hashString, rng } from './rng.ts';

export interface GreyImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

const VEIN_RES = 192; // vein map resolution over u,v ∈ [−1.2, 1.2]
const VEIN_SPAN = 1.2;

interface Capsule {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  r: number;
}

interface HandModel {
  veins: Float32Array; // darkness 0..1 on a VEIN_RES² grid
  fingers: Capsule[];
}

const models = new Map<string, HandModel>();

/**
 * The hand of one identity: finger lengths/spread and the vein network, fixed by the identity alone (a capture
 * changes only pose, light and noise, which the recogniser's ROI normalises away).
 *
 * Veins are drawn at the scale the recogniser looks at: its ROI is a square of side 1.4 R (R = the palm's
 * inscribed radius, ≈ 1 hand unit here) sampled at 64 px, and its Gabor filters have a wavelength of 9.5 ROI px,
 * i.e. ≈ 0.2 hand units. So vessels are 0.06–0.12 units wide and a dense, per-identity random branching network
 * (trunks from the wrist plus branches seeded all over the palm) covers the whole palm, about one vessel per
 * 0.2–0.3 units, whatever the image size (everything is in hand units).
 */
function handModel(identity: string): HandModel {
  const cached = models.get(identity);
  if (cached) return cached;
  const r = rng(hashString(`palm:${identity}`));
  // Fingers: index..little at the top edge of the palm, fanned out so the valleys between them are open.
  const fingers: Capsule[] = [];
  const lens = [1.75, 1.95, 1.8, 1.4];
  [-0.69, -0.23, 0.23, 0.69].forEach((u, i) => {
    const len = lens[i]! * between(r, 0.92, 1.08);
    const tilt = u * 0.42 + between(r, -0.04, 0.04);
    fingers.push({ ax: u, ay: -0.95, bx: u + Math.sin(tilt) * len, by: -0.95 - Math.cos(tilt) * len, r: between(r, 0.135, 0.15) });
  });
  fingers.push({ ax: 0.95, ay: 0.45, bx: 1.75 + between(r, -0.1, 0.1), by: -0.35 + between(r, -0.1, 0.1), r: 0.24 });

  const veins = new Float32Array(VEIN_RES * VEIN_RES);
  const cell = (2 * VEIN_SPAN) / VEIN_RES;
  /** A soft disc of darkness (Gaussian-like cross-section of half-width w hand units). */
  const stamp = (u: number, v: number, w: number, depth: number) => {
    const cx = (u + VEIN_SPAN) / cell - 0.5;
    const cy = (v + VEIN_SPAN) / cell - 0.5;
    const rad = Math.max(0.7, w / cell);
    const reach = Math.ceil(rad * 1.8);
    for (let y = Math.floor(cy) - reach; y <= Math.ceil(cy) + reach; y++) {
      if (y < 0 || y >= VEIN_RES) continue;
      for (let x = Math.floor(cx) - reach; x <= Math.ceil(cx) + reach; x++) {
        if (x < 0 || x >= VEIN_RES) continue;
        const d = Math.hypot(x - cx, y - cy) / rad;
        const val = depth * Math.exp(-d * d * 1.2);
        if (val > veins[y * VEIN_RES + x]!) veins[y * VEIN_RES + x] = val;
      }
    }
  };
  type Tip = { u: number; v: number; a: number; w: number; depth: number; life: number; turn: number };
  const tips: Tip[] = [];
  // Trunks from the wrist.
  const trunks = 3 + Math.floor(r() * 3);
  for (let i = 0; i < trunks; i++) {
    tips.push({ u: between(r, -0.8, 0.8), v: 1.15, a: -Math.PI / 2 + between(r, -0.6, 0.6), w: between(r, 0.05, 0.065), depth: between(r, 0.8, 1), life: 50 + r() * 50, turn: 0 });
  }
  // Vessels seeded all over the palm, in any direction: the fine network that makes each palm its own.
  const seeds = 14 + Math.floor(r() * 8);
  for (let i = 0; i < seeds; i++) {
    tips.push({ u: between(r, -0.95, 0.95), v: between(r, -1.05, 1.0), a: between(r, 0, Math.PI * 2), w: between(r, 0.032, 0.05), depth: between(r, 0.55, 0.95), life: 18 + r() * 30, turn: 0 });
  }
  let guard = 0;
  while (tips.length > 0 && guard++ < 400) {
    const t = tips.pop()!;
    while (t.life-- > 0 && Math.abs(t.u) < 1.15 && Math.abs(t.v) < 1.25) {
      stamp(t.u, t.v, t.w, t.depth);
      t.turn = t.turn * 0.7 + between(r, -0.12, 0.12); // smooth curvature
      t.a += t.turn;
      t.u += Math.cos(t.a) * 0.02;
      t.v += Math.sin(t.a) * 0.02;
      if (r() < 0.035 && t.w > 0.03) {
        tips.push({ u: t.u, v: t.v, a: t.a + (r() < 0.5 ? -1 : 1) * between(r, 0.5, 1.2), w: t.w * 0.8, depth: t.depth * 0.9, life: 15 + r() * 30, turn: 0 });
      }
    }
  }
  const model = { veins, fingers };
  models.set(identity, model);
  return model;
}

function capsuleDist(px: number, py: number, c: Capsule): number {
  const dx = c.bx - c.ax;
  const dy = c.by - c.ay;
  const t = Math.max(0, Math.min(1, ((px - c.ax) * dx + (py - c.ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - c.ax - t * dx, py - c.ay - t * dy) - c.r;
}

/** Signed distance (hand units) to the palm's rounded rectangle. */
function palmDist(u: number, v: number): number {
  const qx = Math.abs(u) - 0.78;
  const qy = Math.abs(v) - 0.88;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - 0.22;
}

function veinAt(m: HandModel, u: number, v: number): number {
  const x = ((u + VEIN_SPAN) / (2 * VEIN_SPAN)) * VEIN_RES - 0.5;
  const y = ((v + VEIN_SPAN) / (2 * VEIN_SPAN)) * VEIN_RES - 0.5;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= VEIN_RES || y0 + 1 >= VEIN_RES) return 0;
  const fx = x - x0;
  const fy = y - y0;
  const i = y0 * VEIN_RES + x0;
  const a = m.veins[i]! * (1 - fx) + m.veins[i + 1]! * fx;
  const b = m.veins[i + VEIN_RES]! * (1 - fx) + m.veins[i + VEIN_RES + 1]! * fx;
  return a * (1 - fy) + b * fy;
}

/**
 * Renders one capture. `sample` fixes the session pose (like a sample number in a dataset);
 * `capture` adds a fresh small pose/light/noise change on every call.
 */
export function syntheticPalm(identity: string, sample: number, capture: number, width = 640, height = 480): GreyImage {
  const m = handModel(identity);
  const rs = rng(hashString(`pose:${identity}:${sample}`));
  const rc = rng(hashString(`cap:${identity}:${sample}:${capture}`));
  const theta = between(rs, -0.12, 0.12) + between(rc, -0.03, 0.03);
  const scale = Math.min(width, height) * 0.16 * between(rs, 0.93, 1.07) * between(rc, 0.98, 1.02);
  const cx = width * (0.5 + between(rs, -0.04, 0.04) + between(rc, -0.01, 0.01));
  const cy = height * (0.66 + between(rs, -0.03, 0.03) + between(rc, -0.01, 0.01));
  const gain = between(rs, 0.85, 1.1) * between(rc, 0.95, 1.05);
  const lightA = between(rc, 0, Math.PI * 2);
  const lx = Math.cos(lightA) * 0.12;
  const ly = Math.sin(lightA) * 0.12;
  const noise = between(rc, 3, 6);
  let seed = hashString(`noise:${identity}:${sample}:${capture}`) | 1;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const px = new Uint8Array(width * height);
  const edge = 1.5 / scale; // soft silhouette edge, ~1.5 px
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = (dx * cos + dy * sin) / scale;
      const v = (-dx * sin + dy * cos) / scale;
      const dPalm = palmDist(u, v);
      let d = Math.min(dPalm, v > 0.8 ? Math.max(Math.abs(u) - 0.95, 0.8 - v) : Infinity); // wrist runs off the bottom
      for (const f of m.fingers) d = Math.min(d, capsuleDist(u, v, f));
      const inside = d < -edge ? 1 : d > edge ? 0 : (edge - d) / (2 * edge);
      // xorshift noise, roughly Gaussian (sum of two uniforms)
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const n1 = (seed >>> 0) / 4294967296;
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const n2 = (seed >>> 0) / 4294967296;
      const nz = (n1 + n2 - 1) * noise * 1.7;
      let value = 14 + nz * 0.6;
      if (inside > 0) {
        const rr = Math.min(0.35, u * u * 0.12 + v * v * 0.1); // vignetting, bounded so fingertips stay visible
        let skin = 165 * gain * (1 - rr) * (1 + lx * u + ly * v);
        if (dPalm < 0.05) skin *= 1 - 0.32 * veinAt(m, u, v) * Math.min(1, -dPalm * 6 + 0.3);
        value = value * (1 - inside) + (skin + nz) * inside;
      }
      px[y * width + x] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
  }
  return { width, height, pixels: px };
}
