// The targets of issue 4 on the real dev images (CASIA multispectral, 940 nm). Skips where the data is absent.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateProtocol, extractDataSet, type ExtractedSet } from '../../src/biometrics/eval/runner.ts';
import { loadFrame } from '../../src/biometrics/eval/dataset.ts';
import { parsePerturb } from '../../src/biometrics/eval/perturb.ts';
import { extract } from '../../src/biometrics/extract.ts';
import { matchScore } from '../../src/biometrics/match.ts';
import { THRESHOLDS } from '../../src/biometrics/config.ts';
import { mirrorFrame } from '../../src/biometrics/synth.ts';
import type { GreyFrame } from '../../src/biometrics/types.ts';

/** Rotates a frame by 90° clockwise (exact: no interpolation). */
function rotate90(f: GreyFrame): GreyFrame {
  const out = new Uint8Array(f.pixels.length);
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) out[x * f.height + (f.height - 1 - y)] = f.pixels[y * f.width + x]!;
  return { width: f.height, height: f.width, pixels: out };
}

const DATA = resolve(import.meta.dirname, '../../../shared/data/casia-ms-940-dev');
const present = existsSync(DATA);
if (!present) console.warn(`[biometrics] skipping the dev-data evaluation: ${DATA} is absent (research-only data, never in the repo)`);

describe.skipIf(!present)('evaluation on the CASIA 940 nm dev data (issue 4 targets)', () => {
  let set: ExtractedSet;
  beforeAll(async () => {
    set = await extractDataSet({ data: DATA });
  }, 240_000);

  it('drops the byte-identical duplicate and acquires ≥ 98 % of the images (issue 19: FTA ≤ 2 %)', () => {
    expect(set.duplicates).toHaveLength(1);
    expect(set.duplicates[0]!.dropped).toMatch(/001_l_940_0[23]\.jpg$/);
    expect(set.samples).toHaveLength(299);
    // 3 of 299 since the blur cut-off is fitted on the noise-corrected slope (2 nearly closed hands and one sharp
    // capture of person 029, whose palm has the least fine detail): issue 19's floor, not issue 4's 1 %.
    expect(set.fails.length / set.samples.length).toBeLessThanOrEqual(0.02);
  });

  it('all pairs: EER ≤ 1 %, FNMR ≤ 5 % at FMR = 0.01 %', () => {
    const r = evaluateProtocol(set, 'all-pairs');
    const ok = set.samples.length - set.fails.length;
    expect(r.identities).toBe(50);
    expect(r.genuine_comparisons + r.impostor_comparisons).toBe((ok * (ok - 1)) / 2);
    expect(r.impostor_comparisons).toBeGreaterThan(42_500);
    expect(r.eer).toBeLessThanOrEqual(0.01);
    const at1e4 = r.fnmr_at_fmr.find((p) => p.fmr === 1e-4)!;
    expect(at1e4.below_resolution).toBe(false);
    expect(at1e4.fnmr).toBeLessThanOrEqual(0.05);
    expect(r.identification.rank1).toBeGreaterThan(0.98);
  });

  it('cross-session (enrol 01–03, probe 04–06): EER ≤ 2 %', () => {
    const r = evaluateProtocol(set, 'cross-session');
    expect(r.fte_count).toBe(0);
    expect(r.genuine_comparisons).toBeGreaterThan(140);
    expect(r.impostor_comparisons).toBe(r.genuine_comparisons * 49);
    expect(r.eer).toBeLessThanOrEqual(0.02);
    expect(r.identification.rank1).toBeGreaterThan(0.97);
    expect(r.identification.fnir_at_fpir).toBeLessThanOrEqual(0.05);
  });

  it('held-out folds (issue 19 floors, people never used to fit a threshold): all pairs EER ≤ 0.5 %, FNMR ≤ 2 % at FMR 0.01 %, rank-1 ≥ 99.5 %', () => {
    const r = evaluateProtocol(set, 'all-pairs', { folds: 5, seed: 1, bootstrap: 200 });
    const h = r.held_out!;
    expect(h.people).toBe(50);
    expect(h.held_genuine).toBe(r.genuine_comparisons); // every genuine pair lies within one person, so within one fold
    expect(h.eer.value).toBeLessThanOrEqual(0.005);
    expect(h.fnmr_at_fmr.find((p) => p.target_fmr === 1e-4)!.fnmr.value).toBeLessThanOrEqual(0.02);
    expect(h.identification.rank1.value).toBeGreaterThanOrEqual(0.995);
    expect(r.fta).toBeLessThanOrEqual(0.02);
  });

  it('held-out folds, cross-session: FNIR ≤ 1 % at FPIR 1 %', () => {
    const h = evaluateProtocol(set, 'cross-session', { folds: 5, seed: 1, bootstrap: 200 }).held_out!;
    expect(h.by_session.map((b) => b.kind)).toEqual(['cross-session']);
    expect(h.identification.fnir_at_fpir.value).toBeLessThanOrEqual(0.01);
    expect(h.identification.rank1.value).toBeGreaterThanOrEqual(0.995);
  });

  it('real hands turned by 90° match themselves; mirrored (right-hand) images give the mirrored ROI', () => {
    for (const sample of set.samples.filter((_, i) => i % 30 === 7)) {
      const frame = loadFrame(sample.path);
      const a = extract(frame, { wantRoi: true });
      const turned = extract(rotate90(frame));
      const mirrored = extract(mirrorFrame(frame), { wantRoi: true });
      expect(a.ok && turned.ok && mirrored.ok, sample.sample).toBe(true);
      if (!a.ok || !turned.ok || !mirrored.ok) continue;
      expect(matchScore(a.template, turned.template), sample.sample).toBeLessThan(Math.min(0.15, THRESHOLDS.fmr1e4));
      const flipped = mirrorFrame(a.roi).pixels;
      let diff = 0;
      for (let i = 0; i < flipped.length; i++) diff += Math.abs(flipped[i]! - mirrored.roi.pixels[i]!);
      expect(diff / flipped.length, sample.sample).toBeLessThan(3); // grey levels, of 255 (unflipped: about 50)
    }
  });
});

