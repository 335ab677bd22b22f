// Hand segmentation and finger-valley landmarks on a small (downsampled) frame.
// Mirror- and rotation-invariant: nothing here assumes which way the fingers point or which hand it is.
import { bilinear, boxBlur } from './image.ts';
import type { GreyFrame } from './types.ts';

export interface HandMask {
  width: number;
  height: number;
  /** 1 = hand (largest bright component, holes filled). */
  mask: Uint8Array;
  area: number;
  threshold: number;
  /** True where the hand touches the frame edge on more than its wrist (the hand is cut off). */
  touchesEdge: number;
  /** The smoothed grey levels the mask thresholds (for sub-pixel edges). */
  level: Float32Array;
}

/** Otsu threshold of a smoothed image, largest 4-connected bright component, holes filled. */
export function segmentHand(small: GreyFrame): HandMask {
  const { width: w, height: h } = small;
  const f = new Float32Array(w * h);
  for (let i = 0; i < f.length; i++) f[i] = small.pixels[i]!;
  const blurred = boxBlur(f, w, h, 1);
  const threshold = otsu(blurred);
  const bin = new Uint8Array(w * h);
  for (let i = 0; i < bin.length; i++) bin[i] = blurred[i]! > threshold ? 1 : 0;
  const mask = largestComponent(bin, w, h);
  fillHoles(mask, w, h);
  let area = 0;
  let edge = 0;
  for (let i = 0; i < mask.length; i++) area += mask[i]!;
  for (let x = 0; x < w; x++) edge += mask[x]! + mask[(h - 1) * w + x]!;
  for (let y = 0; y < h; y++) edge += mask[y * w]! + mask[y * w + w - 1]!;
  return { width: w, height: h, mask, area, threshold, touchesEdge: edge, level: blurred };
}

export function otsu(v: Float32Array): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < v.length; i++) hist[Math.min(255, Math.max(0, Math.round(v[i]!)))]! += 1;
  let sum = 0;
  for (let t = 0; t < 256; t++) sum += t * hist[t]!;
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestT = 127;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = v.length - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) { best = between; bestT = t; }
  }
  return bestT + 0.5;
}

/** Keeps the largest 4-connected component of a binary image. */
export function largestComponent(bin: Uint8Array, w: number, h: number): Uint8Array {
  const label = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  let bestLabel = 0;
  let bestSize = 0;
  let next = 0;
  for (let s = 0; s < bin.length; s++) {
    if (!bin[s] || label[s]) continue;
    next++;
    let top = 0;
    let size = 0;
    stack[top++] = s;
    label[s] = next;
    while (top > 0) {
      const i = stack[--top]!;
      size++;
      const x = i % w;
      if (x > 0 && bin[i - 1] && !label[i - 1]) { label[i - 1] = next; stack[top++] = i - 1; }
      if (x < w - 1 && bin[i + 1] && !label[i + 1]) { label[i + 1] = next; stack[top++] = i + 1; }
      if (i >= w && bin[i - w] && !label[i - w]) { label[i - w] = next; stack[top++] = i - w; }
      if (i < w * (h - 1) && bin[i + w] && !label[i + w]) { label[i + w] = next; stack[top++] = i + w; }
    }
    if (size > bestSize) { bestSize = size; bestLabel = next; }
  }
  const out = new Uint8Array(w * h);
  if (bestLabel) for (let i = 0; i < out.length; i++) out[i] = label[i] === bestLabel ? 1 : 0;
  return out;
}

