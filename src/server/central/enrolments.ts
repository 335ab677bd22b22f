// The enrolment registry: templates a terminal uploads for the enrolment record it signed (audited before they are
// believed: template-audit.ts), the 1:N duplicate check on this process's palm index (outside the write
// transaction, re-checked on commit), and the supervisor's settling of a possible duplicate.
import { DriverError } from '../../../drivers/errors.ts';
import { checkFeatureFor, featureFormat } from '../../../drivers/serial-module/feature-families.ts';
import { sha256Hex } from '../../protocol/crypto.ts';
import { enrolmentPinConfirmed } from '../customer-pins.ts';
import { decideEnrolment, decideFeatureEnrolment, type FeatureMatcher } from '../enrolment-check.ts';
import { ServerError } from '../errors.ts';
import { CentreIndex, entryCodes, linearDuplicate, type Duplicate } from '../palm-index.ts';
import type { RepoTx, TerminalRow } from '../repo.ts';
import type { CentreContext } from './context.ts';
import { allowanceBalances, type Feed } from './feed.ts';
import { account } from '../postings.ts';
import { sql } from '../sql.ts';
import { decodeTemplate } from '../../biometrics/template.ts';
import { auditEnrolmentTemplates, CENTRE_TEMPLATE_LIMITS, type TemplateAuditRefusal } from '../../biometrics/template-audit.ts';
import { decideTemplateCapture, getTemplateUpdate, type CaptureOutcome } from '../template-slots.ts';

/** The centre's matcher for a module family's features (its host matcher, feature-families.ts), or null: none known. */
function featureMatcher(ctx: CentreContext, family: string): FeatureMatcher | null {
  const match = featureFormat(family)?.match;
  return match ? { family, open: (personId, sealed) => ctx.openModuleFeature(personId, family, sealed), match } : null;
}

