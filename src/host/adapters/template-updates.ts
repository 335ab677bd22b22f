// Template update at the counter (issue 19): after a confident 1:N match, the capture may join the matched template
// as an update slot. The rule is the recogniser's (src/biometrics/template-update.ts: anchored on the enrolment
// captures, confident, unambiguous, bounded); this applies it to the stored rows and keeps the result: the sealed
// slot (store migration 13), the signed `template_update` record in the journal/outbox and the capture queued for
// the centre (src/sync/captures.ts), in ONE transaction, so a slot never exists without the record that the
// centre re-checks, nor the other way round. The centre's decision comes back in the feed (`template_slots`),
// whose slots then replace this terminal's own for that template.
import { createHash, randomUUID } from 'node:crypto';
import { decodeTemplate, encodeTemplate, proposeTemplateUpdate, type Hand, type Template } from '../../biometrics/index.ts';
import type { Terminal } from '../../ledger/open.ts';
import type { SealedUpdateRow } from '../../store/templates.ts';
import { queueCapture } from '../../sync/captures.ts';

/** What the 1:N search knows about a confident match (PalmIdentifier.identify hands it over). */
export interface MatchForUpdate {
  personId: string;
  /** The matched index entry: a stored template id (entries of enrolments made here this session have none yet). */
  entryId: string;
  /** The capture that matched (one sub-code; its hand is the matched template's once it is admitted). */
  probe: Template;
  /** Distance to the nearest OTHER person in stage 2; null when the gallery holds nobody else. */
  nearestOther: number | null;
  /** Other people are enrolled, but none reached stage 2 (their distance is unknown: no update). */
  othersUnscored: boolean;
  /** The capture also passed the enrolment quality limits. */
  enrolQuality: boolean;
}

export type UpdateOutcome =
  | { applied: true; updateId: string; seq: number; replaces: number | null; anchorScore: number }
  | { applied: false; reason: 'not-stored' | 'provisional' | 'person-inactive' | 'no-operator' | 'others-unscored' | 'hand' | 'copy' | 'quality' | 'not-confident' | 'ambiguous' | 'full' };

export interface TemplateUpdaterDeps {
  terminal: Terminal;
  /** The signed-in operator who signs the record; null (locked, or this was the operator's own sign-in): no update. */
  operator: () => string | null;
  now?: () => number;
}

export class TemplateUpdater {
  private readonly now: () => number;
  constructor(private readonly deps: TemplateUpdaterDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Applies the rule to a confident match. The PIN path (pinScore) is not taken here: the match is decided before
   * any PIN, so the record says pinVerified: false and only the strong score admits a capture.
   */
  consider(m: MatchForUpdate): UpdateOutcome {
    const { store, keys, ledger } = this.deps.terminal;
    const row = store.templates.get(m.entryId);
    if (!row || row.personId !== m.personId) return { applied: false, reason: 'not-stored' };
    if (row.provisional) return { applied: false, reason: 'provisional' }; // not yet checked for duplicates by the centre
    if (store.people.get(m.personId)?.status !== 'active') return { applied: false, reason: 'person-inactive' };
    if (m.othersUnscored) return { applied: false, reason: 'others-unscored' };
    const operatorId = this.deps.operator();
    if (!operatorId) return { applied: false, reason: 'no-operator' };

    // Everything from the sealed rows, nothing from the index's memory: the rule judges what is stored.
    const enrolled = decodeTemplate(keys.sealer.open(row.sealed, row.templateId));
    const slots = store.templateUpdates.byTemplate(row.templateId);
    const rowOf = new Map<Template, SealedUpdateRow>();
    const updates = slots.map((s) => {
      const t = decodeTemplate(keys.sealer.open(s.sealed, s.updateId));
      rowOf.set(t, s);
      return t;
    });
    // The capture was read for identification (hand unknown): it is the hand whose template it matched.
    const capture: Template = { ...m.probe, hand: row.hand as Hand };
    const d = proposeTemplateUpdate({ enrolled, updates }, capture, { pinVerified: false, nearestOther: m.nearestOther, enrolQuality: m.enrolQuality });
    if (!d.ok) return { applied: false, reason: d.reason };

    const updateId = randomUUID();
    const bytes = encodeTemplate(capture);
    const captureDigest = createHash('sha256').update(bytes).digest('hex');
    const fresh: SealedUpdateRow = { updateId, templateId: row.templateId, personId: m.personId, sealed: keys.sealer.seal(bytes, updateId), digest: captureDigest, createdAtMs: this.now() };
    const next = d.next.updates.map((t) => (t === capture ? fresh : rowOf.get(t)!));
    const anchorScore = Math.round(d.anchorScore * 10_000);
    const rec = store.transaction(() => {
      store.templateUpdates.replace(row.templateId, next);
      // The capture goes to the centre after its record (src/sync/captures.ts), which re-decides the update.
      queueCapture(store, { updateId, sealed: Buffer.from(fresh.sealed).toString('base64') });
      return ledger.append({
        type: 'template_update', operatorId, updateId, personId: m.personId, hand: row.hand, enrolledDigest: row.digest, captureDigest,
        ...(d.replaces === null ? {} : { replaces: d.replaces }), anchorScore, pinVerified: false,
      });
    });
    return { applied: true, updateId, seq: rec.seq, replaces: d.replaces, anchorScore: d.anchorScore };
  }
}