/** Sets every background pixel not connected to the frame edge to 1. */
function fillHoles(mask: Uint8Array, w: number, h: number): void {
  const outside = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  let top = 0;
  const push = (i: number): void => {
    if (!mask[i] && !outside[i]) { outside[i] = 1; stack[top++] = i; }
  };
  for (let x = 0; x < w; x++) {
    push(x);
    push((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    push(y * w);
    push(y * w + w - 1);
  }
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % w;
    if (x > 0) push(i - 1);
    if (x < w - 1) push(i + 1);
    if (i >= w) push(i - w);
    if (i < w * (h - 1)) push(i + w);
  }
  for (let i = 0; i < mask.length; i++) if (!outside[i]) mask[i] = 1;
}

/**
 * Palm centre: the hand pixel farthest from the background (chamfer distance). The frame edge does not count
 * as background, so a wrist cut by the edge does not pull the centre. Returns the centre and that distance
 * (the palm's inscribed radius).
 */
export function palmCentre(hm: HandMask): PalmCircle {
  const { width: w, height: h, mask } = hm;
  const big = 1e9;
  const d = new Float32Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? big : 0;
  const a = 1;
  const b = Math.SQRT2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!d[i]) continue;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + a);
      if (y > 0) {
        v = Math.min(v, d[i - w]! + a);
        if (x > 0) v = Math.min(v, d[i - w - 1]! + b);
        if (x < w - 1) v = Math.min(v, d[i - w + 1]! + b);
      }
      d[i] = v;
    }
  }
  let best = -1;
  let bx = 0;
  let by = 0;
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (!d[i]) continue;
      let v = d[i]!;
      if (x < w - 1) v = Math.min(v, d[i + 1]! + a);
      if (y < h - 1) {
        v = Math.min(v, d[i + w]! + a);
        if (x < w - 1) v = Math.min(v, d[i + w + 1]! + b);
        if (x > 0) v = Math.min(v, d[i + w - 1]! + b);
      }
      d[i] = v;
      if (v < big / 2 && v > best) { best = v; bx = x; by = y; }
    }
  }
  // The (1, √2) chamfer distance exceeds the Euclidean one by up to 8.3 %, and the palm's distance ridge is
  // flat: the Euclidean maximum can lie far from the chamfer maximum. Keep every pixel that could hold it.
  const cand: number[] = [];
  const floor = best / 1.083 - 1;
  for (let i = 0; i < d.length; i++) if (d[i]! >= floor && d[i]! < big / 2) cand.push(i);
  return { x: bx, y: by, radius: Math.max(best, 0), candidates: Int32Array.from(cand) };
}

export interface PalmCircle {
  x: number;
  y: number;
  radius: number;
  /** Pixel indices (y · width + x) whose chamfer distance is close enough to the maximum to hold the true one. */
  candidates?: Int32Array;
}

const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, 1, 1, 1, 0, -1, -1, -1];

/**
 * Outer contour of the mask by Moore-neighbour tracing, clockwise on screen (y down), starting at the top-left
 * hand pixel. Returns interleaved x, y.
 */
export function traceContour(hm: HandMask): Int32Array {
  const { width: w, height: h, mask } = hm;
  const s = mask.indexOf(1);
  if (s < 0) return new Int32Array(0);
  const sx = s % w;
  const sy = (s - sx) / w;
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] === 1;
  const pts: number[] = [sx, sy];
  let cx = sx;
  let cy = sy;
  let back = 4; // the pixel west of the start is background
  const maxSteps = 4 * w * h;
  for (let step = 0; step < maxSteps; step++) {
    let found = -1;
    for (let i = 1; i <= 8; i++) {
      const d = (back + i) % 8;
      if (inside(cx + DX[d]!, cy + DY[d]!)) {
        found = d;
        break;
      }
    }
    if (found < 0) break;
    const nx = cx + DX[found]!;
    const ny = cy + DY[found]!;
    if (cx === sx && cy === sy && pts.length > 4 && nx === pts[2] && ny === pts[3]) break;
    // The new backtrack is the background pixel checked just before `found`, seen from the new pixel.
    const pd = (found + 7) % 8;
    const bx = cx + DX[pd]! - nx;
    const by = cy + DY[pd]! - ny;
    back = dirOf(bx, by);
    cx = nx;
    cy = ny;
    pts.push(cx, cy);
  }
  if (pts.length > 2 && pts[pts.length - 2] === sx && pts[pts.length - 1] === sy) pts.length -= 2;
  return Int32Array.from(pts);
}