describe.skipIf(!present)('dev data with every image turned by up to ±30° and scaled by 0.85–1.1 (--perturb, seed 1)', () => {
  let set: ExtractedSet;
  beforeAll(async () => {
    set = await extractDataSet({ data: DATA, perturb: parsePerturb('rotate=30,scale=0.85-1.1,seed=1') });
  }, 240_000);

  it('the landmarks follow the warp: ROI angle, scale and position errors stay small on every image', () => {
    const p = set.perturbation!;
    expect(p.unwarped_fta_count).toBe(0);
    expect(p.compared_images).toBeGreaterThanOrEqual(296);
    // Before sub-pixel palm edges and fingertips past the frame edge: p95 scale error 3 %, worst angle 57°.
    expect(p.abs_roi_angle_error_deg.max).toBeLessThan(5);
    expect(p.abs_roi_scale_error.p95).toBeLessThan(0.02);
    expect(p.roi_centre_error_cells.p95).toBeLessThan(0.5);
    expect(p.self_distance.p95).toBeLessThan(0.1);
  });

  it('all pairs: accuracy as without the warp (EER ≤ 1 %, FNMR ≤ 5 % at FMR 0.01 %, rank-1 ≥ 99 %)', () => {
    const r = evaluateProtocol(set, 'all-pairs');
    // Issue 19's FTA floor (2 %): the valley-plausibility cut-off rejects 022_l_940_06 and 023_l_940_01 (nearly
    // closed fingers) warped or not.
    expect(r.fta).toBeLessThanOrEqual(0.02);
    expect(r.eer).toBeLessThanOrEqual(0.01);
    expect(r.fnmr_at_fmr.find((q) => q.fmr === 1e-4)!.fnmr).toBeLessThanOrEqual(0.05);
    expect(r.identification.rank1).toBeGreaterThanOrEqual(0.99);
  });
});
