// Template codec: compact, versioned bytes with a CRC-32, so a corrupted or unknown template is rejected with a
// typed error and never misread as some other hand.
//
// Byte layout, format version 1 (all integers little-endian):
//   0  'P' 'V' 'T'          magic
//   3  u8  formatVersion    = 1
//   4  u8  coder            1 = compcode, 2 = bocv, 3 = ordinal
//   5  u8  roiSize          coder parameters (see CoderParams)
//   6  u8  wavelength10
//   7  u8  kernelRadius
//   8  u8  orientations
//   9  u8  rows
//  10  u8  cols             = 32 (one grid row per 32-bit word)
//  11  u8  planes
//  12  u8  hand             0 = unknown, 1 = left, 2 = right
//  13  u8  quality          round(quality × 255)
//  14  u8  codeCount        1..MAX_CODES sub-codes
//  15  codes: for each, planes × rows u32 words of bits, then rows u32 words of mask (layout: types.ts FeatureCode)
//  end-4  u32 CRC-32 (IEEE) of every byte before it
// CRC-32 detects every error confined to 32 consecutive bits, so every single-byte corruption is caught.
import CRC32 from 'crc-32';
import {
  TemplateCorruptError,
  TemplateVersionError,
  type CoderId,
  type CoderParams,
  type FeatureCode,
  type Hand,
  type Template,
} from './types.ts';

export const TEMPLATE_FORMAT_VERSION = 1;
export const MAX_CODES = 16;
const MAGIC = [0x50, 0x56, 0x54];
const HEADER_BYTES = 15;
const CODER_IDS: readonly CoderId[] = ['compcode', 'bocv', 'ordinal'];
const HANDS: readonly Hand[] = ['unknown', 'left', 'right'];

/** Planes each coder writes per cell. */
export function planesForCoder(coder: CoderId, orientations: number): number {
  if (coder === 'compcode') return Math.ceil(orientations / 2);
  if (coder === 'bocv') return orientations;
  return Math.floor(orientations / 2);
}

function codeWords(rows: number, planes: number): number {
  return planes * rows + rows;
}

