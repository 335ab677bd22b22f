// Capture quality: measurable components, the failure-to-acquire decision and the message the UI shows.
import type { CaptureGuidance, FtaReason } from './types.ts';

/**
 * Limits below/above which a capture is a failure to acquire, set well outside the range measured on the dev
 * data (299 CASIA 940 nm frames: ROI mean 80–135, sharpness 0.0038–0.0090, vein contrast 0.0063–0.021), so only
 * clearly bad captures fail; see README.md.
 */
export interface QualityLimits {
  minHandArea: number;
  maxHandArea: number;
  /** Fewest ROI samples on the hand and inside the frame, as a fraction. */
  minRoiCoverage: number;
  minMean: number;
  maxMean: number;
  maxSaturated: number;
  minSharpness: number;
  minVeinContrast: number;
}

export const DEFAULT_QUALITY_LIMITS: QualityLimits = {
  minHandArea: 0.06,
  maxHandArea: 0.75,
  minRoiCoverage: 0.8,
  minMean: 35,
  maxMean: 235,
  maxSaturated: 0.25,
  minSharpness: 0.0025,
  minVeinContrast: 0.003,
};

const MESSAGES: Record<FtaReason, string> = {
  'no-hand': 'No hand seen: place your open hand over the scanner.',
  'hand-partial': 'Hand partly outside the view: centre your hand over the scanner.',
  'fingers-closed': 'Spread your fingers a little and hold your hand flat.',
  'too-far': 'Move your hand closer to the scanner.',
  'too-close': 'Move your hand a little further from the scanner.',
  'too-dark': 'Image too dark: hold your hand over the scanner, palm down.',
  'too-bright': 'Image too bright: move your hand a little further away.',
  blurred: 'Hold your hand still.',
  'low-contrast': 'Veins not visible: hold your hand flat and still over the scanner.',
};

export function ftaMessage(reason: FtaReason): string {
  return MESSAGES[reason];
}

const GUIDANCE: Record<FtaReason, CaptureGuidance> = {
  'no-hand': 'place-hand',
  'hand-partial': 'centre-hand',
  'fingers-closed': 'open-fingers',
  'too-far': 'move-closer',
  'too-close': 'move-back',
  'too-dark': 'adjust-light',
  'too-bright': 'adjust-light',
  blurred: 'hold-still',
  'low-contrast': 'hold-flat',
};

/** The one correction the screen should ask for after a failure to acquire. */
export function guidanceFor(reason: FtaReason): CaptureGuidance {
  return GUIDANCE[reason];
}

/** Maps a measured value onto [0, 1]: 0 at `bad`, 1 at `good` (either order), clamped. */
export function ramp(v: number, bad: number, good: number): number {
  const t = (v - bad) / (good - bad);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}
