// Finger valleys on the hand's outline: found as dips of the distance from the palm centre, ordered along the hand,
// sharpened to frame resolution, and the index–middle / ring–little pair picked among them. Every length is in palm
// radii, so nothing depends on the frame's scale; nothing assumes which way the fingers point or which hand it is.
import type { GreyFrame } from './types.ts';

export interface Valley {
  /** Index into the contour (point index, not array index). */
  index: number;
  x: number;
  y: number;
  /** Depth below the fingertips on either side, in palm radii. */
  depth: number;
  /** Height of the outline between this valley and the next one above the higher of the two, in palm radii. */
  peakAfter: number;
}

// The ratios below are lengths in palm radii R, chosen on the dev data; changing any of them changes the ROI of
// every template (re-run `palmpay eval` before touching one).
/** Fewer outline points than this is no hand. */
const MIN_CONTOUR_POINTS = 20;
/** Half-width of the moving average over the outline's distance profile (removes pixel steps). */
const SMOOTHING_HALF_WIDTH = 0.08;
/** A valley is the lowest point of the profile within this distance along the outline on each side. */
const MINIMUM_WINDOW = 0.35;
/** How far along the outline on each side the fingertips above a valley are looked for. */
const RISE_REACH = 3;
/** Least rise on both sides of a valley (the shallower side counts): shallower dips are knuckles or noise. */
const MIN_VALLEY_DEPTH = 0.45;
/** A run along the frame edge at least this long is the cut arm (or a hand cut across), not a fingertip. */
const WALL_RUN = 1;

/**
 * Finger valleys: local minima of the (smoothed) distance from the palm centre along the contour, deep enough on
 * both sides to lie between two fingers. Contour points on the frame edge are never valleys. A long run along
 * the edge (the cut arm) breaks the contour, so the order of valleys follows the hand outline; a short one (a
 * fingertip beyond the edge) does not, so a finger whose tip leaves the frame still separates two valleys.
 */
export function findValleys(contour: Int32Array, w: number, h: number, c: { x: number; y: number; radius: number }): Valley[] {
  const n = contour.length / 2;
  if (n < MIN_CONTOUR_POINTS || c.radius <= 0) return [];
  const { distance, onEdge } = radialProfile(contour, w, h, c);
  const profile = smoothCyclic(distance, Math.max(1, Math.round(c.radius * SMOOTHING_HALF_WIDTH)));
  const valleys = deepMinima(profile, onEdge, c.radius).map(({ index, depth }) => ({ index, x: contour[2 * index]!, y: contour[2 * index + 1]!, depth, peakAfter: 0 }));
  const { wall, armEnd } = edgeRuns(onEdge, c.radius);
  // Start the cyclic order after the longest edge run (the arm), so that consecutive valleys are neighbours along
  // the hand.
  if (armEnd >= 0) valleys.sort((a, b) => ((a.index - armEnd + n) % n) - ((b.index - armEnd + n) % n));
  setFingerProminence(valleys, profile, wall, c.radius);
  return valleys;
}

/** Each outline point's distance from the palm centre, and whether it lies on the frame edge. */
function radialProfile(contour: Int32Array, w: number, h: number, c: { x: number; y: number }): { distance: Float64Array; onEdge: Uint8Array } {
  const n = contour.length / 2;
  const distance = new Float64Array(n);
  const onEdge = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = contour[2 * i]!;
    const y = contour[2 * i + 1]!;
    distance[i] = Math.hypot(x - c.x, y - c.y);
    onEdge[i] = x <= 0 || y <= 0 || x >= w - 1 || y >= h - 1 ? 1 : 0;
  }
  return { distance, onEdge };
}

/** Moving average of ±`half` points around a closed outline. */
function smoothCyclic(v: Float64Array, half: number): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = -half; k <= half; k++) s += v[(i + k + n) % n]!;
    out[i] = s / (2 * half + 1);
  }
  return out;
}

/** Local minima of the profile away from the frame edge with a rise of at least MIN_VALLEY_DEPTH on both sides. */
function deepMinima(profile: Float64Array, onEdge: Uint8Array, radius: number): Array<{ index: number; depth: number }> {
  const n = profile.length;
  const win = Math.max(2, Math.round(radius * MINIMUM_WINDOW));
  const reach = Math.round(radius * RISE_REACH);
  const minDepth = radius * MIN_VALLEY_DEPTH;
  const out: Array<{ index: number; depth: number }> = [];
  for (let i = 0; i < n; i++) {
    if (!isLowestAwayFromEdge(profile, onEdge, i, win)) continue;
    // Rise on both sides, stopping at the frame edge (beyond it the outline is unknown).
    const depth = Math.min(riseFrom(profile, onEdge, i, -1, reach), riseFrom(profile, onEdge, i, 1, reach));
    if (depth < minDepth) continue;
    out.push({ index: i, depth: depth / radius });
  }
  return out;
}

/** Point i is the profile's minimum within ±win points (the first of equal ones), none of them on the frame edge. */
function isLowestAwayFromEdge(profile: Float64Array, onEdge: Uint8Array, i: number, win: number): boolean {
  const n = profile.length;
  let isMin = true;
  let nearEdge = false;
  for (let k = -win; k <= win && isMin; k++) {
    const j = (i + k + n) % n;
    if (onEdge[j]) nearEdge = true;
    if (profile[j]! < profile[i]! || (profile[j] === profile[i] && k < 0)) isMin = false;
  }
  return isMin && !nearEdge;
}

