// Shared types of the palm-vein pipeline: frame in, template out. Pure data, no behaviour.
import { PalmPayError } from '../util/errors.ts';

/** An 8-bit greyscale frame, row-major, `pixels.length === width * height` (what the scanner driver delivers). */
export interface GreyFrame {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export type Hand = 'left' | 'right' | 'unknown';

/**
 * The coders this build knows. The id is written into every template; codes of different coders or
 * parameters are never compared.
 */
export type CoderId = 'compcode' | 'bocv' | 'ordinal';

/**
 * One capture's feature code: a `rows` × `cols` grid of cells, `planes` bits per cell, plus a validity mask.
 *
 * Bit layout (stable; the 1:N index builds on it):
 * - `cols` is 32, so one grid row of one plane is exactly one 32-bit word; bit `c` (value `1 << c`) of the word
 *   is column `c`, column 0 is the least significant bit.
 * - `bits[p * rows + r]` is row `r` of plane `p` (planes outermost, then rows).
 * - `mask[r]` is row `r` of the validity mask (shared by all planes): 1 = the cell lies on the palm and was
 *   coded reliably; 0 = ignore the cell in every plane.
 * - Cells whose mask bit is 0 have all their plane bits set to 0 (canonical, so bytes are deterministic).
 * The meaning of a plane depends on the coder (see features.ts): for Competitive Code the 3 planes are a
 * Gray-like code of the winning orientation, chosen so that the Hamming distance between two cells equals the
 * angular distance between their orientations (0..3); for BOCV each of the 6 planes is the sign of one
 * orientation's filter response (1 = negative, i.e. a dark line across that orientation), planes ordered
 * 0°, 60°, 120°, 30°, 90°, 150° (features.ts `bocvOrientation`); for ordinal codes plane p is 1 when
 * orientation p responds more negatively than the orthogonal orientation p + n/2.
 */
export interface FeatureCode {
  rows: number;
  cols: number;
  planes: number;
  bits: Uint32Array;
  mask: Uint32Array;
}

/** Quality in [0, 1] with its components (all in [0, 1], higher is better). */
export interface Quality {
  score: number;
  handArea: number;
  landmarks: number;
  exposure: number;
  sharpness: number;
  veinContrast: number;
}

/**
 * A template: one or more sub-codes of the same hand (one per capture; enrolment keeps several, a probe has
 * one), with the coder that made them. Matching takes the best pair of sub-codes.
 */
export interface Template {
  formatVersion: number;
  coder: CoderId;
  /** Coder parameter set, written into the header; codes with different parameters are never compared. */
  coderParams: CoderParams;
  hand: Hand;
  /** Overall quality in [0, 1] (the lowest of the sub-codes' qualities). */
  quality: number;
  codes: FeatureCode[];
}

/** The parameters that change what a code means. Stored in the template header. */
export interface CoderParams {
  /** ROI side in pixels at which the filters run (the code grid samples it with stride `roiSize / cols`). */
  roiSize: number;
  /** Gabor wavelength in ROI pixels × 10 (stored as an integer). */
  wavelength10: number;
  /** Gabor kernel radius in ROI pixels. */
  kernelRadius: number;
  /** Number of filter orientations. */
  orientations: number;
}

/** Why a capture failed; each has a message the UI can show (see quality.ts `ftaMessage`). */
export type FtaReason =
  | 'no-hand' // nothing hand-like in view
  | 'hand-partial' // hand cut off by the frame edge
  | 'fingers-closed' // finger valleys not found: spread your fingers
  | 'too-far' // hand too small in the frame: move closer
  | 'too-close' // hand too large: move back
  | 'too-dark'
  | 'too-bright'
  | 'blurred' // a steep spectral slope or little vein detail at the coder's wavelength: hold still
  | 'low-contrast'
  | 'uneven-light' // one side of the palm dark (a tilted hand): hold flat
  | 'palm-small'; // the palm fills too little of the frame for vein detail: move closer

/**
 * What the person should do after a failed capture: one code per kind of correction, for the screens to show
 * (quality.ts `guidanceFor` maps each FtaReason to one).
 */
export type CaptureGuidance =
  | 'place-hand' // no hand seen
  | 'centre-hand' // partly outside the view
  | 'open-fingers' // finger valleys not found
  | 'move-closer'
  | 'move-back'
  | 'hold-still' // blurred
  | 'hold-flat' // little vein detail, uneven light
  | 'adjust-light'; // too dark or too bright

/** Landmarks and the palm coordinate system found by the ROI stage, in frame pixels. */
export interface RoiGeometry {
  /** The two outer valleys (index–middle and ring–little), in contour order. */
  valleyA: { x: number; y: number };
  valleyB: { x: number; y: number };
  /** The ROI square's centre, its side in frame pixels, and its rotation (radians, x axis of the ROI in the frame). */
  centre: { x: number; y: number };
  side: number;
  angle: number;
}

export type ExtractResult =
  | { ok: true; template: Template; quality: Quality; geometry: RoiGeometry; roi: GreyFrame }
  | {
      ok: false;
      reason: FtaReason;
      guidance: CaptureGuidance;
      message: string;
      quality?: Quality;
      geometry?: RoiGeometry;
      roi?: GreyFrame;
      /** The blur measure, where the palm was found but the capture failed before its ROI was measured. */
      spectralSlope?: number;
    };

/** A template whose bytes are not a valid template (bad magic, truncated, CRC mismatch, inconsistent fields). */
export class TemplateCorruptError extends PalmPayError {
  constructor(message: string) {
    super('TEMPLATE_CORRUPT', `template rejected: ${message}`);
  }
}

/** A well-formed template of a format version or coder this build does not know. */
export class TemplateVersionError extends PalmPayError {
  constructor(message: string) {
    super('TEMPLATE_UNSUPPORTED', `template rejected: ${message}`);
  }
}

/** Two templates that cannot be compared (different coder, parameters or grid). */
export class TemplateMismatchError extends PalmPayError {
  constructor(message: string) {
    super('TEMPLATE_MISMATCH', `templates not comparable: ${message}`);
  }
}

/** A frame that is not a valid greyscale frame (wrong size, wrong buffer length). */
export class BadFrameError extends PalmPayError {
  constructor(message: string) {
    super('BAD_FRAME', `bad frame: ${message}`);
  }
}
