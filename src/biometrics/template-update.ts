// Template update after a confident match: a fresh capture of a person who was just recognised beyond doubt is kept
// as an extra sub-code (an "update slot"), so the template follows the hand's slow changes and the poses the
// enrolment missed. Pure: the terminal proposes, the centre re-decides with the same function on its own copies.
//
// Template poisoning is the risk: an attacker who gets their own palm (or a capture between two palms) admitted into
// someone else's template can then pay as that person. The centre re-runs proposeTemplateUpdate on its own copies
// with the distance to everyone it holds (src/server/template-slots.ts). The rules below bound it:
// - ANCHOR: a capture is judged against the ORIGINAL enrolment captures only, never against earlier updates, so a
//   chain of borderline matches cannot walk the template away step by step (each step is one step from the originals).
// - CONFIDENT: only a capture far inside the decision threshold is admitted (`strongScore` alone, `pinScore` when the
//   customer's PIN was also checked); never a match near the threshold.
// - UNAMBIGUOUS: the capture must lie farther from every other enrolled person, by `minMargin`, and match none of them.
// - FRESH: a capture that is a copy of a code already held (config.ts COPY_DISTANCE) is refused.
// - BOUNDED: at most `slots` updates; the originals are never replaced; a new update replaces the oldest.
// - GUARDED: an update slot can only help a probe the originals already nearly accept (`guardScore`), so even a
//   capture admitted by mistake (a morph between two palms, which sits close to both) cannot let in a palm the
//   originals would reject outright.
import { matchScore } from './match.ts';
import { DECISION_THRESHOLD, IMPOSTOR_TAIL, THRESHOLDS } from './config.ts';
import { fuseTemplates, MAX_CODES, sameParams } from './template.ts';
import { QUALITY_LIMITS } from './quality.ts';
import type { Template } from './types.ts';
import { codeCoverage, isCopy } from './template-audit.ts';

export interface TemplateUpdatePolicy {
  /** Update slots beside the enrolment captures. */
  slots: number;
  /** Highest distance to the original captures at which a capture is admitted without a PIN. */
  strongScore: number;
  /** The same when the customer's PIN was checked in the same transaction. */
  pinScore: number;
  /** The nearest OTHER enrolled person must be at least this much farther than the originals. */
  minMargin: number;
  /** An update slot counts in a match only when the originals' own distance is at most this. */
  guardScore: number;
  /** The decision threshold: a capture that matches another person at this threshold is never admitted. */
  decisionScore: number;
}

/**
 * Fixed before measuring (not tuned on the eval): the admission scores come from the impostor-tail model of config.ts
 * (mean 0.3765, sd 0.0183): strongScore at z = 6 (modelled FMR ≈ 10⁻⁹, 0.2667), pinScore at z = 4.75 (≈ 10⁻⁶, 0.2896),
 * both far below DECISION_THRESHOLD (0.3129); the guard is the FMR 1 % threshold (0.3335); the margin 0.04 is about
 * two impostor-tail sds; two slots. Held-fold effect: src/biometrics/README.md, *Template update*.
 */
export const TEMPLATE_UPDATE_POLICY: TemplateUpdatePolicy = {
  slots: 2,
  strongScore: round4(IMPOSTOR_TAIL.mean - 6 * IMPOSTOR_TAIL.sd),
  pinScore: round4(IMPOSTOR_TAIL.mean - 4.75 * IMPOSTOR_TAIL.sd),
  minMargin: 0.04,
  guardScore: THRESHOLDS.fmr1e2,
  decisionScore: DECISION_THRESHOLD,
};

/** A person's hand: the enrolment template, never changed, and the update captures, oldest first. */
export interface UpdatableTemplate {
  enrolled: Template;
  updates: Template[];
}

/** What the matching side knows about the capture beside the capture itself. */
export interface UpdateEvidence {
  /** The customer's PIN was checked in the same transaction (the centre takes it from the signed record, not the claim). */
  pinVerified: boolean;
  /** Distance of the capture to the nearest other enrolled person; null when the gallery holds nobody else. */
  nearestOther: number | null;
  /** The capture passed the (stricter) enrolment quality limits. */
  enrolQuality: boolean;
}

