import { describe, expect, it } from 'vitest';
import { extract } from '../../src/biometrics/extract.ts';
import { matchScore } from '../../src/biometrics/match.ts';
import { mirrorFrame, synthHand } from '../../src/biometrics/synth.ts';
import type { GreyFrame } from '../../src/biometrics/types.ts';

const deg = Math.PI / 180;

function ok(f: GreyFrame) {
  const r = extract(f, { wantRoi: true });
  if (!r.ok) throw new Error(`extraction failed: ${r.reason}`);
  return r;
}

/** Pearson correlation of two equal-sized images. */
function correlation(a: Uint8Array, b: Uint8Array): number {
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let i = 0; i < a.length; i++) {
    sa += a[i]!; sb += b[i]!; saa += a[i]! ** 2; sbb += b[i]! ** 2; sab += a[i]! * b[i]!;
  }
  const n = a.length;
  return (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
}

function flipX(f: GreyFrame): Uint8Array {
  return mirrorFrame(f).pixels;
}

describe('landmarks and ROI on synthetic hands with known geometry', () => {
  const cases = [
    { name: 'upright', opts: {} },
    { name: 'rotated 20°', opts: { angle: 20 * deg } },
    { name: 'rotated −35°, smaller, off-centre', opts: { angle: -35 * deg, scale: 0.8, cx: 330, cy: 320 } },
    { name: 'mirrored (a right hand)', opts: { mirror: true } },
    { name: 'mirrored and rotated 90°', opts: { mirror: true, angle: 90 * deg, scale: 0.85 } },
  ];
  for (const c of cases) {
    it(`finds the index–middle and ring–little valleys: ${c.name}`, () => {
      const s = synthHand(c.opts);
      const r = ok(s.frame);
      const found = [r.geometry.valleyA, r.geometry.valleyB];
      for (const truth of s.valleys) {
        const err = Math.min(...found.map((f) => Math.hypot(f.x - truth.x, f.y - truth.y)));
        expect(err).toBeLessThan(8); // frame pixels; the landmark search runs at 1/4 resolution
      }
      // The ROI lies on the palm side of the valley line, below the palm centre's level.
      const mid = { x: (s.valleys[0]!.x + s.valleys[1]!.x) / 2, y: (s.valleys[0]!.y + s.valleys[1]!.y) / 2 };
      const toCentre = Math.hypot(r.geometry.centre.x - s.palmCentre.x, r.geometry.centre.y - s.palmCentre.y);
      expect(toCentre).toBeLessThan(Math.hypot(mid.x - s.palmCentre.x, mid.y - s.palmCentre.y));
    });
  }

  it('a hand rotated by 20° gives the same ROI and the same code', () => {
    const a = ok(synthHand({ seed: 5 }).frame);
    const b = ok(synthHand({ seed: 5, angle: 20 * deg, noiseSeed: 99 }).frame);
    expect(correlation(a.roi.pixels, b.roi.pixels)).toBeGreaterThan(0.9);
    // Rotation costs little beyond what a new capture's sensor noise alone costs (flat skin codes noisily).
    const noiseOnly = ok(synthHand({ seed: 5, noiseSeed: 98 }).frame);
    expect(matchScore(a.template, b.template)).toBeLessThan(matchScore(a.template, noiseOnly.template) + 0.05);
    expect(matchScore(a.template, b.template)).toBeLessThan(0.25);
  });

  it('a closer or further hand (scale 0.85–1.15, the --perturb range) gives the same ROI', () => {
    const a = ok(synthHand({ seed: 6 }).frame);
    const corr: number[] = [];
    for (const scale of [0.85, 0.9, 0.95, 1.05, 1.1, 1.15]) {
      const b = ok(synthHand({ seed: 6, scale, cy: 348 + (scale - 1) * 280, noiseSeed: 3 }).frame);
      // The ROI follows the hand's size (the palm radius is measured to a fraction of a pixel on the 1/4 image).
      expect(Math.abs(b.geometry.side / (a.geometry.side * scale) - 1), `scale ${scale}`).toBeLessThan(0.025);
      corr.push(correlation(a.roi.pixels, b.roi.pixels));
      expect(corr.at(-1), `scale ${scale}`).toBeGreaterThan(0.85);
      expect(matchScore(a.template, b.template), `scale ${scale}`).toBeLessThan(0.25);
    }
    expect(corr.sort((x, y) => x - y)[corr.length >> 1]).toBeGreaterThan(0.93);
  });

  it('a mirrored hand gives the mirrored ROI', () => {
    const a = ok(synthHand({ seed: 7 }).frame);
    const m = ok(mirrorFrame(synthHand({ seed: 7 }).frame));
    expect(correlation(flipX(a.roi), m.roi.pixels)).toBeGreaterThan(0.9);
  });

  it('different vein patterns give distant codes', () => {
    const a = ok(synthHand({ seed: 8 }).frame);
    const b = ok(synthHand({ seed: 9 }).frame);
    expect(matchScore(a.template, b.template)).toBeGreaterThan(0.38);
  });
});
