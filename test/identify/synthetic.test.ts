// The synthetic gallery: its codes use the recogniser's bit layout, and it reproduces the label (hence bit)
// probabilities it is given, cell by cell.
import { describe, expect, it } from 'vitest';
import { encodeResponses } from '../../src/biometrics/features.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { capture, defaultModel, GRID, labelBits, person } from '../../src/biometrics/identify/synthetic.ts';

describe('synthetic gallery', () => {
  it('encodes orientation k exactly as the CompCode extractor does', () => {
    const n = 6;
    for (let k = 0; k < n; k++) {
      const resp = new Float32Array(GRID * n).fill(1);
      resp[k] = -1; // cell (0, 0): orientation k wins (most negative response)
      const code = encodeResponses('compcode', resp, n, 1, Uint8Array.from({ length: GRID }, () => 1));
      let v = 0;
      for (let p = 0; p < code.planes; p++) v |= (code.bits[p]! & 1) << p;
      expect(v).toBe(labelBits(k, n));
    }
  });

  it('reproduces each cell’s label probabilities', () => {
    const model = defaultModel();
    const n = model.values.length;
    // Cell 0 strongly prefers value 0, cell 33 value 4; the rest stay uniform.
    const probs = [...model.valueProb];
    probs.splice(0, n, 0.7, 0.06, 0.06, 0.06, 0.06, 0.06);
    probs.splice(33 * n, n, 0.02, 0.02, 0.02, 0.02, 0.9, 0.02);
    const m = { ...model, valueProb: probs };
    const r = rng(8);
    const count = (cell: number, k: number, codes: ReturnType<typeof capture>[]) =>
      codes.filter((c) => {
        const row = Math.floor(cell / GRID);
        const col = cell % GRID;
        let v = 0;
        for (let p = 0; p < c.planes; p++) v |= ((c.bits[p * GRID + row]! >>> col) & 1) << p;
        return v === m.values[k];
      }).length / codes.length;
    const codes = Array.from({ length: 1500 }, () => capture(m, person(m, r), r));
    expect(count(0, 0, codes)).toBeCloseTo(0.7, 1);
    expect(count(33, 4, codes)).toBeCloseTo(0.9, 1);
    expect(count(500, 2, codes)).toBeCloseTo(1 / 6, 1);
  });
});
