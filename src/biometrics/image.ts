// Small image helpers on typed arrays: validation, downsampling, box blur, bilinear sampling.
import { BadFrameError, type GreyFrame } from './types.ts';

export function assertFrame(f: GreyFrame): void {
  if (!f || !Number.isInteger(f.width) || !Number.isInteger(f.height) || f.width < 64 || f.height < 64 || f.width > 8192 || f.height > 8192) {
    throw new BadFrameError(`size ${f?.width}×${f?.height} (64..8192 per side expected)`);
  }
  if (!(f.pixels instanceof Uint8Array) || f.pixels.length !== f.width * f.height) {
    throw new BadFrameError(`pixel buffer of ${f.pixels?.length} bytes for ${f.width}×${f.height}`);
  }
}

/**
 * Area-average downsampling by an integer factor, of the whole frame or of the region [x0, x1) × [y0, y1)
 * (edges that do not fill a block are dropped).
 */
export function downsample(f: GreyFrame, factor: number, x0 = 0, y0 = 0, x1 = f.width, y1 = f.height): GreyFrame {
  const w = Math.floor((x1 - x0) / factor);
  const h = Math.floor((y1 - y0) / factor);
  const out = new Uint8Array(w * h);
  const acc = new Uint32Array(w);
  const n = factor * factor;
  const src = f.pixels;
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      let i = (y0 + y * factor + dy) * f.width + x0;
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dx = 0; dx < factor; dx++) s += src[i++]!;
        acc[x] = acc[x]! + s;
      }
    }
    for (let x = 0; x < w; x++) out[y * w + x] = Math.round(acc[x]! / n);
  }
  return { width: w, height: h, pixels: out };
}

/** Box blur with radius r (window 2r+1), edges clamped, on a float image. */
export function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const n = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let k = -r; k <= r; k++) s += src[row + clamp(k, 0, w - 1)]!;
    for (let x = 0; x < w; x++) {
      tmp[row + x] = s / n;
      s += src[row + Math.min(x + r + 1, w - 1)]! - src[row + Math.max(x - r, 0)]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let s = 0;
    for (let k = -r; k <= r; k++) s += tmp[clamp(k, 0, h - 1) * w + x]!;
    for (let y = 0; y < h; y++) {
      out[y * w + x] = s / n;
      s += tmp[Math.min(y + r + 1, h - 1) * w + x]! - tmp[Math.max(y - r, 0) * w + x]!;
    }
  }
  return out;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Bilinear sample of an 8-bit (or non-negative float) image at (x, y); outside the image returns -1. */
export function bilinear(px: Uint8Array | Float32Array, w: number, h: number, x: number, y: number): number {
  if (x < 0 || y < 0 || x > w - 1 || y > h - 1) return -1;
  const x0 = Math.min(Math.floor(x), w - 2);
  const y0 = Math.min(Math.floor(y), h - 2);
  const fx = x - x0;
  const fy = y - y0;
  const i = y0 * w + x0;
  const a = px[i]! + (px[i + 1]! - px[i]!) * fx;
  const b = px[i + w]! + (px[i + w + 1]! - px[i + w]!) * fx;
  return a + (b - a) * fy;
}

/**
 * The whole frame resampled to size × size by area averaging (each output pixel is the mean of the source area it
 * covers, partial pixels weighted), as floats. For pre-cropped ROIs of any size.
 */
export function resampleArea(f: GreyFrame, size: number): Float32Array {
  const sx = f.width / size;
  const sy = f.height / size;
  // Separable: columns first into a (size × height) buffer, then rows.
  const tmp = new Float32Array(size * f.height);
  for (let x = 0; x < size; x++) {
    const a = x * sx;
    const b = a + sx;
    for (let y = 0; y < f.height; y++) {
      let acc = 0;
      for (let k = Math.floor(a); k < Math.min(f.width, Math.ceil(b)); k++) acc += f.pixels[y * f.width + k]! * (Math.min(b, k + 1) - Math.max(a, k));
      tmp[y * size + x] = acc / sx;
    }
  }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const a = y * sy;
    const b = a + sy;
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let k = Math.floor(a); k < Math.min(f.height, Math.ceil(b)); k++) acc += tmp[k * size + x]! * (Math.min(b, k + 1) - Math.max(a, k));
      out[y * size + x] = acc / sy;
    }
  }
  return out;
}
