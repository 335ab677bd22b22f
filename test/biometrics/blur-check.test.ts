import { describe, expect, it } from 'vitest';
import { defocus, heldBlurCheck, type BlurredCopy } from '../../src/biometrics/eval/blur.ts';
import { heldQuality, type QualitySample } from '../../src/biometrics/eval/quality-folds.ts';
import { QUALITY_LIMITS, type Measured } from '../../src/biometrics/quality.ts';

const good: Measured = { coverage: 1, mean: 110, saturated: 0, detail: 0.005, spectralSlope: 0.4, contrast: 0.01, uniformity: 0.9, palmSize: 0.3, plausibility: 0.9 };

/** Ten people × 4 sharp captures; person p sits in fold p % 2; their spectral slopes differ per person. */
function sharpSet(heldSlope: number): QualitySample[] {
  const out: QualitySample[] = [];
  for (let p = 0; p < 10; p++) for (let c = 0; c < 4; c++) out.push({ person: `p${p}`, measured: { ...good, spectralSlope: p === 3 ? heldSlope : 0.3 + p * 0.02 }, earlyFailure: null });
  return out;
}

describe('blur check on the held folds', () => {
  const foldOf = new Map(Array.from({ length: 10 }, (_, p) => [`p${p}`, p % 2]));
  const dist = new Float32Array(40 * 40).fill(0.2);

  it("the spectral-slope cut-off of a held fold comes from the other folds' captures only", () => {
    const a = heldQuality(sharpSet(0.4), foldOf, dist, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]);
    const b = heldQuality(sharpSet(0.01), foldOf, dist, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]);
    // Person 3 (fold 1) changed: fold 1's cut-off stays, fold 0's (fitted on fold 1) follows.
    expect(b.folds[1]!.verify.minSpectralSlope).toBe(a.folds[1]!.verify.minSpectralSlope);
    expect(b.folds[0]!.verify.minSpectralSlope).toBeLessThan(a.folds[0]!.verify.minSpectralSlope);
    expect(a.folds[1]!.verify.minSpectralSlope).toBeCloseTo(0.3 * 0.75, 9); // 0.75 × the 1 % percentile of fold 0's people
    expect(b.fta_by_reason).toEqual({ blurred: 4 });
  });

  it('counts blurred copies that no longer match, rejected as blurred, and sharp captures kept', () => {
    const sharp = sharpSet(0.4);
    const cut = heldQuality(sharp, foldOf, dist, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]).folds.map((f) => f.verify);
    const copy = (person: string, sigma: number, slope: number, d: number | null, early: BlurredCopy['earlyFailure'] = null, earlySlope: number | null = null): BlurredCopy => ({
      sample: 0,
      person,
      sigma,
      measured: early ? null : { ...good, spectralSlope: slope },
      earlyFailure: early,
      earlySlope,
      selfDistance: d,
    });
    const copies = [
      copy('p0', 2, 0.05, 0.35), // no longer matches, steep slope: rejected
      copy('p1', 2, 0.35, 0.36), // no longer matches, slope still high: missed
      copy('p2', 2, 0.1, 0.2), // still matches, rejected anyway
      copy('p3', 4, 0, null, 'fingers-closed', 0.02), // valleys blurred away: blurred, not fingers-closed
      copy('p4', 4, 0, null, 'fingers-closed', 0.5), // a sharp palm without valleys is closed fingers
    ];
    const r = heldBlurCheck(copies, sharp, foldOf, cut, QUALITY_LIMITS.verify, [0.31, 0.31]);
    expect(r.by_sigma.map((s) => [s.sigma_roi_px, s.copies, s.no_longer_match, s.rejected_blurred, s.rejected_any, s.still_match, s.still_match_rejected_blurred])).toEqual([
      [2, 3, 2, 1, 1, 1, 1],
      [4, 2, 2, 1, 2, 0, 0],
    ]);
    expect(r.copies.map((c) => c.verdict)).toEqual(['blurred', null, 'blurred', 'blurred', 'fingers-closed']);
    expect(r.unmatched_rejected_blurred).toBeCloseTo(2 / 4, 12);
    expect(r.sharp_captures).toBe(40);
    expect(r.sharp_kept_blur).toBe(1);
  });

  it('defocus is seeded, keeps the level and removes detail', () => {
    const w = 96;
    const pixels = Uint8Array.from({ length: w * w }, (_, i) => (((i % w) >> 2) + (Math.floor(i / w) >> 2)) % 2 ? 160 : 60);
    const f = { width: w, height: w, pixels };
    const a = defocus(f, 3, 2, 'k');
    expect(defocus(f, 3, 2, 'k').pixels).toEqual(a.pixels);
    expect(defocus(f, 3, 2, 'other').pixels).not.toEqual(a.pixels);
    const mean = (p: Uint8Array): number => p.reduce((s, v) => s + v, 0) / p.length;
    expect(Math.abs(mean(a.pixels) - mean(pixels))).toBeLessThan(1);
    const sd = (p: Uint8Array): number => {
      const m = mean(p);
      return Math.sqrt(p.reduce((s, v) => s + (v - m) ** 2, 0) / p.length);
    };
    expect(sd(a.pixels)).toBeLessThan(sd(pixels) / 5);
  });
});
