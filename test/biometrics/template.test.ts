import { describe, expect, it } from 'vitest';
import { copyWords, crc32, decodeTemplate, encodeTemplate, fuseTemplates, TEMPLATE_FORMAT_VERSION, validateTemplate, wordsOf } from '../../src/biometrics/template.ts';
import { TemplateCorruptError, TemplateVersionError, type FeatureCode, type Template } from '../../src/biometrics/types.ts';
import { mulberry32 } from '../../src/util/random.ts';

function randomCode(seed: number, planes = 3, rows = 32): FeatureCode {
  const rnd = mulberry32(seed);
  const mask = new Uint32Array(rows);
  const bits = new Uint32Array(planes * rows);
  for (let r = 0; r < rows; r++) mask[r] = r < 2 ? 0 : (Math.floor(rnd() * 2 ** 32) | 0x00ffff00) >>> 0;
  for (let p = 0; p < planes; p++) for (let r = 0; r < rows; r++) bits[p * rows + r] = (Math.floor(rnd() * 2 ** 32) & mask[r]!) >>> 0;
  return { rows, cols: 32, planes, bits, mask };
}

function template(seed: number, codes = 1): Template {
  return {
    formatVersion: TEMPLATE_FORMAT_VERSION,
    coder: 'compcode',
    coderParams: { roiSize: 64, wavelength10: 110, kernelRadius: 10, orientations: 6 },
    hand: 'left',
    quality: 0.8,
    codes: Array.from({ length: codes }, (_, i) => randomCode(seed * 10 + i)),
  };
}

/** Re-seals bytes with a correct CRC after an edit, to reach the checks behind the checksum. */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

describe('template codec', () => {
  it('round-trips every field and every bit', () => {
    const t = template(1, 3);
    const bytes = encodeTemplate(t);
    expect(bytes.length).toBe(15 + 3 * (3 * 32 + 32) * 4 + 4);
    const back = decodeTemplate(bytes);
    expect(back.coder).toBe('compcode');
    expect(back.coderParams).toEqual(t.coderParams);
    expect(back.hand).toBe('left');
    expect(back.quality).toBeCloseTo(0.8, 2);
    expect(back.codes).toHaveLength(3);
    back.codes.forEach((c, i) => {
      expect(Array.from(c.bits)).toEqual(Array.from(t.codes[i]!.bits));
      expect(Array.from(c.mask)).toEqual(Array.from(t.codes[i]!.mask));
    });
    expect(Array.from(encodeTemplate(back))).toEqual(Array.from(bytes));
  });

  it('crc32 matches the IEEE check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('rejects every single-byte corruption with a typed error', () => {
    const bytes = encodeTemplate(template(2));
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let v = 0; v < 256; v++) {
        if (v === bytes[i]) continue;
        const bad = Uint8Array.from(bytes);
        bad[i] = v;
        try {
          decodeTemplate(bad);
        } catch (err) {
          if (err instanceof TemplateCorruptError || err instanceof TemplateVersionError) rejected++;
          else throw err;
        }
      }
    }
    expect(rejected).toBe(bytes.length * 255);
  });

  it('rejects truncation and extension', () => {
    const bytes = encodeTemplate(template(3));
    for (const n of [0, 3, 18, bytes.length - 1]) expect(() => decodeTemplate(bytes.subarray(0, n))).toThrow(TemplateCorruptError);
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => decodeTemplate(longer)).toThrow(TemplateCorruptError);
  });

  it('recognises an unknown format version or coder instead of misreading it', () => {
    const bytes = encodeTemplate(template(4));
    const v2 = Uint8Array.from(bytes);
    v2[3] = 2;
    expect(() => decodeTemplate(reseal(v2))).toThrow(TemplateVersionError);
    const coder = Uint8Array.from(bytes);
    coder[4] = 9;
    expect(() => decodeTemplate(reseal(coder))).toThrow(TemplateVersionError);
  });

  it('rejects internally inconsistent templates even with a valid checksum', () => {
    const bytes = encodeTemplate(template(5));
    const planes = Uint8Array.from(bytes);
    planes[11] = 6; // planes no longer match the coder or the length
    expect(() => decodeTemplate(reseal(planes))).toThrow(TemplateCorruptError);
    const t = template(6);
    t.codes[0]!.bits[5] = 0xffffffff; // bits outside the mask (rows 0–1 are masked out)
    t.codes[0]!.bits[0] = 1;
    expect(() => validateTemplate(t)).toThrow(TemplateCorruptError);
    expect(() => encodeTemplate({ ...template(7), quality: 2 })).toThrow(TemplateCorruptError);
  });

  it('reads a code\'s words the same on the portable path as on the little-endian copy (a big-endian host uses the former)', () => {
    const rnd = mulberry32(11);
    const backing = new Uint8Array(4 * 40 + 7);
    for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(rnd() * 256);
    // Words in the template's byte order (little-endian), at an odd offset inside a larger buffer, as a decode sees them.
    const bytes = backing.subarray(3, 3 + 4 * 40);
    const expected = Array.from({ length: 38 }, (_, i) => (bytes[5 + 4 * i]! | (bytes[6 + 4 * i]! << 8) | (bytes[7 + 4 * i]! << 16) | (bytes[8 + 4 * i]! << 24)) >>> 0);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(Array.from(wordsOf(view, 5, 38))).toEqual(expected);
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) expect(Array.from(copyWords(bytes, 5, 38))).toEqual(expected);
  });

  it('fuses captures of one hand into sub-codes and refuses mixed hands', () => {
    const f = fuseTemplates([template(8), template(9), template(10)]);
    expect(f.codes).toHaveLength(3);
    expect(decodeTemplate(encodeTemplate(f)).codes).toHaveLength(3);
    expect(() => fuseTemplates([template(8), { ...template(9), hand: 'right' }])).toThrow(TemplateCorruptError);
  });
});