export type UpdateRefusal = 'hand' | 'copy' | 'quality' | 'not-confident' | 'ambiguous' | 'full';

export type UpdateDecision =
  | { ok: true; anchorScore: number; /** index in `updates` replaced (the oldest), or null when a slot was free */ replaces: number | null; next: UpdatableTemplate }
  | { ok: false; anchorScore: number; reason: UpdateRefusal };

/**
 * Whether `capture` may join `u` as an update, and the resulting template. The anchor score is computed here from
 * the original captures; nothing the caller claims about scores is trusted.
 */
export function proposeTemplateUpdate(u: UpdatableTemplate, capture: Template, ev: UpdateEvidence, policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): UpdateDecision {
  const anchorScore = matchScore(u.enrolled, capture);
  const refuse = (reason: UpdateRefusal): UpdateDecision => ({ ok: false, anchorScore, reason });
  if (capture.hand !== u.enrolled.hand || capture.codes.length !== 1) return refuse('hand');
  // A copy of a code already held (an enrolment capture, an earlier update) is no fresh capture: it adds nothing
  // and would push out a real update, so it is refused however well it scores.
  if ([...u.enrolled.codes, ...u.updates.flatMap((t) => t.codes)].some((c) => isCopy(capture.codes[0]!, c))) return refuse('copy');
  if (!ev.enrolQuality) return refuse('quality');
  const reason = admission(anchorScore, ev.nearestOther, ev.pinVerified, policy);
  if (reason) return refuse(reason);
  if (policy.slots <= 0 || u.enrolled.codes.length >= MAX_CODES) return refuse('full');
  const room = Math.min(policy.slots, MAX_CODES - u.enrolled.codes.length);
  const replaces = u.updates.length >= room ? 0 : null;
  const kept = replaces === null ? u.updates : u.updates.slice(u.updates.length - room + 1);
  return { ok: true, anchorScore, replaces, next: { enrolled: u.enrolled, updates: [...kept, capture] } };
}

/** The admission rule on scores alone (shared with the eval, which has the distances but no templates). */
export function admission(anchorScore: number, nearestOther: number | null, pinVerified: boolean, policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): UpdateRefusal | null {
  if (anchorScore > (pinVerified ? policy.pinScore : policy.strongScore)) return 'not-confident';
  if (nearestOther !== null && (nearestOther <= policy.decisionScore || nearestOther - anchorScore < policy.minMargin)) return 'ambiguous';
  return null;
}

/**
 * The distance of a probe to an updatable template: the originals' distance, lowered by an update slot only when
 * the originals already nearly accept the probe (the guard).
 */
export function updatedScore(u: UpdatableTemplate, probe: Template, policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): number {
  const original = matchScore(u.enrolled, probe);
  return guardedScore(original, u.updates.length ? matchScore(fuseTemplates(u.updates), probe) : 1, policy);
}

export function guardedScore(original: number, update: number, policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): number {
  return guardOpen(original, policy) ? Math.min(original, update) : original;
}

/** Whether update slots may count for a probe at this distance from the originals (a caller can skip scoring them). */
export function guardOpen(original: number, policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): boolean {
  return original <= policy.guardScore;
}

/**
 * What a party holding only the capture's code (the centre: it never sees the frame) can check of its quality: one
 * sub-code of the enrolled hand, made by the same coder with the same parameters, and covering at least the
 * enrolment limits' share of the palm square (`minRoiCoverage`; a partial or off-centre hand codes fewer cells).
 * The image measures (blur, light, valleys) stay the capturing terminal's, which the centre cannot re-measure.
 */
export function captureCodeRefusal(enrolled: Template, capture: Template): 'hand' | 'quality' | null {
  if (capture.hand !== enrolled.hand || capture.codes.length !== 1) return 'hand';
  if (capture.coder !== enrolled.coder || !sameParams(capture.coderParams, enrolled.coderParams) || capture.codes[0]!.rows !== enrolled.codes[0]!.rows) return 'quality';
  return codeCoverage(capture.codes[0]!) < QUALITY_LIMITS.enrol.minRoiCoverage ? 'quality' : null;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
