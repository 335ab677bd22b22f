/**
 * PalmPay's packed frames (drivers/PROTOCOL.md, table 2, PP_INFO bit 4): an 8-bit frame sent losslessly as PNG's
 * "up" row filter (each byte minus the one above it, mod 256) then a raw deflate stream (RFC 1951). Which deflate
 * strategy is the module's choice (any valid stream inflates); ours is Huffman-only at level 1, whose time does not
 * depend on the picture. Measured on NIR frames (README, issue 14i): CASIA 940 nm palms at 640×480 pack to ≈ 0.29 of
 * their bytes (≈ 0.21 with zlib's run-length strategy, which costs up to 2.7 × as much on noisy frames), the
 * simulator's noisier synthetic palms to ≈ 0.47; Paeth/MED filters gain a few per cent for several times the CPU.
 * Pure; the decoder never allocates from an unchecked length and every failure is a typed DriverError.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DriverError } from '../errors.ts';

/** Frame encodings a PP_SNAP may ask for and answer with. */
export const FRAME_ENCODING = { RAW: 0, UP_DEFLATE: 1 } as const;
export type FrameEncoding = (typeof FRAME_ENCODING)[keyof typeof FRAME_ENCODING];

/**
 * The most bytes a packed frame of `pixels` bytes may declare: deflate's worst case (stored blocks, 5 bytes per
 * 65,535) plus slack. A module whose frame does not pack smaller sends it raw instead, so this only bounds lies.
 */
export function maxPackedBytes(pixels: number): number {
  return pixels + 5 * Math.ceil(pixels / 65535) + 64;
}

const HIGH = 0x80808080;
const LOW = 0x7f7f7f7f;

/** Four bytes at a time (lane-wise mod 256, no carry across lanes) where rows and buffers are 4-byte aligned. */
const words = (b: Uint8Array, width: number) => (width % 4 === 0 && b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2) : null);

/** Module side: the frame's up-filtered rows, deflated (Huffman-only: see above). */
export function packFrame(pixels: Uint8Array, width: number): Uint8Array {
  const filtered = new Uint8Array(pixels.length);
  filtered.set(pixels.subarray(0, width));
  let i = width;
  const src = words(pixels, width);
  const dst = words(filtered, width);
  if (src && dst) {
    const w4 = width >>> 2;
    for (let k = w4; k < src.length; k++) {
      const a = src[k]!;
      const b = src[k - w4]!;
      dst[k] = ((a | HIGH) - (b & LOW)) ^ ((a ^ ~b) & HIGH);
    }
    i = Math.max(width, src.length * 4);
  }
  for (; i < pixels.length; i++) filtered[i] = (pixels[i]! - pixels[i - width]!) & 0xff;
  return deflateRawSync(filtered, { level: 1, strategy: constants.Z_HUFFMAN_ONLY });
}

/**
 * Host side: exactly `width × height` pixels back from a packed frame, or PROTO_FRAME_CORRUPT (a stream that does not
 * inflate, inflates to more or fewer bytes than the frame). inflate stops at `width × height + 1` bytes, so a
 * hostile stream cannot make it allocate more than the frame the snap declared (≤ 2048 × 2048, parseSnapResult).
 */
export function unpackFrame(packed: Uint8Array, width: number, height: number): Uint8Array {
  const size = width * height;
  let filtered: Uint8Array;
  try {
    filtered = inflateRawSync(packed, { maxOutputLength: size + 1 });
  } catch (err) {
    throw new DriverError('PROTO_FRAME_CORRUPT', `packed frame ${width}×${height}: ${(err as Error).message}`, { cause: err });
  }
  if (filtered.length !== size) throw new DriverError('PROTO_FRAME_CORRUPT', `packed frame ${width}×${height}: inflates to ${filtered.length} bytes, want ${size}`);
  // Undone in place: the inflated buffer is ours.
  const pixels = new Uint8Array(filtered.buffer, filtered.byteOffset, size);
  let i = width;
  const w32 = words(pixels, width);
  if (w32) {
    const w4 = width >>> 2;
    for (let k = w4; k < w32.length; k++) {
      const a = w32[k]!;
      const b = w32[k - w4]!;
      w32[k] = ((a & LOW) + (b & LOW)) ^ ((a ^ b) & HIGH);
    }
    i = Math.max(width, w32.length * 4);
  }
  for (; i < size; i++) pixels[i] = (pixels[i]! + pixels[i - width]!) & 0xff;
  return pixels;
}