/** Highest rise of the profile above point i within `reach` points in direction `dir` (±1), up to the frame edge. */
function riseFrom(profile: Float64Array, onEdge: Uint8Array, i: number, dir: 1 | -1, reach: number): number {
  const n = profile.length;
  let rise = 0;
  for (let k = 1; k <= reach; k++) {
    const j = (i + dir * k + n) % n;
    if (onEdge[j]) break;
    rise = Math.max(rise, profile[j]! - profile[i]!);
  }
  return rise;
}

/**
 * Where the outline runs along the frame edge, the hand leaves the frame. A long run is the arm (or a hand cut
 * across): the outline beyond it is unknown (`wall`). A short run (under a palm radius; a finger is about half of
 * one) is a fingertip that reaches past the edge, e.g. when the hand lies at an angle: the finger is still there.
 * `armEnd` is the last point of the longest run (-1 without one).
 */
function edgeRuns(onEdge: Uint8Array, radius: number): { wall: Uint8Array; armEnd: number } {
  const n = onEdge.length;
  const wall = new Uint8Array(n);
  let armEnd = -1;
  let longestLen = 0;
  const start = onEdge.indexOf(0);
  if (start >= 0) {
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (!onEdge[i] || onEdge[(i - 1 + n) % n]) continue;
      let len = 0;
      while (len < n && onEdge[(i + len) % n]) len++;
      if (len >= radius * WALL_RUN) for (let j = 0; j < len; j++) wall[(i + j) % n] = 1;
      if (len > longestLen) { longestLen = len; armEnd = (i + len - 1) % n; }
    }
  }
  return { wall, armEnd };
}

/** Prominence of the outline between each valley and the next (a fingertip is tall; a bump of the wrist is not). */
function setFingerProminence(valleys: Valley[], profile: Float64Array, wall: Uint8Array, radius: number): void {
  const n = profile.length;
  for (let v = 0; v < valleys.length; v++) {
    const a = valleys[v]!;
    const b = valleys[(v + 1) % valleys.length]!;
    let top = 0;
    for (let i = a.index; i !== b.index; i = (i + 1) % n) {
      if (wall[i]) {
        top = 0;
        break;
      }
      top = Math.max(top, profile[i]!);
    }
    a.peakAfter = valleys.length > 1 ? Math.max(0, top - Math.max(profile[a.index]!, profile[b.index]!)) / radius : 0;
  }
}

export interface ValleyPair {
  a: Valley;
  b: Valley;
  middle: Valley;
  /** 0..1: how well the three valleys look like the three between the four fingers. */
  plausibility: number;
}

/**
 * Sharpens a valley found on the small image to frame resolution: near it, the background pixel (3×3 mean
 * below the segmentation threshold) closest to the palm centre is the bottom of the notch between two fingers.
 * Coordinates in and out are frame pixels.
 */
export function refineValley(frame: GreyFrame, p: { x: number; y: number }, centre: { x: number; y: number }, threshold: number, radius: number): { x: number; y: number } {
  const { width: w, height: h, pixels: px } = frame;
  const x0 = Math.max(1, Math.round(p.x - radius));
  const x1 = Math.min(w - 2, Math.round(p.x + radius));
  const y0 = Math.max(1, Math.round(p.y - radius));
  const y1 = Math.min(h - 2, Math.round(p.y + radius));
  const t9 = threshold * 9;
  const isBackground = (i: number): boolean =>
    px[i - w - 1]! + px[i - w]! + px[i - w + 1]! + px[i - 1]! + px[i]! + px[i + 1]! + px[i + w - 1]! + px[i + w]! + px[i + w + 1]! < t9;
  let best = Infinity;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) if (isBackground(y * w + x)) best = Math.min(best, Math.hypot(x - centre.x, y - centre.y));
  }
  // Average the pixels tied for closest, for a sub-pixel position.
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (Math.hypot(x - centre.x, y - centre.y) > best + 0.75 || !isBackground(y * w + x)) continue;
      sx += x;
      sy += y;
      n++;
    }
  }
  return n ? { x: sx / n, y: sy / n } : p;
}

/**
 * Picks the index–middle and ring–little valleys: of every three consecutive valleys with a tall finger between
 * each two, the tightest group (the thumb's valley lies far from the others), checked for even spacing.
 */
export function pickValleys(valleys: Valley[], closed: boolean, palmRadius: number): ValleyPair | null {
  const n = valleys.length;
  if (n < 3) return null;
  let best: ValleyPair | null = null;
  let bestSpan = Infinity;
  const groups = closed ? n : n - 2;
  for (let i = 0; i < groups; i++) {
    const a = valleys[i]!;
    const m = valleys[(i + 1) % n]!;
    const b = valleys[(i + 2) % n]!;
    const span = Math.hypot(a.x - b.x, a.y - b.y);
    const d1 = Math.hypot(a.x - m.x, a.y - m.y);
    const d2 = Math.hypot(b.x - m.x, b.y - m.y);
    const evenness = Math.min(d1, d2) / Math.max(d1, d2, 1e-9);
    // The middle valley lies near the segment a–b (the valleys form a shallow arc), and the span is palm-sized.
    const straight = span / Math.max(d1 + d2, 1e-9);
    const sizeOk = span > 0.6 * palmRadius && span < 1.6 * palmRadius; // dev data: 0.88–1.30
    const fingers = Math.min(a.peakAfter, m.peakAfter);
    if (!sizeOk || evenness < 0.4 || straight < 0.6 || fingers < MIN_FINGER) continue;
    if (span < bestSpan) {
      bestSpan = span;
      const plausibility = Math.min(1, evenness * 1.5) * Math.min(1, (straight - 0.6) * 4) * Math.min(1, fingers / (2 * MIN_FINGER));
      best = { a, b, middle: m, plausibility };
    }
  }
  return best;
}

/** Least prominence, in palm radii, of the two fingertips between the chosen valleys. */
const MIN_FINGER = 0.8;