export class Enrolments {
  /** This process's 1:N index of everyone enrolled (palm-index.ts), kept current by polling the change log. */
  readonly palmIndex: CentreIndex;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: CentreContext, private readonly feed: Feed) {
    this.palmIndex = new CentreIndex(ctx.repo, ctx.openStored);
  }

  /**
   * Loads the palm index from its snapshot and keeps following the change log every `pollMs` (default 1 s), so
   * every process sees every enrolment; a duplicate check also catches up first. Resolves once loaded.
   */
  async startIndex(pollMs = 1000): Promise<void> {
    await this.palmIndex.catchUp();
    this.poller ??= setInterval(() => void this.palmIndex.catchUp().catch(() => undefined), pollMs).unref();
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await this.palmIndex.idle(); // not while a page of the change log is being read
  }

  /** A person confirmed: sent to their region, with the PIN they chose while enrolling (customer-pins.ts). */
  private async publishConfirmed(r: RepoTx, region: string, personId: string, accountId: string | null): Promise<void> {
    await this.feed.publishPerson(r, region, personId, accountId);
    await enrolmentPinConfirmed(r, personId, this.ctx.now());
  }

  /**
   * Terminal: the templates of an enrolment it uploaded; each must hash to the digest its signed record pinned, and
   * then pass the centre's own audit (template-audit.ts): a terminal signs whatever it likes, so what the bytes show
   * (they decode, the centre's coder, one palm per hand, live captures, not copies) is re-checked before the 1:N
   * check and every counter's matcher rely on them. A refusal stores nothing (the person stays provisional, never
   * payable) and puts the enrolment in the review queue with its reason, once however often it is sent; the terminal
   * gets 422 with the audit's code.
   */
  async uploadTemplates(terminal: TerminalRow, personId: string, templatesB64: string[], moduleFeature?: { family: string; feature: string }): Promise<{ status: string; duplicateOf?: string }> {
    const { repo, now } = this.ctx;
    const bytes = templatesB64.map((t) => Buffer.from(t, 'base64'));
    // Pure and bounded (two templates of at most MAX_CODES captures get that far): outside the transaction, as the
    // 1:N check is; its verdict counts only once the digests show the bytes are the ones the record pinned.
    const audit = auditEnrolmentTemplates(bytes, this.ctx.opts.templateLimits ?? CENTRE_TEMPLATE_LIMITS);
    let pinnedFamily: string | null = null; // the module feature's, when the record pins one (its duplicate check too)
    const stored = await repo.tx(async (r): Promise<boolean | { featureOnly: string } | TemplateAuditRefusal> => {
      const p = await r.getPerson(personId);
      if (!p) throw new ServerError('PERSON_UNKNOWN', `no enrolment record for person ${personId} yet: upload the record first`, 409);
      if (p.terminal_id !== terminal.id) throw new ServerError('PERSON_NOT_YOURS', `person ${personId} was enrolled by another terminal`, 403);
      const digests = JSON.parse(p.digests) as string[];
      const got = bytes.map((b) => sha256Hex(b));
      if (got.length !== digests.length || got.some((d, i) => d !== digests[i])) {
        throw new ServerError('TEMPLATE_DIGEST_MISMATCH', 'templates do not match the digests in the signed enrolment record', 422);
      }
      const feature = await this.checkModuleFeature(r, p, moduleFeature);
      pinnedFamily = feature?.family ?? null;
      if (bytes.length === 0) {
        // Template-less (a module that gives no image): the feature is the palm. Ingest let in only a family with a
        // host matcher (invariants.ts checkEnrolment); stored once, then decided below (again, if a reply was lost).
        if (!feature || !featureMatcher(this.ctx, feature.family)) throw new ServerError('ENROLMENT_WITHOUT_PALM', `the enrolment of ${personId} pins no templates and no palm module feature the centre can match`, 422);
        if (!(await r.moduleFeatureOf(personId, feature.family))) await this.storeModuleFeature(r, personId, feature);
        return { featureOnly: feature.family };
      }
      if (p.templates !== null) return false;
      if (!audit.ok) {
        // Committed, unlike a thrown refusal: a supervisor must see it (a faulty or malicious counter), once.
        const reason = `${audit.refusal.code}: ${audit.refusal.message} (person ${personId} stays provisional, without templates)`;
        const seen = (await r.reviewsOf(p.terminal_id, 'enrolment')).some((x) => Number(x.seq) === Number(p.seq) && x.reason === reason);
        if (!seen) await r.addReview({ terminalId: p.terminal_id, seq: Number(p.seq), kind: 'enrolment', reason, at: now() });
        return audit.refusal;
      }
      await r.setPersonTemplates(personId, this.ctx.seal(personId, bytes), now(), entryCodes(bytes));
      if (feature) await this.storeModuleFeature(r, personId, feature);
      return true;
    });
    if (typeof stored === 'object' && 'code' in stored) throw new ServerError(stored.code, stored.message, 422);
    if (typeof stored === 'object') {
      // The feature's 1:N check is a linear scan inside the decision's transaction (enrolment-check.ts).
      const outcome = await repo.tx((r) => decideFeatureEnrolment(r, personId, featureMatcher(this.ctx, stored.featureOnly)!, now(), (region, id, accountId) => this.publishConfirmed(r, region, id, accountId)));
      if (outcome.kind === 'confirmed') await this.publishAllowanceOf(personId);
    } else if (stored) {
      // The 1:N check outside any transaction, on this process's index; then the decision, with its re-check on commit.
      await this.palmIndex.catchUp();
      const since = this.palmIndex.position;
      const found = await this.palmIndex.findDuplicate(personId, bytes);
      const byFeature = pinnedFamily === null ? undefined : (featureMatcher(this.ctx, pinnedFamily) ?? undefined);
      const outcome = await repo.tx((r) => decideEnrolment(r, personId, found, since, now(), (region, id, accountId) => this.publishConfirmed(r, region, id, accountId), this.ctx.openStored, byFeature));
      if (outcome.kind === 'confirmed') await this.publishAllowanceOf(personId);
    }
    const after = (await repo.read((r) => r.getPerson(personId)))!;
    return after.duplicate_of ? { status: after.status, duplicateOf: after.duplicate_of } : { status: after.status };
  }

  private async storeModuleFeature(r: RepoTx, personId: string, feature: { family: string; digest: string; blob: Buffer }): Promise<void> {
    await r.conn.run(sql`INSERT INTO person_module_features (person_id, family, digest, sealed, created_at)
      VALUES (${personId}, ${feature.family}, ${feature.digest}, ${this.ctx.sealModuleFeature(personId, feature.family, feature.blob)}, ${this.ctx.now()})`);
  }

  /**
   * The palm module feature sent with an enrolment's templates (issue 14 §2), checked against what the signed record
   * pinned: both or neither (an old terminal pins none and sends none), the same family, the bytes hashing to the
   * pinned digest, and a blob a module of that family can take (feature-families.ts checkFeatureFor, the rule the
   * terminals load by). Any refusal is thrown, so nothing of the upload is stored.
   */
  private async checkModuleFeature(r: RepoTx, p: { terminal_id: string; seq: number | string }, sent: { family: string; feature: string } | undefined): Promise<{ family: string; digest: string; blob: Buffer } | null> {
    const record = await r.getRecord(p.terminal_id, Number(p.seq));
    const pinned = record ? (JSON.parse(record.body) as { moduleFeature?: { family: string; digest: string } }).moduleFeature : undefined;
    if (!pinned && !sent) return null;
    if (!pinned) throw new ServerError('MODULE_FEATURE_UNPINNED', 'a module feature was sent for an enrolment whose signed record pins none', 422);
    if (!sent) throw new ServerError('MODULE_FEATURE_MISSING', `the signed enrolment record pins a ${pinned.family} module feature, and none was sent`, 422);
    const blob = Buffer.from(sent.feature, 'base64');
    try {
      checkFeatureFor(pinned.family, sent.family, blob);
    } catch (err) {
      if (err instanceof DriverError) throw new ServerError(err.code, err.message, 422);
      throw err;
    }
    if (sha256Hex(blob) !== pinned.digest) throw new ServerError('MODULE_FEATURE_DIGEST_MISMATCH', 'the module feature does not match the digest in the signed enrolment record', 422);
    return { family: pinned.family, digest: pinned.digest, blob };
  }

  /**
   * Terminal: the capture of a template update it signed (issue 19). It must hash to the digest the signed record
   * pinned; then the rule is re-run on the centre's copies (template-slots.ts), with the distance to the nearest
   * other person from this process's palm index, searched outside any transaction. Idempotent: once decided, the
   * same answer again and nothing more changes. Another terminal's update id answers as unknown.
   */
  async uploadTemplateCapture(terminal: TerminalRow, updateId: string, captureB64: string): Promise<CaptureOutcome> {
    const { repo, now } = this.ctx;
    const u = await repo.tx((r) => getTemplateUpdate(r.conn, updateId));
    if (!u || u.terminal_id !== terminal.id) throw new ServerError('TEMPLATE_UPDATE_UNKNOWN', `no template update ${updateId} from this terminal: upload its record first`, 409);
    if (u.status === 'applied') return { status: 'applied', replaced: [] };
    if (u.status === 'refused') return { status: 'refused', reason: u.reason ?? '' };
    const bytes = Buffer.from(captureB64, 'base64');
    if (sha256Hex(bytes) !== u.capture_digest) throw new ServerError('TEMPLATE_DIGEST_MISMATCH', 'the capture does not match the digest in the signed template_update record', 422);
    let nearest: number | null = null;
    try {
      await this.palmIndex.catchUp();
      nearest = (await this.palmIndex.nearestOther(u.person_id, decodeTemplate(bytes)))?.score ?? null;
    } catch {
      nearest = null; // an undecodable capture: the decision below refuses it as malformed
    }
    const keys = { openStored: this.ctx.openStored, openSlot: (p: string, id: string, s: string) => this.ctx.openSlot(p, id, s), sealSlot: (p: string, id: string, c: Uint8Array) => this.ctx.sealSlot(p, id, c) };
    return repo.tx((r) => decideTemplateCapture(r, keys, updateId, bytes, nearest, now()));
  }

  /**
   * Admin (the demo's centre seed): the templates of a person the centre already holds as confirmed without any
   * (enrolled at a counter before the centre existed), stored sealed with their digests and stage-1 codes, so the
   * centre can judge that person's template updates. No duplicate check and nothing published: the counter that
   * enrolled them already holds these palms.
   */
  async adoptTemplates(personId: string, templatesB64: string[]): Promise<void> {
    const bytes = templatesB64.map((t) => Buffer.from(t, 'base64'));
    await this.ctx.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      if (!p || p.status !== 'confirmed' || p.templates !== null) throw new ServerError('PERSON_UNKNOWN', `person ${personId} is not a confirmed person without templates`, 409);
      await r.conn.run(sql`UPDATE persons SET digests = ${JSON.stringify(bytes.map((b) => sha256Hex(b)))} WHERE id = ${personId}`);
      await r.setPersonTemplates(personId, this.ctx.seal(personId, bytes), this.ctx.now(), entryCodes(bytes));
    });
  }

  /** The linear scan the index replaced (palm-index.ts linearDuplicate): the reference and the bench's peer. */
  linearCheck(personId: string, templatesB64: string[]): Promise<Duplicate | undefined> {
    return this.ctx.repo.tx((r) => linearDuplicate(r, this.ctx.openStored, personId, templatesB64.map((t) => Buffer.from(t, 'base64'))));
  }

  /**
   * Called for an enrolment record as it is stored. Its templates come later (uploadTemplates runs the check), so
   * this finds none and returns; were they already there, the decision re-checks every stored person (since -1).
   */
  async onEnrolmentRecord(r: RepoTx, personId: string): Promise<void> {
    const p = await r.getPerson(personId);
    if (!p || p.status !== 'provisional' || p.templates === null) return;
    const outcome = await decideEnrolment(r, personId, undefined, -1, this.ctx.now(), (region, id, accountId) => this.publishConfirmed(r, region, id, accountId), this.ctx.openStored);
    if (outcome.kind === 'confirmed') await this.feed.publishAllowances(r, new Set([p.account_id ?? p.id]));
  }

  /**
   * A person just confirmed: their account's allowance goes to their region (allowances go only where someone on
   * the account is enrolled). Its own transaction, balances locked first as every batch does (lock-plan.ts).
   */
  private async publishAllowanceOf(personId: string): Promise<void> {
    await this.ctx.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      if (!p || p.status !== 'confirmed') return;
      const accountId = p.account_id ?? p.id;
      await r.lockBalances(allowanceBalances([{ account: account.customer(accountId) }]));
      await this.feed.publishAllowances(r, new Set([accountId]));
    });
  }

  /** Supervisor: settles a possible duplicate (confirm as a distinct person, or revoke). */
  async settle(personId: string, decision: 'confirm' | 'revoke'): Promise<void> {
    await this.ctx.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      if (!p) throw new ServerError('PERSON_UNKNOWN', `person ${personId} is unknown`, 404);
      const now = this.ctx.now();
      // A revocation is final: confirming it again would bring back a palm the supervisor (or a duplicate finding)
      // took out of every gallery. A provisional person has not been through the duplicate check, which a
      // supervisor's confirm must not skip. Confirming twice, or revoking twice, changes nothing.
      if (p.status === 'revoked') {
        if (decision === 'revoke') return;
        throw new ServerError('PERSON_REVOKED', `person ${personId} is revoked; enrol them again to bring them back`, 409);
      }
      if (decision === 'confirm' && p.status === 'confirmed') return;
      if (decision === 'confirm' && p.status !== 'duplicate_review') {
        throw new ServerError('PERSON_NOT_IN_REVIEW', `person ${personId} is ${p.status}: only a possible duplicate is confirmed by a supervisor; the centre's duplicate check confirms the others`, 409);
      }
      if (decision === 'confirm') {
        await r.setPersonStatus(personId, 'confirmed', null, now);
        await r.appendFeed(`region:${p.region}`, 'person', personId, { personId, accountId: p.account_id }, now);
        await enrolmentPinConfirmed(r, personId, now);
        await r.lockBalances(allowanceBalances([{ account: account.customer(p.account_id ?? p.id) }]));
        await this.feed.publishAllowances(r, new Set([p.account_id ?? p.id]));
      } else {
        await r.setPersonStatus(personId, 'revoked', p.duplicate_of, now);
        await r.appendFeed('all', 'person_revoked', personId, { personId }, now);
      }
    });
  }
}
