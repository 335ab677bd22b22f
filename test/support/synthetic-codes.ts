// Synthetic feature codes with the production coder's shape (bocv: 6 planes of 32 × 32 cells) for the template
// tests: a palm is a random code, and a capture of it is the code with a fraction of its cells redrawn at random.
import { encodeTemplate, TEMPLATE_FORMAT_VERSION } from '../../src/biometrics/template.ts';
import type { FeatureCode, Template } from '../../src/biometrics/types.ts';
import { mulberry32 } from '../../src/util/random.ts';

export const ROWS = 32;
export const PLANES = 6;

/** A palm: every bit random (seeded), every cell coded. */
export function randomCode(seed: number): FeatureCode {
  const rnd = mulberry32(seed);
  const bits = new Uint32Array(PLANES * ROWS);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(rnd() * 2 ** 32) >>> 0;
  return { rows: ROWS, cols: 32, planes: PLANES, bits, mask: new Uint32Array(ROWS).fill(0xffffffff) };
}

/** Cells listed in `cells` (r * 32 + c) take every plane's bit from `from`, the rest stay `base`'s. */
export function mix(base: FeatureCode, from: FeatureCode, cells: readonly number[]): FeatureCode {
  const bits = Uint32Array.from(base.bits);
  for (const k of cells) {
    const r = k >> 5;
    const m = 1 << (k & 31);
    for (let p = 0; p < PLANES; p++) bits[p * ROWS + r] = ((bits[p * ROWS + r]! & ~m) | (from.bits[p * ROWS + r]! & m)) >>> 0;
  }
  return { ...base, bits };
}

/** The cells in a seeded random order. */
export function permutation(seed: number): number[] {
  const rnd = mulberry32(seed);
  const out = Array.from({ length: ROWS * 32 }, (_, i) => i);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `base` with a fraction `f` of its cells redrawn at random: another capture of the same palm, noisier as f grows. */
export function capture(base: FeatureCode, f: number, seed: number): FeatureCode {
  return mix(base, randomCode(seed), permutation(seed + 1).slice(0, Math.round(f * ROWS * 32)));
}

/** A left-hand bocv template of these codes (the production coder's parameters). */
export const tpl = (...codes: FeatureCode[]): Template => ({ formatVersion: TEMPLATE_FORMAT_VERSION, coder: 'bocv', coderParams: { roiSize: 64, wavelength10: 95, kernelRadius: 9, orientations: 6 }, hand: 'left', quality: 0.9, codes });
export const bytesOf = (t: Template): Buffer<ArrayBuffer> => Buffer.from(encodeTemplate(t).slice().buffer);
