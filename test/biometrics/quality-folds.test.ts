import { describe, expect, it } from 'vitest';
import { fitCutoffs, heldQuality, QUALITY_FIT_RULE, type QualitySample } from '../../src/biometrics/eval/quality-folds.ts';
import { QUALITY_LIMITS, type Measured } from '../../src/biometrics/quality.ts';

const good: Measured = { coverage: 1, mean: 110, saturated: 0, detail: 0.005, spectralSlope: 0.8, contrast: 0.01, uniformity: 0.9, palmSize: 0.3, plausibility: 0.9 };

/** Ten people × 4 captures; person p sits in fold p % 2; person `odd` has one blurred capture. */
function sampleSet(oddDetail: number): QualitySample[] {
  const out: QualitySample[] = [];
  for (let p = 0; p < 10; p++) for (let c = 0; c < 4; c++) out.push({ person: `p${p}`, measured: { ...good, detail: p === 3 && c === 0 ? oddDetail : good.detail + p * 1e-4 }, earlyFailure: null });
  return out;
}

describe('quality cut-offs fitted with the person-disjoint folds', () => {
  const foldOf = new Map(Array.from({ length: 10 }, (_, p) => [`p${p}`, p % 2]));
  const dist = new Float32Array(40 * 40).fill(0.2);

  it('the rule: factor × the 1 % percentile of the training captures', () => {
    const values = Array.from({ length: 100 }, (_, i) => ({ ...good, detail: (i + 1) / 1000 }));
    expect(fitCutoffs(values, QUALITY_FIT_RULE.verifyFactor).minDetail).toBeCloseTo(0.002 * QUALITY_FIT_RULE.verifyFactor, 9);
    expect(fitCutoffs(values, QUALITY_FIT_RULE.enrolFactor).minDetail).toBeGreaterThan(fitCutoffs(values, QUALITY_FIT_RULE.verifyFactor).minDetail);
  });

  it("a held fold's cut-offs never depend on its own people's captures", () => {
    const a = heldQuality(sampleSet(0.005), foldOf, dist, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]);
    const b = heldQuality(sampleSet(0.0001), foldOf, dist, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]);
    // Person 3 is in fold 1: fold 1's cut-offs stay; fold 0's (fitted on fold 1's people) may move.
    expect(b.folds[1]).toEqual(a.folds[1]);
    // The blurred held capture fails as 'blurred' and counts as a non-match in the generalised FNMR.
    expect(a.fta_count).toBe(0);
    expect(b.fta_by_reason).toEqual({ blurred: 1 });
    expect(b.fta).toBeCloseTo(1 / 40, 12);
    expect(b.fnmr_at_fmr[0]!.fnmr).toBe(0);
    expect(b.fnmr_at_fmr[0]!.gfnmr).toBeCloseTo(1 / 40, 12);
    // Its genuine pairs are left out: 10 people × 6 pairs, less the 3 of the failed capture.
    expect(b.genuine_pairs).toBe(57);
  });

  it('genuine pairs above the fold threshold are false non-matches; GFNMR = FTA + (1 − FTA) · FNMR', () => {
    const s = sampleSet(0.0001);
    const d = new Float32Array(40 * 40).fill(0.2);
    d[1 * 40 + 2] = 0.5; // person 0, captures 1 and 2
    const r = heldQuality(s, foldOf, d, QUALITY_LIMITS.verify, [1e-4], [[0.31], [0.31]]);
    const fnmr = 1 / 57;
    expect(r.fnmr_at_fmr[0]!.fnmr).toBeCloseTo(fnmr, 12);
    expect(r.fnmr_at_fmr[0]!.gfnmr).toBeCloseTo(1 / 40 + (1 - 1 / 40) * fnmr, 12);
  });
});
