// Template updates at the centre (issue 19; centre migration 13). A counter signs a `template_update` record after
// a confident match and later uploads the capture it pins. The record's checkable claims are rule 12 at ingest
// (invariants.ts checkTemplateUpdate); here, once the capture arrives, the centre re-runs the recogniser's own rule
// (src/biometrics/template-update.ts) on ITS copies: the enrolment captures it holds, the slots it admitted before,
// and the distance to the nearest other enrolled person from its palm index (every region, not only the
// counter's). An admitted capture becomes a slot, sealed at rest; the template's slots go to the region's terminals
// in the signed feed (`template_slots`). Nothing the terminal claims about scores or slots is believed.
import { captureCodeRefusal, proposeTemplateUpdate, type UpdateRefusal } from '../biometrics/template-update.ts';
import { decodeTemplate } from '../biometrics/template.ts';
import type { Template } from '../biometrics/types.ts';
import type { TemplateUpdateBody } from '../protocol/record.ts';
import type { RefusalCode } from './invariants.ts';
import type { PersonRow, RepoTx } from './repo.ts';
import type { OpenTemplates } from './palm-index.ts';
import { ADVISORY_LOCK, FOR_UPDATE, lockNames, sql, type SqlConn } from './sql.ts';

/** The feed event kind carrying one enrolled template's update slots to its region's terminals. */
export const TEMPLATE_SLOTS_FEED = 'template_slots';

export type TemplateUpdateStatus = 'awaiting-capture' | 'applied' | 'refused';

export interface TemplateUpdateRow {
  update_id: string;
  terminal_id: string;
  seq: number;
  person_id: string;
  enrolled_digest: string;
  capture_digest: string;
  pin_verified: number | string | boolean;
  status: TemplateUpdateStatus;
  reason: string | null;
  received_at: number;
  decided_at: number | null;
}

export interface SlotRow {
  update_id: string;
  person_id: string;
  enrolled_digest: string;
  ord: number;
  sealed: string;
  digest: string;
  created_at: number;
}

/** Whether this update id, or this capture, was recorded before (checkTemplateUpdate refuses a replay). */
/**
 * Serialises the uploads that offer these captures (lock-plan.ts capturesOffered): each then finds the update the
 * other committed (templateUpdatePrior) and sends its own to review as a replay, instead of both finding the capture
 * unused and the second breaking on the unique index, failing its whole batch.
 */
export function lockCaptures(c: SqlConn, captureDigests: readonly string[]): Promise<void> {
  return lockNames(c, ADVISORY_LOCK.capture, captureDigests);
}

export async function templateUpdatePrior(c: SqlConn, rec: Pick<TemplateUpdateBody, 'updateId' | 'captureDigest'>): Promise<{ updateIdTaken: boolean; captureUsed: boolean }> {
  const rows = await c.all<{ update_id: string; capture_digest: string }>(
    sql`SELECT update_id, capture_digest FROM template_updates WHERE update_id = ${rec.updateId} OR capture_digest = ${rec.captureDigest}`,
  );
  return { updateIdTaken: rows.some((r) => r.update_id === rec.updateId), captureUsed: rows.some((r) => r.capture_digest === rec.captureDigest) };
}

/**
 * A record that passed rule 12: kept, waiting for its capture; or refused by it (`refusal`, the review reason):
 * kept refused, so its capture, when the counter sends it, is answered with that reason and judged no further.
 */
export async function recordTemplateUpdate(r: RepoTx, rec: TemplateUpdateBody, terminalId: string, now: number, refusal?: string): Promise<void> {
  const status: TemplateUpdateStatus = refusal ? 'refused' : 'awaiting-capture';
  await r.conn.run(sql`INSERT INTO template_updates (update_id, terminal_id, seq, person_id, enrolled_digest, capture_digest, pin_verified, status, reason, received_at, decided_at)
    VALUES (${rec.updateId}, ${terminalId}, ${rec.seq}, ${rec.personId}, ${rec.enrolledDigest}, ${rec.captureDigest}, ${rec.pinVerified ? 1 : 0}, ${status}, ${refusal ?? null}, ${now}, ${refusal ? now : null})`);
}

export function getTemplateUpdate(c: SqlConn, updateId: string, lock = false): Promise<TemplateUpdateRow | undefined> {
  return lock
    ? c.get<TemplateUpdateRow>(sql`SELECT * FROM template_updates WHERE update_id = ${updateId}${FOR_UPDATE}`)
    : c.get<TemplateUpdateRow>(sql`SELECT * FROM template_updates WHERE update_id = ${updateId}`);
}

/** One enrolled template's slots, oldest first (the order the rule's `updates` takes). */
export function slotsOf(c: SqlConn, personId: string, enrolledDigest: string): Promise<SlotRow[]> {
  return c.all<SlotRow>(sql`SELECT * FROM template_slots WHERE person_id = ${personId} AND enrolled_digest = ${enrolledDigest} ORDER BY ord`);
}

/** The typed review reason of each refusal of the rule. */
const REFUSAL_CODES: Record<UpdateRefusal | 'person' | 'template' | 'malformed', RefusalCode> = {
  hand: 'TEMPLATE_UPDATE_WRONG_HAND',
  copy: 'TEMPLATE_UPDATE_NOT_FRESH',
  quality: 'TEMPLATE_UPDATE_QUALITY',
  'not-confident': 'TEMPLATE_UPDATE_NOT_CONFIDENT',
  ambiguous: 'TEMPLATE_UPDATE_AMBIGUOUS',
  full: 'TEMPLATE_UPDATE_FULL',
  person: 'CUSTOMER_NOT_CONFIRMED',
  template: 'TEMPLATE_UPDATE_WRONG_TEMPLATE',
  malformed: 'TEMPLATE_UPDATE_MALFORMED',
};

