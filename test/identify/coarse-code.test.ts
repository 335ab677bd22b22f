// Coarse codes: the integral-image pooling equals a direct count of every shifted window, for both coder kinds;
// the screen code marks exactly where an entry's shifted variants agree.
import { describe, expect, it } from 'vitest';
import { CENTRE_PROBE_SHIFTS, coarseCode, coarseProbes, coarseProbesAt, GALLERY_SHIFTS, pooled, PROBE_SHIFTS, unstableMask } from '../../src/biometrics/identify/coarse-code.ts';
import { CODE_BYTES, ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { rng, type Rng } from '../../src/biometrics/identify/random.ts';
import { DEFAULT_EXTRACT } from '../../src/biometrics/config.ts';
import { TEMPLATE_FORMAT_VERSION } from '../../src/biometrics/template.ts';
import type { CoderId, FeatureCode, Template } from '../../src/biometrics/types.ts';

const GRID = 32;

function randomTemplate(r: Rng, coder: CoderId, captures: number): Template {
  const planes = coder === 'compcode' ? 3 : 6;
  const codes: FeatureCode[] = Array.from({ length: captures }, () => ({
    rows: GRID,
    cols: GRID,
    planes,
    bits: Uint32Array.from({ length: planes * GRID }, () => (r() * 2 ** 32) >>> 0),
    // Mostly valid, with masked blocks (as the ROI's edges give).
    mask: Uint32Array.from({ length: GRID }, (_, row) => (row < 3 ? 0 : r() < 0.2 ? (r() * 2 ** 32) >>> 0 : 0xffffffff)),
  }));
  return { formatVersion: TEMPLATE_FORMAT_VERSION, coder, coderParams: DEFAULT_EXTRACT.params, hand: 'left', quality: 0.8, codes };
}

/** The definition, cell by cell: per 6 × 6 window (stride 3) of the shifted grid, per plane or orientation label. */
function direct(t: Template, dx: number, dy: number): Uint8Array {
  const labels = [0, 1, 3, 7, 6, 4]; // CompCode's 6 orientation values, in orientation order
  const channels = t.coder === 'compcode' ? labels.length : t.codes[0]!.planes;
  const out = new Uint8Array(CODE_BYTES);
  let bit = 0;
  for (let r0 = 0; r0 + 6 <= GRID; r0 += 3) {
    for (let c0 = 0; c0 + 6 <= GRID; c0 += 3) {
      const count = new Array<number>(channels).fill(0);
      let valid = 0;
      for (const c of t.codes) {
        for (let r = r0 + dy; r < r0 + dy + 6; r++) {
          for (let col = c0 + dx; col < c0 + dx + 6; col++) {
            if (r < 0 || r >= GRID || col < 0 || col >= GRID || ((c.mask[r]! >>> col) & 1) === 0) continue;
            const b = (p: number) => (c.bits[p * GRID + r]! >>> col) & 1;
            if (t.coder === 'compcode') {
              const l = labels.indexOf(b(0) | (b(1) << 1) | (b(2) << 2));
              if (l < 0) continue;
              count[l]!++;
            } else {
              for (let p = 0; p < channels; p++) count[p]! += b(p);
            }
            valid++;
          }
        }
      }
      const share = t.coder === 'compcode' ? 4 : 2;
      for (let ch = 0; ch < channels; ch++, bit++) if (valid > 0 && count[ch]! * share >= valid) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

describe('coarse codes', () => {
  it('pooling through window sums equals the direct count, every coder kind, shifts in and past the edge', () => {
    const r = rng(21);
    for (const coder of ['bocv', 'compcode', 'ordinal'] as const) {
      for (const captures of [1, 3]) {
        const t = randomTemplate(r, coder, captures);
        for (const [dx, dy] of [[0, 0], [1, -1], [-2, 0], [0, 2], [4, -3], [-6, 5]] as const) {
          expect(Buffer.from(pooled(t, dx, dy)).equals(Buffer.from(direct(t, dx, dy))), `${coder} ×${captures} at (${dx}, ${dy})`).toBe(true);
        }
      }
    }
  });

  it('486 bits for every coder: nothing past them is ever set', () => {
    const r = rng(22);
    for (const coder of ['bocv', 'compcode'] as const) {
      const code = pooled(randomTemplate(r, coder, 2), 0, 0);
      for (let b = 486; b < CODE_BYTES * 8; b++) expect((code[b >> 3]! >> (b & 7)) & 1).toBe(0);
    }
  });

  it('an entry code is the plain code, then the unstable mask of its GALLERY_SHIFTS variants; probes start unshifted', () => {
    const t = randomTemplate(rng(23), 'bocv', 3);
    const entry = coarseCode(t);
    expect(entry.length).toBe(ENTRY_CODE_BYTES);
    expect(Buffer.from(entry.subarray(0, CODE_BYTES)).equals(Buffer.from(pooled(t, 0, 0)))).toBe(true);
    const variants = GALLERY_SHIFTS.map(([dx, dy]) => pooled(t, dx, dy));
    expect(Buffer.from(entry.subarray(CODE_BYTES)).equals(Buffer.from(unstableMask(variants)))).toBe(true);
    // Where the variants agree, the plain code (the unshifted variant, one of them) holds their bit.
    expect(GALLERY_SHIFTS.some(([dx, dy]) => dx === 0 && dy === 0)).toBe(true);
    expect(PROBE_SHIFTS[0]).toEqual([0, 0]);
    const probes = coarseProbes(t);
    expect(probes).toHaveLength(PROBE_SHIFTS.length);
    expect(Buffer.from(probes[0]!).equals(Buffer.from(pooled(t, 0, 0)))).toBe(true);
  });

  it("the centre's wider probes: the terminal's shifts first (the screen uses the first code), then the 8 at ±1 cell", () => {
    const t = randomTemplate(rng(29), 'compcode', 3);
    expect(CENTRE_PROBE_SHIFTS.slice(0, PROBE_SHIFTS.length)).toEqual(PROBE_SHIFTS);
    expect(new Set(CENTRE_PROBE_SHIFTS.map(([dx, dy]) => `${dx},${dy}`)).size).toBe(CENTRE_PROBE_SHIFTS.length);
    expect(CENTRE_PROBE_SHIFTS.filter(([dx, dy]) => Math.max(Math.abs(dx), Math.abs(dy)) === 1)).toHaveLength(8);
    const wide = coarseProbesAt(t, CENTRE_PROBE_SHIFTS);
    coarseProbes(t).forEach((c, i) => expect(Buffer.from(wide[i]!).equals(Buffer.from(c))).toBe(true));
    CENTRE_PROBE_SHIFTS.forEach(([dx, dy], i) => expect(Buffer.from(wide[i]!).equals(Buffer.from(pooled(t, dx, dy)))).toBe(true));
  });

  it('unstable mask: 1 exactly where the variants disagree', () => {
    const a = new Uint8Array(CODE_BYTES);
    const b = new Uint8Array(CODE_BYTES);
    const c = new Uint8Array(CODE_BYTES);
    a[0] = 0b1100;
    b[0] = 0b1010;
    c[0] = 0b1000;
    a[63] = 0xff;
    b[63] = 0xff;
    c[63] = 0xff;
    const m = unstableMask([a, b, c]);
    expect(m[0]).toBe(0b0110); // bits 1 and 2 differ; bit 3 is 1 in all, bit 0 is 0 in all
    expect(m[63]).toBe(0);
    expect(m.length).toBe(CODE_BYTES);
  });
});
