// The decision on a new enrolment, taken in one short transaction after the 1:N check ran outside it (on the
// in-memory index, palm-index.ts). The re-check on commit: with the person's row locked, every person stored or
// changed since the position the index had reached is matched too, so an enrolment of the same palm that another
// server process stored meanwhile is not missed. If that other enrolment is itself still undecided, the two raced:
// both go to review. Why two enrolments of one palm are never both confirmed: each decision's re-check reads after
// its own templates were committed, so of two racing enrolments the later reader sees the other's stored row
// (provisional: both to review; already confirmed, after waiting on its row lock: held as its duplicate), whatever
// its index had reached. Runs inside the caller's transaction.
import { bestMatch, dedupProbes, GALLERY_STATUSES, type Duplicate, type OpenTemplates } from './palm-index.ts';
import type { RepoTx } from './repo.ts';
import { FOR_UPDATE, list, sql, type SqlConn } from './sql.ts';

export type EnrolmentOutcome = { kind: 'skipped' } | { kind: 'confirmed' } | { kind: 'duplicate'; duplicateOf: string; race: boolean };

/** Persons stored or changed after `since` (or not yet given a position), except `excludeId`. */
async function changedSince(c: SqlConn, excludeId: string, since: number): Promise<Array<{ id: string; templates: Uint8Array; digests: string }>> {
  return c.all(sql`SELECT id, templates, digests FROM persons
    WHERE id <> ${excludeId} AND templates IS NOT NULL AND status IN (${list([...GALLERY_STATUSES])}) AND (change_pos IS NULL OR change_pos > ${since})`);
}

/**
 * Confirms the provisional person, or flags it (and a racing undecided twin) for review.
 * `found` is what the index check found; `since` the index position it had reached.
 */
export async function decideEnrolment(
  r: RepoTx,
  personId: string,
  found: Duplicate | undefined,
  since: number,
  now: number,
  publishPerson: (region: string, personId: string, accountId: string | null) => Promise<void>,
  open: OpenTemplates,
  feature?: FeatureMatcher,
): Promise<EnrolmentOutcome> {
  const c = r.conn;
  const me = await c.get<{ status: string; templates: Uint8Array | null; digests: string; region: string; account_id: string | null; terminal_id: string; seq: number }>(
    sql`SELECT status, templates, digests, region, account_id, terminal_id, seq FROM persons WHERE id = ${personId}${FOR_UPDATE}`,
  );
  if (!me || me.status !== 'provisional' || me.templates === null) return { kind: 'skipped' };
  const mine = open(personId, me.templates);
  const myDigests = new Set(JSON.parse(me.digests) as string[]);
  // The re-check on commit: whatever the index could not have seen yet.
  const delta = await changedSince(c, personId, since);
  let dup: Duplicate | undefined;
  const exact = delta.find((d) => (JSON.parse(d.digests) as string[]).some((x) => myDigests.has(x)));
  if (exact) dup = { personId: exact.id, score: 0 };
  const probes = dedupProbes(mine);
  if (!dup && probes) dup = bestMatch(probes, delta.map((d) => ({ id: d.id, templates: open(d.id, d.templates) })));
  if (!dup || (found && found.score < dup.score)) dup = found ?? dup;
  // The module feature the record pinned too (a module that gives an image and a feature): a palm enrolled
  // elsewhere by its feature alone has no templates to find above.
  const held = !dup && feature ? await r.moduleFeatureOf(personId, feature.family) : undefined;
  const byFeature = held && feature ? await featureDuplicate(c, personId, held.sealed, feature) : undefined;
  return settleEnrolment(r, personId, me, dup ? { personId: dup.personId, why: `distance ${dup.score.toFixed(3)}` } : byFeature, now, publishPerson);
}

type Undecided = { region: string; account_id: string | null; terminal_id: string; seq: number };

/**
 * The one rule both kinds of enrolment end in: no possible duplicate (or it is no longer in the gallery) → confirmed
 * and published; else held for review, and a twin still undecided (the two raced) held with it. The person's row is
 * locked by the caller.
 */