export function encodeTemplate(t: Template): Uint8Array {
  validateTemplate(t);
  const first = t.codes[0]!;
  const words = codeWords(first.rows, first.planes);
  const out = new Uint8Array(HEADER_BYTES + t.codes.length * words * 4 + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[3] = t.formatVersion;
  out[4] = CODER_IDS.indexOf(t.coder) + 1;
  out[5] = t.coderParams.roiSize;
  out[6] = t.coderParams.wavelength10;
  out[7] = t.coderParams.kernelRadius;
  out[8] = t.coderParams.orientations;
  out[9] = first.rows;
  out[10] = first.cols;
  out[11] = first.planes;
  out[12] = HANDS.indexOf(t.hand);
  out[13] = Math.round(t.quality * 255);
  out[14] = t.codes.length;
  let o = HEADER_BYTES;
  for (const c of t.codes) {
    for (const w of c.bits) { view.setUint32(o, w, true); o += 4; }
    for (const w of c.mask) { view.setUint32(o, w, true); o += 4; }
  }
  view.setUint32(o, crc32(out.subarray(0, o)), true);
  return out;
}

export function decodeTemplate(bytes: Uint8Array): Template {
  if (!(bytes instanceof Uint8Array)) throw new TemplateCorruptError('not a byte array');
  if (bytes.length < HEADER_BYTES + 4) throw new TemplateCorruptError(`too short (${bytes.length} bytes)`);
  if (MAGIC.some((m, i) => bytes[i] !== m)) throw new TemplateCorruptError('bad magic (not a palm template)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) throw new TemplateCorruptError('checksum mismatch');
  const version = bytes[3]!;
  if (version !== TEMPLATE_FORMAT_VERSION) {
    throw new TemplateVersionError(`format version ${version} is not supported (this build reads ${TEMPLATE_FORMAT_VERSION})`);
  }
  const coder = CODER_IDS[bytes[4]! - 1];
  if (!coder) throw new TemplateVersionError(`unknown coder id ${bytes[4]}`);
  const hand = HANDS[bytes[12]!];
  if (!hand) throw new TemplateCorruptError(`bad hand byte ${bytes[12]}`);
  const coderParams: CoderParams = {
    roiSize: bytes[5]!,
    wavelength10: bytes[6]!,
    kernelRadius: bytes[7]!,
    orientations: bytes[8]!,
  };
  const rows = bytes[9]!;
  const cols = bytes[10]!;
  const planes = bytes[11]!;
  const count = bytes[14]!;
  const words = codeWords(rows, planes);
  if (end !== HEADER_BYTES + count * words * 4) throw new TemplateCorruptError('length does not match the header');
  const codes: FeatureCode[] = [];
  let o = HEADER_BYTES;
  for (let k = 0; k < count; k++, o += words * 4) {
    // One copy per code (aligned, so it can be viewed as words); the bytes are little-endian, read as such.
    const all = LITTLE_ENDIAN ? copyWords(bytes, o, words) : wordsOf(view, o, words);
    codes.push({ rows, cols, planes, bits: all.subarray(0, planes * rows), mask: all.subarray(planes * rows) });
  }
  const t: Template = { formatVersion: version, coder, coderParams, hand, quality: bytes[13]! / 255, codes };
  validateTemplate(t);
  return t;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * `count` words from byte `o`, copied as they lie (a little-endian host). A Buffer's `slice` is a view, so no slice.
 * Exported with wordsOf for their test: the two must agree, and only this one runs on the machines we have.
 */
export function copyWords(bytes: Uint8Array, o: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(o, o + count * 4));
  return out;
}

/** `count` little-endian words from `o` (the portable path, for a big-endian host). */
export function wordsOf(view: DataView, o: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(o + 4 * i, true);
  return out;
}

/** Throws TemplateCorruptError / TemplateVersionError unless `t` is internally consistent. */
export function validateTemplate(t: Template): void {
  if (t.formatVersion !== TEMPLATE_FORMAT_VERSION) throw new TemplateVersionError(`format version ${t.formatVersion} is not supported`);
  if (!CODER_IDS.includes(t.coder)) throw new TemplateVersionError(`unknown coder ${String(t.coder)}`);
  if (!HANDS.includes(t.hand)) throw new TemplateCorruptError(`bad hand ${String(t.hand)}`);
  if (!(t.quality >= 0 && t.quality <= 1)) throw new TemplateCorruptError(`quality ${t.quality} outside [0, 1]`);
  const p = t.coderParams;
  for (const [k, v] of Object.entries(p)) {
    if (!Number.isInteger(v) || v < 1 || v > 255) throw new TemplateCorruptError(`coder parameter ${k} = ${v} out of range`);
  }
  if (t.codes.length < 1 || t.codes.length > MAX_CODES) throw new TemplateCorruptError(`${t.codes.length} sub-codes (1..${MAX_CODES} allowed)`);
  const planes = planesForCoder(t.coder, p.orientations);
  for (const c of t.codes) {
    if (c.cols !== 32) throw new TemplateCorruptError(`grid has ${c.cols} columns (32 expected)`);
    if (c.rows < 1 || c.rows > 64) throw new TemplateCorruptError(`grid has ${c.rows} rows`);
    if (c.planes !== planes) throw new TemplateCorruptError(`${c.planes} planes, ${t.coder} writes ${planes}`);
    if (c.rows !== t.codes[0]!.rows) throw new TemplateCorruptError('sub-codes of different sizes');
    if (c.bits.length !== c.planes * c.rows || c.mask.length !== c.rows) throw new TemplateCorruptError('code arrays of the wrong length');
    for (let pl = 0; pl < c.planes; pl++) {
      for (let r = 0; r < c.rows; r++) {
        if ((c.bits[pl * c.rows + r]! & ~c.mask[r]!) !== 0) throw new TemplateCorruptError('code bits set outside the mask');
      }
    }
  }
}

/** Fuses several captures of one hand into one enrolment template that keeps each capture as a sub-code. */
export function fuseTemplates(templates: readonly Template[]): Template {
  if (templates.length === 0) throw new TemplateCorruptError('nothing to fuse');
  const first = templates[0]!;
  const codes = templates.flatMap((t) => t.codes).slice(0, MAX_CODES);
  const t: Template = { ...first, quality: Math.min(...templates.map((x) => x.quality)), codes };
  for (const o of templates) {
    if (o.coder !== first.coder || !sameParams(o.coderParams, first.coderParams) || o.hand !== first.hand) {
      throw new TemplateCorruptError('cannot fuse templates of different coders, parameters or hands');
    }
  }
  validateTemplate(t);
  return t;
}

export function sameParams(a: CoderParams, b: CoderParams): boolean {
  return a.roiSize === b.roiSize && a.wavelength10 === b.wavelength10 && a.kernelRadius === b.kernelRadius && a.orientations === b.orientations;
}

/** CRC-32 (IEEE), unsigned. The `crc-32` package: pure JavaScript (this core takes no Node API), and about 6 × the
 * byte-at-a-time loop it replaced, which was most of a decode's cost (the centre decodes 1,024 candidates a check). */
export function crc32(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}