export interface SlotKeys {
  openStored: OpenTemplates;
  openSlot: (personId: string, updateId: string, stored: string) => Buffer;
  sealSlot: (personId: string, updateId: string, capture: Uint8Array) => string;
}

export type CaptureOutcome = { status: 'applied'; replaced: string[] } | { status: 'refused'; reason: string } | { status: 'awaiting-capture' };

/**
 * Decides an update whose capture arrived (its digest already checked against the signed record), under the
 * person's row lock: the rule on the centre's copies, then the slot written (the oldest replaced beyond the rule's
 * bound) and the template's slots published, or the refusal kept with its reason and put in the review queue.
 * `nearestOther`: the capture's distance to the closest other enrolled person (palm-index.ts nearestOther), null
 * when nobody else is enrolled. Re-runnable (Repo.tx may retry it): it writes nothing outside the transaction.
 */
export async function decideTemplateCapture(
  r: RepoTx,
  keys: SlotKeys,
  updateId: string,
  captureBytes: Uint8Array,
  nearestOther: number | null,
  now: number,
): Promise<CaptureOutcome> {
  const u = await getTemplateUpdate(r.conn, updateId, true);
  if (!u) throw new Error(`template update ${updateId} vanished`); // the caller read it; rows are never deleted
  if (u.status !== 'awaiting-capture') return u.status === 'applied' ? { status: 'applied', replaced: [] } : { status: 'refused', reason: u.reason ?? '' };
  const p = await r.conn.get<PersonRow>(sql`SELECT * FROM persons WHERE id = ${u.person_id}${FOR_UPDATE}`);
  const refuse = async (why: keyof typeof REFUSAL_CODES, message: string): Promise<CaptureOutcome> => {
    const reason = `${REFUSAL_CODES[why]}: ${message}`;
    await r.conn.run(sql`UPDATE template_updates SET status = ${'refused'}, reason = ${reason}, decided_at = ${now} WHERE update_id = ${updateId}`);
    await r.addReview({ terminalId: u.terminal_id, seq: Number(u.seq), kind: 'template_update', reason, at: now });
    return { status: 'refused', reason };
  };
  if (!p || p.status !== 'confirmed' || p.templates === null) return refuse('person', `person ${u.person_id} is no longer confirmed`);
  const digests = JSON.parse(p.digests) as string[];
  const position = digests.indexOf(u.enrolled_digest);
  if (position < 0) return refuse('template', `template ${u.enrolled_digest.slice(0, 12)}… is not one ${u.person_id}'s enrolment pinned`);
  let enrolled: Template;
  let capture: Template;
  try {
    enrolled = decodeTemplate(keys.openStored(p.id, p.templates)[position]!);
    capture = decodeTemplate(captureBytes);
  } catch (err) {
    return refuse('malformed', `the capture or the enrolled template does not decode (${(err as Error).message})`);
  }
  const stored = await slotsOf(r.conn, p.id, u.enrolled_digest);
  const updates = stored.map((s) => decodeTemplate(keys.openSlot(p.id, s.update_id, s.sealed)));
  const codeRefusal = captureCodeRefusal(enrolled, capture);
  if (codeRefusal === 'hand') return refuse('hand', `the capture is not one sub-code of the enrolled ${enrolled.hand} hand`);
  const d = proposeTemplateUpdate({ enrolled, updates }, capture, { pinVerified: u.pin_verified === true || Number(u.pin_verified) === 1, nearestOther, enrolQuality: codeRefusal === null });
  if (!d.ok) {
    const detail =
      d.reason === 'ambiguous' ? `nearest other person at ${nearestOther?.toFixed(4)}, the enrolment at ${d.anchorScore.toFixed(4)}`
      : d.reason === 'copy' ? `a copy of a code the centre already holds for this hand, distance to the enrolment ${d.anchorScore.toFixed(4)}`
      : `distance to the enrolment ${d.anchorScore.toFixed(4)}`;
    return refuse(d.reason, `update ${updateId} of ${p.id} refused by the rule (${detail})`);
  }
  // The rule keeps the newest slots: everything before the kept ones goes (normally just the oldest).
  const kept = d.next.updates.length - 1;
  const replaced = stored.slice(0, stored.length - kept).map((s) => s.update_id);
  for (const id of replaced) await r.conn.run(sql`DELETE FROM template_slots WHERE update_id = ${id}`);
  const ord = (stored.length ? Number(stored[stored.length - 1]!.ord) : 0) + 1;
  await r.conn.run(sql`INSERT INTO template_slots (update_id, person_id, enrolled_digest, ord, sealed, digest, created_at)
    VALUES (${updateId}, ${p.id}, ${u.enrolled_digest}, ${ord}, ${keys.sealSlot(p.id, updateId, captureBytes)}, ${u.capture_digest}, ${now})`);
  await r.conn.run(sql`UPDATE template_updates SET status = ${'applied'}, decided_at = ${now} WHERE update_id = ${updateId}`);
  await r.appendFeed(`region:${p.region}`, TEMPLATE_SLOTS_FEED, `${p.id}#${position}`, { personId: p.id, enrolledDigest: u.enrolled_digest }, now);
  return { status: 'applied', replaced };
}
