/**
 * Where the simulator's images come from: the synthetic generator (default, no data needed) or a
 * folder of real NIR images named `<id>_l_940_<NN>.jpg|png` (the CASIA layout), resized if asked.
 */
import { decodeImageBytes } from '../util/image-file.ts';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError } from '../errors.ts';
import { syntheticPalm, type GreyImage } from './synthetic-palm.ts';

export interface ImageSource {
  readonly name: string;
  /** One capture of `identity`'s palm, `sample`-th presentation, `capture`-th shot of it. */
  image(identity: string, sample: number, capture: number): Promise<GreyImage>;
}

export function syntheticSource(size: { width: number; height: number } = { width: 640, height: 480 }): ImageSource {
  return {
    name: `synthetic ${size.width}×${size.height}`,
    image: async (identity, sample, capture) => syntheticPalm(identity, sample, capture, size.width, size.height),
  };
}

/** Bilinear resize of an 8-bit image. */
export function resize(img: GreyImage, width: number, height: number): GreyImage {
  if (img.width === width && img.height === height) return img;
  const out = new Uint8Array(width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(img.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(img.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(img.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const wx = fx - x0;
      const p = img.pixels;
      const a = p[y0 * img.width + x0]! * (1 - wx) + p[y0 * img.width + x1]! * wx;
      const b = p[y1 * img.width + x0]! * (1 - wx) + p[y1 * img.width + x1]! * wx;
      out[y * width + x] = Math.round(a * (1 - wy) + b * wy);
    }
  }
  return { width, height, pixels: out };
}

/** Decodes a JPEG or PNG file to 8-bit grey. */
export async function decodeImageFile(path: string): Promise<GreyImage> {
  return decodeImageBytes(await readFile(path), path);
}

/**
 * Images from a folder: identity "001", sample 1 → 001_l_940_01.jpg. Samples wrap around the ones
 * present. Repeated captures of a sample give the same picture (real data has no per-shot variation).
 */
export async function folderSource(dir: string, size?: { width: number; height: number }): Promise<ImageSource & { identities: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  } catch (err) {
    throw new DriverError('CONFIG_INVALID', `image folder ${dir} cannot be read`, { cause: err });
  }
  const byId = new Map<string, string[]>();
  for (const n of names) {
    const id = n.split('_')[0]!;
    byId.set(id, [...(byId.get(id) ?? []), n]);
  }
  if (byId.size === 0) throw new DriverError('CONFIG_INVALID', `no images in ${dir}`);
  const cache = new Map<string, GreyImage>();
  return {
    name: `folder ${dir}`,
    identities: [...byId.keys()],
    async image(identity, sample) {
      const files = byId.get(identity);
      if (!files) throw new DriverError('SIM_FAILED', `no images of identity '${identity}' in ${dir}`);
      const file = files[(((sample - 1) % files.length) + files.length) % files.length]!;
      let img = cache.get(file);
      if (!img) {
        img = await decodeImageFile(join(dir, file));
        if (size) img = resize(img, size.width, size.height);
        cache.set(file, img);
      }
      return img;
    },
  };
}

/** The working distance at which a source's images are taken (the glass default, mm). */
export const NOMINAL_DISTANCE_MM = 60;

/**
 * What the camera sees of a palm held at `distanceMm` instead of the nominal distance: the picture scaled about
 * its centre by nominal / distance (smaller when farther, larger and cut off when closer), background outside.
 * The recogniser then fails to acquire for the physical reason (hand too small / too large), not from a label.
 */
export function atDistance(img: GreyImage, distanceMm: number): GreyImage {
  if (!(distanceMm > 0)) return img;
  const s = NOMINAL_DISTANCE_MM / distanceMm;
  if (Math.abs(s - 1) < 0.02) return img;
  const { width, height, pixels } = img;
  const out = new Uint8Array(width * height);
  const cx = width / 2;
  const cy = height / 2;
  const background = Math.min(pixels[0]!, pixels[width - 1]!, pixels[(height - 1) * width]!, pixels[height * width - 1]!);
  for (let y = 0; y < height; y++) {
    const sy = Math.round((y - cy) / s + cy);
    for (let x = 0; x < width; x++) {
      const sx = Math.round((x - cx) / s + cx);
      out[y * width + x] = sx >= 0 && sx < width && sy >= 0 && sy < height ? pixels[sy * width + sx]! : background;
    }
  }
  return { width, height, pixels: out };
}
