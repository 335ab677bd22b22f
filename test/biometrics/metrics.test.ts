import { describe, expect, it } from 'vitest';
import { identification, verification, type Search } from '../../src/biometrics/eval/metrics.ts';
import { detSvg } from '../../src/biometrics/eval/det-svg.ts';

describe('verification metrics (distances: accept when score <= threshold)', () => {
  it('separable scores give EER 0 and FNMR 0 at every FMR', () => {
    const r = verification([0.1, 0.2, 0.3], Array.from({ length: 20_000 }, (_, i) => 0.4 + i * 1e-5));
    expect(r.eer).toBe(0);
    for (const p of r.at) {
      expect(p.fnmr).toBe(0);
      expect(p.fmr).toBeLessThanOrEqual(p.target_fmr);
      expect(p.threshold).toBeGreaterThanOrEqual(0.3);
      expect(p.threshold).toBeLessThan(0.4 + Math.floor(p.target_fmr * 20_000) * 1e-5);
    }
  });

  it('computes EER and FNMR at FMR on a known overlap', () => {
    // Genuine 0..99 (/100), impostors 90..1089 (/100): at t = 0.945, FNMR = 5/100 and FMR = 5/1000.
    const g = Array.from({ length: 100 }, (_, i) => i / 100);
    const im = Array.from({ length: 1000 }, (_, i) => (90 + i) / 100);
    const r = verification(g, im, [0.01]);
    expect(r.genuine).toBe(100);
    expect(r.impostor).toBe(1000);
    expect(r.eer).toBeGreaterThan(0.004);
    expect(r.eer).toBeLessThan(0.06);
    // FMR ≤ 1 % allows 10 impostors (0.90..0.99): threshold just below 1.00, FNMR = 0.
    expect(r.at[0]!.fmr).toBe(0.01);
    expect(r.at[0]!.fnmr).toBe(0);
    expect(r.at[0]!.threshold).toBeLessThan(1.0);
    expect(r.at[0]!.below_resolution).toBe(false);
    expect(verification(g, im, [1e-4]).at[0]!.below_resolution).toBe(true);
  });

  it('draws a DET curve', () => {
    const r = verification([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8]);
    const svg = detSvg([{ label: 'test', points: r.det, eer: r.eer }], 'DET <test>');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('<polyline');
    expect(svg).toContain('DET &lt;test&gt;');
  });
});

describe('identification metrics', () => {
  const search = (probeId: string, scores: Record<string, number>): Search => ({ probeId, scores: new Map(Object.entries(scores)) });

  it('rank-1 counts searches whose best candidate is the mate', () => {
    const r = identification([
      search('a', { a: 0.1, b: 0.4, c: 0.5 }),
      search('b', { a: 0.3, b: 0.2, c: 0.5 }),
      search('c', { a: 0.3, b: 0.4, c: 0.35 }), // the mate is second
    ]);
    expect(r.rank1).toBeCloseTo(2 / 3);
    expect(r.gallery_size).toBe(3);
    expect(r.searches).toBe(3);
  });

  it('FNIR at FPIR: the threshold keeps non-mated best scores out', () => {
    const searches: Search[] = [];
    for (let i = 0; i < 200; i++) searches.push(search(`p${i}`, { [`p${i}`]: i < 190 ? 0.2 : 0.45, other: 0.4 + i / 10_000 }));
    const r = identification(searches, 0.01);
    // Non-mated best scores 0.40..0.4199: at FPIR 1 % at most 2 may pass, so the threshold is just below 0.4002.
    expect(r.threshold).toBeLessThan(0.4002);
    expect(r.threshold).toBeGreaterThan(0.4);
    // The 10 probes whose mate scored 0.45 are not rank 1 (0.45 > other): they count as misses.
    expect(r.fnir_at_fpir).toBeCloseTo(10 / 200);
  });
});