async function settleEnrolment(
  r: RepoTx,
  personId: string,
  me: Undecided,
  found: { personId: string; why: string } | undefined,
  now: number,
  publishPerson: (region: string, personId: string, accountId: string | null) => Promise<void>,
): Promise<EnrolmentOutcome> {
  const c = r.conn;
  let dup = found;
  let other: { status: string } | undefined;
  if (dup) {
    // The one found by the index may have been revoked since; and a twin still undecided has raced with us.
    other = await c.get<{ status: string }>(sql`SELECT status FROM persons WHERE id = ${dup.personId}${FOR_UPDATE}`);
    if (!other || !(GALLERY_STATUSES as readonly string[]).includes(other.status)) dup = undefined;
  }
  if (!dup) {
    await r.setPersonStatus(personId, 'confirmed', null, now);
    await publishPerson(me.region, personId, me.account_id);
    return { kind: 'confirmed' };
  }
  await r.setPersonStatus(personId, 'duplicate_review', dup.personId, now);
  await r.addReview({ terminalId: me.terminal_id, seq: Number(me.seq), kind: 'enrolment', reason: `possible duplicate of person ${dup.personId} (${dup.why})`, at: now });
  const race = other?.status === 'provisional';
  if (race) {
    const twin = (await r.getPerson(dup.personId))!;
    await r.setPersonStatus(dup.personId, 'duplicate_review', personId, now);
    await r.addReview({ terminalId: twin.terminal_id, seq: Number(twin.seq), kind: 'enrolment', reason: `possible duplicate of person ${personId}, enrolled at the same time (${dup.why})`, at: now });
  }
  return { kind: 'duplicate', duplicateOf: dup.personId, race };
}

/** How the centre opens and compares the module features of one family (its host matcher, feature-families.ts). */
export interface FeatureMatcher {
  family: string;
  open(personId: string, sealed: string): Uint8Array;
  match(capture: Uint8Array, stored: Uint8Array): boolean;
}

/**
 * The decision on a template-less enrolment (a palm module that gives no image, issue 14 §2): the person's module
 * feature against every stored feature of the same family whose person is in the gallery (people enrolled by
 * feature alone, and people enrolled with templates on a module that gave its feature too), by the family's host
 * matcher. A linear scan inside this transaction, with the person's row locked: it reads every feature committed
 * before it, including one another process stored a moment ago, so it is its own re-check on commit (two racing
 * enrolments of one palm: the later reader sees the other's row). Linear on purpose for now: a family's features are
 * few next to the templates; an index per family is the next step if they grow.
 */
export async function decideFeatureEnrolment(
  r: RepoTx,
  personId: string,
  matcher: FeatureMatcher,
  now: number,
  publishPerson: (region: string, personId: string, accountId: string | null) => Promise<void>,
): Promise<EnrolmentOutcome> {
  const c = r.conn;
  const me = await c.get<Undecided & { status: string; templates: Uint8Array | null }>(
    sql`SELECT status, templates, region, account_id, terminal_id, seq FROM persons WHERE id = ${personId}${FOR_UPDATE}`,
  );
  if (!me || me.status !== 'provisional' || me.templates !== null) return { kind: 'skipped' };
  const mine = await r.moduleFeatureOf(personId, matcher.family);
  if (!mine) return { kind: 'skipped' };
  return settleEnrolment(r, personId, me, await featureDuplicate(c, personId, mine.sealed, matcher), now, publishPerson);
}

/** The first person in the gallery whose stored feature of the family matches this person's (linear, see above). */
async function featureDuplicate(c: SqlConn, personId: string, sealed: string, matcher: FeatureMatcher): Promise<{ personId: string; why: string } | undefined> {
  const probe = matcher.open(personId, sealed);
  const others = await c.all<{ person_id: string; sealed: string }>(sql`SELECT f.person_id, f.sealed FROM person_module_features f JOIN persons p ON p.id = f.person_id
    WHERE f.family = ${matcher.family} AND f.person_id <> ${personId} AND p.status IN (${list([...GALLERY_STATUSES])}) ORDER BY f.person_id`);
  const hit = others.find((o) => matcher.match(probe, matcher.open(o.person_id, o.sealed)));
  return hit && { personId: hit.person_id, why: `the ${matcher.family} module feature matches` };
}