function dirOf(dx: number, dy: number): number {
  for (let d = 0; d < 8; d++) if (DX[d] === dx && DY[d] === dy) return d;
  return 4;
}

/**
 * Sub-pixel palm centre and inscribed radius: the point near the chamfer maximum whose Euclidean distance to
 * the hand's edge (frame-edge outline points excluded) is largest. The radius is the ROI's scale unit: it
 * varies less between captures than the valley spacing, which changes as fingers spread.
 * The edge is located to a fraction of a pixel where the smoothed grey level crosses the segmentation threshold
 * (along the ray from the centre through each outline point), not at outline pixel centres: on the 1/4-size
 * image, whole-pixel edges gave radius errors of 3–5 % when the same hand was rescaled or turned.
 */
export function refineCentre(contour: Int32Array, hm: HandMask, c: PalmCircle): { x: number; y: number; radius: number } {
  const { width: w, height: h, level, threshold } = hm;
  const n = contour.length / 2;
  const xs: number[] = [];
  const ys: number[] = [];
  const cand = c.candidates ?? Int32Array.of(Math.round(c.y) * w + Math.round(c.x));
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const i of cand) {
    x0 = Math.min(x0, i % w);
    x1 = Math.max(x1, i % w);
    y0 = Math.min(y0, Math.floor(i / w));
    y1 = Math.max(y1, Math.floor(i / w));
  }
  // Outline points that can be nearest to some candidate (within reach of the candidates' bounding box).
  const reach = c.radius * 1.1 + 4;
  for (let i = 0; i < n; i++) {
    const x = contour[2 * i]!;
    const y = contour[2 * i + 1]!;
    if (x <= 0 || y <= 0 || x >= w - 1 || y >= h - 1) continue;
    if (x < x0 - reach || x > x1 + reach || y < y0 - reach || y > y1 + reach) continue;
    const e = subPixelEdge(level, w, h, threshold, x, y, c);
    xs.push(e.x);
    ys.push(e.y);
  }
  if (xs.length === 0) return { x: c.x, y: c.y, radius: c.radius };
  const minDist = (px: number, py: number): number => {
    let m = Infinity;
    for (let i = 0; i < xs.length; i++) m = Math.min(m, (xs[i]! - px) ** 2 + (ys[i]! - py) ** 2);
    return Math.sqrt(m);
  };
  let best = { x: c.x, y: c.y, radius: minDist(c.x, c.y) };
  for (const i of cand) {
    const x = i % w;
    const y = (i - x) / w;
    const r = minDist(x, y);
    if (r > best.radius) best = { x, y, radius: r };
  }
  for (const step of [0.5, 0.25, 0.125]) {
    const from = best;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const x = from.x + dx * step;
        const y = from.y + dy * step;
        const r = minDist(x, y);
        if (r > best.radius) best = { x, y, radius: r };
      }
    }
  }
  return best;
}

/**
 * Where the smoothed level falls below the threshold along the ray from the centre through outline pixel
 * (x, y), to a fraction of a pixel (linear interpolation). Without a crossing nearby: half a pixel outwards.
 */
function subPixelEdge(level: Float32Array, w: number, h: number, threshold: number, x: number, y: number, c: { x: number; y: number }): { x: number; y: number } {
  const len = Math.hypot(x - c.x, y - c.y) || 1;
  const ux = (x - c.x) / len;
  const uy = (y - c.y) / len;
  const step = 0.25;
  let bestT = 0.5;
  let bestAbs = Infinity;
  let prev = bilinear(level, w, h, x - ux, y - uy);
  for (let t = -1 + step; t <= 2 + 1e-9; t += step) {
    const v = bilinear(level, w, h, x + t * ux, y + t * uy);
    if (prev >= threshold && v < threshold && v >= 0) {
      const at = t - step + (step * (prev - threshold)) / (prev - v);
      if (Math.abs(at) < bestAbs) { bestAbs = Math.abs(at); bestT = at; }
    }
    prev = v;
  }
  return { x: x + bestT * ux, y: y + bestT * uy };
}
