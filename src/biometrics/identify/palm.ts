// The identifier wired to the 1:1 recogniser (extract, template, match): coarse codes from templates, matchScore as stage 2, and the
// loader that turns stored template bytes into enrolments, skipping (and reporting) what does not decode.
import { DECISION_THRESHOLD, IMPOSTOR_TAIL, TARGET_FPIR } from '../config.ts';
import { matchScore } from '../match.ts';
import { decodeTemplate, fuseTemplates } from '../template.ts';
import { guardedScore, guardOpen } from '../template-update.ts';
import type { Hand, Template } from '../types.ts';
import { coarseCode, coarseProbes } from './coarse-code.ts';
import { Identifier, skipReport, type Skipped } from './identifier.ts';
import type { DecisionPolicy } from './decision.ts';
import type { ScreenPolicy } from './coarse-index.ts';

export { coarseCode } from './coarse-code.ts';
export { openSnapshot, sealSnapshot, SnapshotError, type SnapshotEntry } from './snapshot.ts';

/** Stage-2 candidates. 32 keeps stage 2 near 2 ms (≈ 60 µs per 1:1 match with shifts); see README for its cost in accuracy. */
export const DEFAULT_K = 32;
/** Distance the runner-up person must trail by. PROVISIONAL, like the recogniser's thresholds. */
export const DEFAULT_MARGIN = 0.02;

/** The 1:1 threshold and margin, tightened with the gallery's size to keep FPIR at TARGET_FPIR (decision.ts). */
export const DEFAULT_POLICY: DecisionPolicy = {
  threshold: DECISION_THRESHOLD,
  margin: DEFAULT_MARGIN,
  gallery: { impostorMean: IMPOSTOR_TAIL.mean, impostorTailSd: IMPOSTOR_TAIL.sd, targetFpir: TARGET_FPIR },
};

export interface PalmIdentifierOptions {
  k?: number;
  policy?: DecisionPolicy;
  initialCapacity?: number;
  screen?: ScreenPolicy;
  blockSlots?: number;
}

export function palmIdentifier(opts: PalmIdentifierOptions = {}): Identifier<Template> {
  return new Identifier<Template>({
    coarse: coarseCode,
    coarseProbes,
    fine: (probe, enrolled) => matchScore(probe, enrolled),
    k: opts.k ?? DEFAULT_K,
    policy: opts.policy ?? DEFAULT_POLICY,
    initialCapacity: opts.initialCapacity,
    screen: opts.screen,
    blockSlots: opts.blockSlots,
  });
}

/** One stored enrolment as the store hands it over (already opened from its secretbox). */
export interface StoredEnrolment {
  entryId: string;
  personId: string;
  bytes: Uint8Array;
}

export interface LoadReport {
  loaded: number;
  /** Rows whose template is corrupt or of an unknown version: not indexed, never matched. */
  skipped: Skipped[];
}

/** Decodes and enrols every row; a template that fails to decode is skipped and reported, never indexed. */
export function loadEnrolments(identifier: Pick<Identifier<Template>, 'enrol'>, rows: Iterable<StoredEnrolment>): LoadReport {
  const report: LoadReport = { loaded: 0, skipped: [] };
  for (const row of rows) {
    let template: Template;
    try {
      template = decodeTemplate(row.bytes);
    } catch (err) {
      report.skipped.push(skipReport(row.entryId, err));
      continue;
    }
    const hand: Hand = template.hand;
    identifier.enrol({ entryId: row.entryId, personId: row.personId, hand, template });
    report.loaded++;
  }
  return report;
}

/** A stored template opened only when stage 2 needs it (see snapshot.ts for why). */
export interface SealedTemplate {
  readonly kind: 'sealed';
  /** Opens and decodes; throws a typed error (TemplateCorruptError, …) if the stored bytes are bad. */
  open(): Template;
  /**
   * The template's update slots (template-update.ts), oldest first, opened; none when absent. Stage 2 scores them
   * under the rule's guard; stage 1 screens on the enrolled codes alone, which the guard makes sufficient (an update
   * only counts for a probe the originals nearly accept, and such a probe is near the enrolled coarse code).
   */
  updates?(): Template[];
}

export type PalmRef = Template | SealedTemplate;

function isSealed(t: PalmRef): t is SealedTemplate {
  return (t as SealedTemplate).kind === 'sealed';
}

/** The identifier over lazily opened templates: probes are plain templates, enrolments may be sealed references. */
export function lazyPalmIdentifier(opts: PalmIdentifierOptions = {}): Identifier<PalmRef> {
  const plain = (t: PalmRef) => (isSealed(t) ? t.open() : t);
  return new Identifier<PalmRef>({
    coarse: (t) => coarseCode(plain(t)),
    coarseProbes: (t) => coarseProbes(plain(t)),
    fine: (probe, enrolled) => stage2Score(plain(probe), enrolled),
    k: opts.k ?? DEFAULT_K,
    policy: opts.policy ?? DEFAULT_POLICY,
    initialCapacity: opts.initialCapacity,
    screen: opts.screen,
    blockSlots: opts.blockSlots,
  });
}

/**
 * Stage 2's distance to one enrolled entry: the enrolled template's, lowered by its update slots only under the
 * template-update guard (guardedScore), so an update never admits a probe the enrolment captures would reject.
 */
export function stage2Score(probe: Template, enrolled: PalmRef): number {
  if (!isSealed(enrolled)) return matchScore(probe, enrolled);
  const original = matchScore(probe, enrolled.open());
  if (!guardOpen(original)) return original; // the slots cannot count: not even opened
  const updates = enrolled.updates?.() ?? [];
  return updates.length ? guardedScore(original, matchScore(probe, fuseTemplates(updates))) : original;
}
