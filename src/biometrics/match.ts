// 1:1 matcher: masked, normalised Hamming distance between feature codes, minimised over small shifts of the
// code grid (the ROI's residual misalignment), refined block by block (elastic: the palm deforms between
// captures), and minimised over the sub-codes of both templates.
import { DEFAULT_ELASTIC, elasticDistance, prepareCode, rigidDistance, type ElasticOptions, type PackedCode } from './packed.ts';
import { sameParams } from './template.ts';
import { TemplateMismatchError, type FeatureCode, type Template } from './types.ts';

export interface MatchOptions {
  /** Largest shift tried, in code cells, along each axis (default 4, i.e. ±4 × roiSize/32 ROI pixels). */
  maxShift?: number;
  /** Fewest jointly valid cells, as a fraction of the grid, for a shift to count (default 0.35). */
  minOverlap?: number;
  /** Refine blocks of the grid after the global shift (packed.ts; default DEFAULT_ELASTIC); false: rigid. */
  elastic?: ElasticOptions | false;
}

export const DEFAULT_MAX_SHIFT = 4;
const DEFAULT_MIN_OVERLAP = 0.35;

/**
 * Distance between two templates in [0, 1]: 0 = identical codes, about 0.5 (BOCV) or 0.45 (CompCode) for
 * unrelated palms; 1 when nothing could be compared (no overlap, or a left hand against a right hand).
 * LOWER IS MORE SIMILAR: accept when `matchScore(a, b) <= threshold` (see config.ts).
 * Throws TemplateMismatchError for templates of different coders or parameters.
 */
export function matchScore(a: Template, b: Template, opts: MatchOptions = {}): number {
  if (a.coder !== b.coder || !sameParams(a.coderParams, b.coderParams)) {
    throw new TemplateMismatchError(`${a.coder} vs ${b.coder} or different coder parameters`);
  }
  if (a.hand !== 'unknown' && b.hand !== 'unknown' && a.hand !== b.hand) return 1;
  let best = 1;
  for (const ca of a.codes) for (const cb of b.codes) best = Math.min(best, codeDistance(ca, cb, opts));
  return best;
}

/**
 * A template as duplicate checks compare it: of unknown hand. A hand's label is the enrolling terminal's word
 * (nothing in a capture shows which hand was laid), and the matcher scores a left palm against a right one 1, so a
 * check that trusted labels would let one palm be enrolled again, as a second person, under the other hand's label.
 */
export function anyHand(t: Template): Template {
  return t.hand === 'unknown' ? t : { ...t, hand: 'unknown' };
}

/**
 * Masked normalised Hamming distance of two codes, minimised over shifts (see the bit layout in types.ts), and
 * with `elastic`, refined block by block (packed.ts). Runs on packed codes prepared once per code and cached.
 */
export function codeDistance(a: FeatureCode, b: FeatureCode, opts: MatchOptions = {}): number {
  if (a.rows !== b.rows || a.cols !== b.cols || a.planes !== b.planes) throw new TemplateMismatchError('different code grids');
  const maxShift = opts.maxShift ?? DEFAULT_MAX_SHIFT;
  const minValid = (opts.minOverlap ?? DEFAULT_MIN_OVERLAP) * a.rows * a.cols;
  const e = opts.elastic ?? DEFAULT_ELASTIC;
  const reach = e ? e.reach : 0;
  const pa = packed(a, maxShift + reach);
  if (!e) {
    // Rigid: `a` shifted against `b` as it lies gives the same distances (the shifts mirrored), so `b` needs no
    // prepared shifts of its own and no cache entry: one probe against many candidates prepares only the probe
    // (the centre's duplicate check pre-scores 1 024 candidates a check this way).
    unshifted = prepareCode(b, 0, unshifted);
    return rigidDistance(unshifted, pa, maxShift, minValid).distance;
  }
  return elasticDistance(pa, packed(b, maxShift + reach), maxShift, minValid, e);
}

/** Scratch for the rigid path's unshifted code (reused: matching is synchronous). */
let unshifted: PackedCode | undefined;

/** Elastic matching with the default blocks (4 × 4 blocks of 8 × 8 cells, ±1 cell each): the default. */
export const ELASTIC: MatchOptions = { elastic: DEFAULT_ELASTIC };
/** The global shift search alone (the matcher before elastic matching; kept for `palmpay eval --matcher rigid`). */
export const RIGID: MatchOptions = { elastic: false };

const prepared = new WeakMap<FeatureCode, PackedCode>();

/** The code's packed form with at least `shifts` horizontal shifts (cached; codes are never mutated after extraction). */
function packed(c: FeatureCode, shifts: number): PackedCode {
  const hit = prepared.get(c);
  if (hit && hit.maxShift >= shifts) return hit;
  const p = prepareCode(c, shifts);
  prepared.set(c, p);
  return p;
}

/** Distance comparing cell (r, c) of `a` with cell (r + dy, c + dx) of `b`; 1 when fewer than minValid cells overlap. */
export function shiftedDistance(a: FeatureCode, b: FeatureCode, dx: number, dy: number, minValid: number): number {
  const rows = a.rows;
  const r0 = Math.max(0, -dy);
  const r1 = Math.min(rows, rows - dy);
  let valid = 0;
  let diff = 0;
  for (let r = r0; r < r1; r++) {
    const rb = r + dy;
    const m = a.mask[r]! & shift(b.mask[rb]!, dx);
    if (m === 0) continue;
    valid += popcount(m);
    for (let p = 0; p < a.planes; p++) {
      diff += popcount((a.bits[p * rows + r]! ^ shift(b.bits[p * rows + rb]!, dx)) & m);
    }
  }
  if (valid < minValid || valid === 0) return 1;
  return diff / (valid * a.planes);
}

/** Moves column c + dx of a row word to column c; columns shifted in from outside are 0 (invalid). */
function shift(w: number, dx: number): number {
  return dx >= 0 ? w >>> dx : (w << -dx) >>> 0;
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
