import { describe, expect, it } from 'vitest';
import { codeDistance, matchScore, popcount } from '../../src/biometrics/match.ts';
import { TEMPLATE_FORMAT_VERSION } from '../../src/biometrics/template.ts';
import { TemplateMismatchError, type FeatureCode, type Template } from '../../src/biometrics/types.ts';
import { mulberry32 } from '../../src/util/random.ts';

function code(seed: number, planes = 6): FeatureCode {
  const rnd = mulberry32(seed);
  const rows = 32;
  const mask = new Uint32Array(rows).fill(0xffffffff);
  const bits = new Uint32Array(planes * rows);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(rnd() * 2 ** 32) >>> 0;
  return { rows, cols: 32, planes, bits, mask };
}

/** Moves the code by (dx, dy) cells: cell (r, c) of the result is cell (r − dy, c − dx) of the input. */
function shifted(c: FeatureCode, dx: number, dy: number): FeatureCode {
  const out = { ...c, bits: new Uint32Array(c.bits.length), mask: new Uint32Array(c.rows) };
  for (let r = 0; r < c.rows; r++) {
    const src = r - dy;
    if (src < 0 || src >= c.rows) continue;
    const mv = (w: number): number => (dx >= 0 ? (w << dx) >>> 0 : w >>> -dx);
    out.mask[r] = mv(c.mask[src]!);
    for (let p = 0; p < c.planes; p++) out.bits[p * c.rows + r] = mv(c.bits[p * c.rows + src]!) & out.mask[r]!;
  }
  return out;
}

function tpl(codes: FeatureCode[], hand: Template['hand'] = 'left'): Template {
  return {
    formatVersion: TEMPLATE_FORMAT_VERSION,
    coder: 'bocv',
    coderParams: { roiSize: 64, wavelength10: 110, kernelRadius: 10, orientations: 6 },
    hand,
    quality: 1,
    codes,
  };
}

describe('matcher', () => {
  it('popcount counts bits', () => {
    expect(popcount(0)).toBe(0);
    expect(popcount(0xffffffff)).toBe(32);
    expect(popcount(0x80000001)).toBe(2);
  });

  it('gives 0 for identical codes and about 0.5 for unrelated ones', () => {
    const a = code(1);
    expect(codeDistance(a, a)).toBe(0);
    const d = codeDistance(a, code(2));
    expect(d).toBeGreaterThan(0.4);
    expect(d).toBeLessThan(0.5);
  });

  it('finds a shifted copy within the shift range, not beyond it', () => {
    const a = code(3);
    expect(codeDistance(a, shifted(a, 3, -2))).toBe(0);
    expect(codeDistance(shifted(a, -4, 4), a)).toBe(0);
    expect(codeDistance(a, shifted(a, 6, 0), { maxShift: 4 })).toBeGreaterThan(0.4);
  });

  it('ignores masked cells', () => {
    const a = code(4);
    const b = { ...code(5), mask: Uint32Array.from(a.mask) };
    // b equals a on the left half; mask the right half of b out.
    for (let r = 0; r < 32; r++) {
      b.mask[r] = 0x0000ffff;
      for (let p = 0; p < 6; p++) b.bits[p * 32 + r] = a.bits[p * 32 + r]! & 0x0000ffff;
    }
    expect(codeDistance(a, b, { maxShift: 0 })).toBe(0);
  });

  it('takes the best sub-code, rejects other hands and other coders', () => {
    const a = code(6);
    const enrolled = tpl([code(7), a, code(8)]);
    expect(matchScore(enrolled, tpl([a]))).toBe(0);
    expect(matchScore(enrolled, tpl([a], 'right'))).toBe(1);
    expect(matchScore(enrolled, tpl([a], 'unknown'))).toBe(0);
    expect(() => matchScore(enrolled, { ...tpl([a]), coderParams: { roiSize: 64, wavelength10: 80, kernelRadius: 10, orientations: 6 } })).toThrow(TemplateMismatchError);
  });
});
