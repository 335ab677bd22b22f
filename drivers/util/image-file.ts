// Encoded image files (JPEG, PNG) ↔ 8-bit grey pixels, for images a module uploads as a file and for the
// simulator's folder source. Sizes are checked before decoding, so a hostile header cannot make us allocate.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DriverError } from '../errors.ts';

export interface GreyPixels {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Largest side accepted from a decoded file (as our own image caps). */
export const MAX_DECODED_SIDE = 2048;

const invalid = (what: string) => new DriverError('MODULE_IMAGE_INVALID', what);

function grey(w: number, h: number, rgba: Uint8Array): GreyPixels {
  const px = new Uint8Array(w * h);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!);
  return { width: w, height: h, pixels: px };
}

/** Decodes a whole JPEG or PNG file to grey; anything else, or a cut-off file, is MODULE_IMAGE_INVALID. */
export function decodeImageBytes(buf: Uint8Array, what = 'image'): GreyPixels {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const isPng = b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
  const isJpeg = b.length > 4 && b[0] === 0xff && b[1] === 0xd8;
  if (!isPng && !isJpeg) throw invalid(`${what}: neither a JPEG nor a PNG file`);
  try {
    if (isPng) {
      const [w, h] = [b.readUInt32BE(16), b.readUInt32BE(20)];
      if (w < 1 || h < 1 || w > MAX_DECODED_SIDE || h > MAX_DECODED_SIDE) throw invalid(`${what}: PNG of ${w}×${h}`);
      const png = PNG.sync.read(b);
      return grey(png.width, png.height, png.data);
    }
    // A JPEG must end with its EOI marker: a cut-off or short upload would otherwise decode to a grey tail.
    if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) throw invalid(`${what}: JPEG without its end marker (cut off?)`);
    const img = jpeg.decode(b, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: (MAX_DECODED_SIDE * MAX_DECODED_SIDE) / 1e6, maxMemoryUsageInMB: 64 });
    if (img.width < 1 || img.height < 1 || img.width > MAX_DECODED_SIDE || img.height > MAX_DECODED_SIDE) throw invalid(`${what}: JPEG of ${img.width}×${img.height}`);
    return grey(img.width, img.height, img.data);
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw invalid(`${what}: does not decode (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Encodes grey pixels as a JPEG file (what camera modules store). */
export function encodeGreyJpeg(img: GreyPixels, quality = 92): Uint8Array {
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0; i < img.pixels.length; i++) {
    rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = img.pixels[i]!;
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: img.width, height: img.height }, quality).data);
}
