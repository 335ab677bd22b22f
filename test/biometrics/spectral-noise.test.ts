// The spectral slope without the sensor's noise floor, and the blur cut-off rule fitted on training captures.
import { describe, expect, it } from 'vitest';
import { fitBlurCutoff } from '../../src/biometrics/eval/blur.ts';
import { spectralBands, spectralSlope } from '../../src/biometrics/quality.ts';
import { mulberry32, normal } from '../../src/util/random.ts';

const N = 64;
const WAVELENGTH = 9.5;

/** A palm-like texture: random plane waves in the octave below the coder's frequency (amplitude `mid`) and at it (`high`), plus white noise. */
function texture(mid: number, high: number, noiseSd: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const img = new Float32Array(N * N).fill(100);
  const waves = (f: number, amp: number): void => {
    for (let w = 0; w < 12; w++) {
      const th = rnd() * Math.PI;
      const ph = rnd() * 2 * Math.PI;
      const fx = f * Math.cos(th);
      const fy = f * Math.sin(th);
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) img[y * N + x]! += amp * Math.cos(2 * Math.PI * (fx * x + fy * y) + ph);
    }
  };
  waves(0.5 / WAVELENGTH, mid);
  waves(1 / WAVELENGTH, high);
  for (let i = 0; i < img.length; i++) img[i]! += noiseSd * normal(rnd);
  return img;
}

const valid = new Uint8Array(N * N).fill(1);
const raw = (img: Float32Array): number => {
  const b = spectralBands(img, valid, N, 0, WAVELENGTH);
  return b.high / b.mid;
};

describe('spectral slope, noise floor removed', () => {
  it('sensor noise no longer lifts a blurred capture: the raw slope rises by half or more, the corrected one loses at least half of that lift', () => {
    for (const seed of [1, 2, 3]) {
      const clean = spectralSlope(texture(6, 0.6, 0, seed), valid, N, 0, WAVELENGTH);
      const noisy = texture(6, 0.6, 6, seed);
      expect(raw(noisy)).toBeGreaterThan(1.5 * clean);
      // At least half of the lift is gone (the floor is itself estimated from a few hundred frequencies, the lower octave has 48).
      expect(Math.abs(spectralSlope(noisy, valid, N, 0, WAVELENGTH) - clean)).toBeLessThan(0.5 * (raw(noisy) - clean));
    }
  });

  it('a sharp capture keeps its slope; pure noise measures no detail', () => {
    const sharp = spectralSlope(texture(6, 6, 0, 4), valid, N, 0, WAVELENGTH);
    expect(spectralSlope(texture(6, 6, 2, 4), valid, N, 0, WAVELENGTH)).toBeGreaterThan(0.8 * sharp);
    expect(spectralSlope(texture(0, 0, 5, 5), valid, N, 0, WAVELENGTH)).toBe(0);
  });
});

describe('blur cut-off rule (training folds only)', () => {
  it('weighs a sharp capture rejected 10× a blurred one missed', () => {
    const sharp = Array.from({ length: 100 }, (_, i) => 0.2 + i * 0.01); // 0.20–1.19
    const blurred = Array.from({ length: 100 }, (_, i) => i * 0.002); // 0–0.198: all separable
    expect(fitBlurCutoff(sharp, blurred).verify).toBeGreaterThan(0.198);
    expect(fitBlurCutoff(sharp, blurred).verify).toBeLessThanOrEqual(0.2);
    // One sharp outlier at 0.05: rejecting it costs 10 × 1 %, more than the 75 % of blurred copies above 0.05 it would
    // let through? No: missing 75 of 100 blurred costs 0.75 > 0.10, so the outlier is rejected.
    const f = fitBlurCutoff([0.05, ...sharp], blurred);
    expect(f.verify).toBeGreaterThan(0.198);
    // Overlap: blurred copies spread into the sharp range; a cut-off never rejects more sharp than it saves × 10.
    const g = fitBlurCutoff(sharp, [...blurred, 0.5, 0.6, 0.7]);
    expect(g.verify).toBeLessThanOrEqual(0.2);
    expect(g.enrol).toBeCloseTo(g.verify * 1.2, 9);
  });
});
