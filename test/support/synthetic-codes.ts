// Synthetic feature codes with the production coder's shape (bocv: 6 planes of 32 × 32 cells) for the template
// tests and for every fixture that enrols someone at the centre (which audits what it is sent, template-audit.ts):
// a palm is a random code, and a capture of it is the code with a fraction of its cells redrawn at random.
import { DEFAULT_EXTRACT } from '../../src/biometrics/config.ts';
import { encodeTemplate, TEMPLATE_FORMAT_VERSION } from '../../src/biometrics/template.ts';
import type { FeatureCode, Hand, Template } from '../../src/biometrics/types.ts';
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

/** A bocv template of these codes (the production coder's parameters), of the given hand. */
export const handTemplate = (hand: Hand, codes: FeatureCode[]): Template => ({ formatVersion: TEMPLATE_FORMAT_VERSION, coder: DEFAULT_EXTRACT.coder, coderParams: { ...DEFAULT_EXTRACT.params }, hand, quality: 0.9, codes });
/** A left-hand bocv template of these codes (the production coder's parameters). */
export const tpl = (...codes: FeatureCode[]): Template => handTemplate('left', codes);
export const bytesOf = (t: Template): Buffer<ArrayBuffer> => Buffer.from(encodeTemplate(t).slice().buffer);

/** A 32-bit seed from a name (FNV-1a): a fixture's palm follows from whom it enrols, the same on every run. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The palm of `hand` of the person named `palm` (a name, or a seed): each hand of each person its own code. */
export function palmCode(palm: string | number, hand: Hand = 'left'): FeatureCode {
  return randomCode(seedOf(`${palm}#${hand}`));
}

/**
 * What an honest counter sends for one hand at enrolment: three live captures of that palm, each with a fifth of
 * its cells redrawn. Captures of one hand lie ~0.18 apart (above COPY_DISTANCE 0.03, within the 0.3335 that links
 * one palm's captures); two people's, or two hands', ~0.46 (beyond every decision threshold). `session` draws
 * other captures of the same palm (a second enrolment of one person: a duplicate, never a byte-for-byte copy).
 */
export function enrolmentTemplate(palm: string | number, hand: Hand = 'left', session = 0): Template {
  const base = palmCode(palm, hand);
  const seed = seedOf(`${palm}#${hand}#capture#${session}`);
  return handTemplate(hand, [0, 1, 2].map((k) => capture(base, 0.2, (seed + 2 * k) >>> 0)));
}
/** enrolmentTemplate's bytes, as a counter uploads them (`PUT /v1/enrolments/:person/templates`). */
export const enrolmentBytes = (palm: string | number, hand: Hand = 'left', session = 0): Buffer<ArrayBuffer> => bytesOf(enrolmentTemplate(palm, hand, session));
