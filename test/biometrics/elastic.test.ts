// The packed matcher gives exactly the reference shift search; elastic matching recovers a code whose blocks
// moved independently (a non-rigid deformation), which the rigid matcher loses.
import { describe, expect, it } from 'vitest';
import { codeDistance, ELASTIC, RIGID, shiftedDistance } from '../../src/biometrics/match.ts';
import { THRESHOLDS } from '../../src/biometrics/config.ts';
import type { FeatureCode } from '../../src/biometrics/types.ts';
import { mulberry32 } from '../../src/util/random.ts';

function randomCode(seed: number, planes = 6, holes = 0): FeatureCode {
  const rnd = mulberry32(seed);
  const rows = 32;
  const mask = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) mask[r] = holes && rnd() < holes ? (Math.floor(rnd() * 2 ** 32) | 0xff00ff) >>> 0 : 0xffffffff;
  const bits = new Uint32Array(planes * rows);
  for (let p = 0; p < planes; p++) for (let r = 0; r < rows; r++) bits[p * rows + r] = (Math.floor(rnd() * 2 ** 32) & mask[r]!) >>> 0;
  return { rows, cols: 32, planes, bits, mask };
}

const cell = (c: FeatureCode, p: number, r: number, col: number): number => (c.bits[p * c.rows + r]! >>> col) & 1;

/**
 * Cell (r, c) of the result in block (r / 8, c / 8) comes from cell (r + oy, c + ox) of the input, with that
 * block's own offset: a palm surface that stretched unevenly between two captures. Cells whose source lies
 * outside the grid are invalid.
 */
function deformed(c: FeatureCode, offsets: (br: number, bc: number) => [number, number]): FeatureCode {
  const out: FeatureCode = { ...c, bits: new Uint32Array(c.bits.length), mask: new Uint32Array(c.rows) };
  for (let r = 0; r < c.rows; r++) {
    for (let col = 0; col < 32; col++) {
      const [ox, oy] = offsets(r >> 3, col >> 3);
      const sr = r + oy;
      const sc = col + ox;
      if (sr < 0 || sr >= c.rows || sc < 0 || sc >= 32 || !((c.mask[sr]! >>> sc) & 1)) continue;
      out.mask[r] = (out.mask[r]! | (1 << col)) >>> 0;
      for (let p = 0; p < c.planes; p++) if (cell(c, p, sr, sc)) out.bits[p * c.rows + r] = (out.bits[p * c.rows + r]! | (1 << col)) >>> 0;
    }
  }
  return out;
}

function reference(a: FeatureCode, b: FeatureCode, maxShift = 4): number {
  let best = 1;
  for (let dy = -maxShift; dy <= maxShift; dy++) for (let dx = -maxShift; dx <= maxShift; dx++) best = Math.min(best, shiftedDistance(a, b, dx, dy, 0.35 * 1024));
  return best;
}

describe('packed and elastic matching', () => {
  it('the packed shift search equals the reference on random, shifted and masked codes (3 and 6 planes)', () => {
    for (let s = 0; s < 12; s++) {
      const planes = s % 3 === 0 ? 3 : 6;
      const a = randomCode(100 + s, planes, 0.3);
      const b = s % 2 ? randomCode(200 + s, planes, 0.3) : deformed(a, () => [(s % 5) - 2, (s % 7) - 3]);
      expect(codeDistance(a, b, RIGID)).toBe(reference(a, b));
      expect(codeDistance(b, a, { maxShift: 2, elastic: false })).toBe(reference(b, a, 2));
      expect(codeDistance(a, b)).toBe(codeDistance(a, b, ELASTIC)); // elastic is the default
    }
  });

  it('recovers a genuine score from a code stretched unevenly (blocks moved by up to ±1 cell); the rigid matcher loses it', () => {
    // Stretch and shear: the outer blocks move by one cell, in directions that depend on the block.
    const bend = [-1, 0, 0, 1];
    const patterns: Array<(br: number, bc: number) => [number, number]> = [
      (br, bc) => [bend[bc]!, bend[br]!], // stretched both ways
      (br, bc) => [-bend[bc]!, bend[br]!],
      (br, bc) => [bend[br]!, bend[bc]!], // sheared
      (br, bc) => [bend[br]!, -bend[bc]!],
      (br, bc) => [bend[(br + bc) % 4]!, bend[(br * 3 + bc) % 4]!],
    ];
    for (let s = 0; s < patterns.length; s++) {
      const enrolled = randomCode(300 + s);
      const probe = deformed(enrolled, patterns[s]!);
      const rigid = codeDistance(enrolled, probe, RIGID);
      const elastic = codeDistance(enrolled, probe, ELASTIC);
      expect(rigid, 'rigid').toBeGreaterThan(THRESHOLDS.fmr1e4); // most blocks misaligned: rejected at the payment threshold
      expect(elastic, 'elastic').toBeLessThan(0.1); // only cells at the block seams differ
    }
  });

  it('keeps unrelated codes apart and never scores above the rigid distance', () => {
    for (let s = 0; s < 10; s++) {
      const a = randomCode(400 + s);
      const b = randomCode(500 + s);
      const rigid = codeDistance(a, b, RIGID);
      const elastic = codeDistance(a, b, ELASTIC);
      expect(elastic).toBeLessThanOrEqual(rigid);
      expect(elastic).toBeGreaterThan(0.4);
    }
  });
});
