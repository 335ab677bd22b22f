// The templates of this counter's enrolments, sent to the centre (`PUT /v1/enrolments/:person/templates`) once the
// signed enrolment record has left the outbox. Without them the centre cannot run its duplicate check, so the
// person stays provisional there: never confirmed, never payable, and a PIN chosen at enrolment never takes
// effect. Each template must hash to the digest the signed record pinned (the centre re-checks); they travel in the
// request signed with the terminal key, opened from the seal they are kept under only for the call.
import type { Sealer } from '../ledger/sealer.ts';
import type { EnrolmentBody } from '../protocol/record.ts';
import { moduleFeatureBinding } from '../store/module-features.ts';
import type { Store } from '../store/store.ts';
import { CentreRefusal, type CentreClient } from './client.ts';

/** Settings key marking a person whose templates the centre has answered for (sent, or refused for good). */
const sentKey = (personId: string) => `enrolmentTemplatesSent:${personId}`;

/** Enrolments signed here whose record the centre has taken (no longer in the outbox) and whose templates are not yet sent. */
function pendingEnrolments(store: Store): EnrolmentBody[] {
  const rows = store.db
    .prepare(
      `SELECT j.body FROM journal j JOIN people p ON p.person_id = j.party_id
       WHERE j.type = 'enrolment' AND p.status = 'provisional' AND j.seq NOT IN (SELECT seq FROM outbox) ORDER BY j.seq`,
    )
    .pluck()
    .all() as string[];
  return rows.map((b) => JSON.parse(b) as EnrolmentBody).filter((b) => store.settings.get<boolean>(sentKey(b.personId)) !== true);
}

/**
 * Sends the templates of every pending enrolment; returns how many the centre answered for. A lost link (LinkError)
 * stops the round: it is tried again at the next one. A refusal (e.g. the record went to review) is final.
 */
export async function uploadEnrolmentTemplates(o: { store: Store; client: Pick<CentreClient, 'uploadTemplates'>; sealer: Sealer }): Promise<number> {
  let answered = 0;
  for (const rec of pendingEnrolments(o.store)) {
    const rows = o.store.templates.byPerson(rec.personId);
    // In the order the record pinned them: the centre checks each against its digest.
    const inOrder = rec.templateDigests.map((d) => rows.find((r) => r.digest === d));
    if (inOrder.some((r) => r === undefined)) continue; // not all kept here (deleted since): nothing to prove them with
    const b64 = inOrder.map((r) => Buffer.from(o.sealer.open(r!.sealed, r!.templateId)).toString('base64'));
    // The palm module's feature the record pinned travels with them (the centre checks it against the pin).
    let moduleFeature: { family: string; feature: string } | undefined;
    if (rec.moduleFeature) {
      const row = o.store.moduleFeatures.get(rec.personId, rec.moduleFeature.family);
      if (!row || row.digest !== rec.moduleFeature.digest) continue; // not kept here (deleted since): nothing to prove it with
      moduleFeature = { family: row.family, feature: Buffer.from(o.sealer.open(row.sealed, moduleFeatureBinding(row.personId, row.family))).toString('base64') };
    }
    try {
      await o.client.uploadTemplates(rec.personId, b64, moduleFeature);
    } catch (err) {
      if (!(err instanceof CentreRefusal)) throw err;
    }
    o.store.settings.set(sentKey(rec.personId), true);
    answered++;
  }
  return answered;
}
