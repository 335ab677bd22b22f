// A small seeded PRNG (mulberry32) and normal deviates, so generated galleries and tests are reproducible.
import { mulberry32, normal, type Rng } from '../../util/random.ts';

export { normal, type Rng };
/** The project's seeded PRNG under this module's historical name. */
export const rng = mulberry32;

/** Φ⁻¹ at the centres of 4096 equal-probability bins: a normal deviate is one table look-up. */
const NORMAL_TABLE = (() => {
  const t = new Float64Array(4096);
  for (let i = 0; i < t.length; i++) t[i] = inverseNormal((i + 0.5) / t.length);
  return t;
})();

/**
 * Fills `out` with standard normal deviates quickly (the generator's hot path): a xorshift stream seeded from `r`
 * indexes the quantile table. Quantised to 4096 levels, which the smoothing of the latent field washes out.
 */
export function fillNormal(r: Rng, out: Float32Array | Float64Array): void {
  let x = ((r() * 4294967296) >>> 0) | 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = NORMAL_TABLE[(x >>> 0) >>> 20]!;
  }
}

/** Φ⁻¹(p) by bisection on Φ (only used to build tables). */
export function inverseNormal(p: number): number {
  let lo = -9;
  let hi = 9;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Φ(x), the standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export function randomCode(r: Rng, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (r() * 256) | 0;
  return out;
}

/** Hamming distance of two byte arrays (the plain-JS reference of the kernel). */
export function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POP8[a[i]! ^ b[i]!]!;
  return d;
}

const POP8 = Uint8Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let x = i; x; x >>= 1) c += x & 1;
  return c;
});
