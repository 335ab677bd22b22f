/**
 * Palm modules that match on their own (issue 14 §2): serial modules that verify a palm against their own user
 * table and give a feature, not an image. The host keeps the module's table equal to the store and turns a VERIFY
 * answer into a person, never trusting the module alone.
 *
 * Which modules: discovery (drivers/PROTOCOL.md) finds no image upload (neither PalmPay's CRC images nor the
 * family's) but palm feature transfer (0xF9/0xFA) — `matchesOnItsOwn`. Without images the terminal cannot run
 * its own recogniser; with feature transfer it can load people's features and check the module's verdicts.
 *
 * The table the module should hold: one user per active person in the store (the feed's people are this
 * terminal's region) with a module feature of this module's family (feature-families.ts: the first word of
 * GET_VERSION), user_name = a keyed pseudonym of the person id (never a name or the id itself: a stolen module
 * gives away neither), loaded by feature transfer (0xF9). `module_users` (store migration 15) records which user
 * id each person has on which module.
 *  - reconcile() (start-up): the module's table read (GET_ALL_USERID + GETUSERINFO), planned with planReconcile;
 *    every kept user's stored feature read back (0xFA) and compared with the store's digest, so a table edited with
 *    a screwdriver (a feature swapped under a pseudonym) is deleted and loaded again; orphans deleted; missing loaded.
 *  - sync() (after each feed page): from the store alone: users of people no longer wanted (revoked, blocked, their
 *    feature gone) deleted (DELUSER), wanted people not on the module loaded.
 *  - resyncAll(): DELALL, then every wanted person loaded.
 * Deletions go first (they free room). A full table (result 9) stops loading and is kept as the sync's problem
 * (MODULE_TABLE_FULL, in the report, the log and status()), never dropped silently; a feature of another family or
 * format is refused before anything is sent (MODULE_FEATURE_FOREIGN) and the person is listed as refused.
 *
 * identify(): VERIFY → (user_id, user_name) → the person this terminal loaded under that id and name, still
 * active → judgeVerdict with the capture's feature (0xFA) against that person's feature the host holds (where the
 * family's format has a matcher), or the person's PIN. A contradicted verdict is VERDICT_CONTRADICTED.
 *
 * Enrolment through the screens (template-less): captureFeature() per capture, duplicatesOf() for the local
 * duplicate check, enrolmentFeature() for the one feature the record pins (modulePalmPath wires them to the flows).
 */
import { createHash, createHmac } from 'node:crypto';
import type { ScannerClient } from '../../drivers/client/client.ts';
import { planReconcile } from '../../drivers/client/module-users.ts';
import type { ModuleCapabilities, ModuleUser } from '../../drivers/client/serial-driver.ts';
import { judgeVerdict } from '../../drivers/client/verdict.ts';
import { DriverError, isDriverError } from '../../drivers/errors.ts';
import { checkFeatureFor, familyOfVersion, featureFormat } from '../../drivers/serial-module/feature-families.ts';
import { LAST_SNAP_USER } from '../../drivers/serial-module/messages.ts';
import type { EnrolHand } from '../flows/enrolment.ts';
import type { Identifier, PalmRead, PalmReader } from '../flows/ports.ts';
import type { Sealer } from '../ledger/sealer.ts';
import { moduleFeatureBinding, type ModuleFeatureRow, type ModuleUserRow } from '../store/module-features.ts';
import type { Store } from '../store/store.ts';
import type { Sync } from '../sync/index.ts';
import { PalmPayError } from '../util/errors.ts';

/** A module the terminal cannot read images from, but can load features into and check verdicts with. */
export function matchesOnItsOwn(c: ModuleCapabilities): boolean {
  return c.featureTransfer && !c.crcImages && !c.familyImages;
}

/** A verdict the host refused or could not confirm; `personId` is whom the module claimed (for the PIN step). */
export class ModuleVerdictError extends PalmPayError {
  constructor(
    code: 'VERDICT_CONTRADICTED' | 'VERDICT_UNCONFIRMED' | 'MODULE_USER_UNKNOWN' | 'PERSON_NOT_ACTIVE',
    message: string,
    readonly personId: string | null = null,
  ) {
    super(code, message);
  }
}

/**
 * One enrolment capture on a module that gives no image (issue 14 §2): the module's feature of the palm laid, and
 * its family. What the flows hold in place of a template while enrolling on such a module (modulePalmPath).
 */
export class ModuleFeatureCapture {
  constructor(
    readonly family: string,
    readonly feature: Uint8Array,
  ) {}
}

/**
 * The one feature an enrolment on such a module pins (the record's `moduleFeature`): every capture of a hand must
 * agree with every other of that hand by the family's host matcher (a second palm slipped in between captures, or
 * a capture the module misread, is refused: MODULE_CAPTURES_DISAGREE), all of one family with a host matcher. The
 * first hand's first capture is kept: one feature per person and family is what the store, the centre, the feed and
 * the module's user table hold; the other hand's captures serve the duplicate checks.
 */
export function enrolmentFeature(captures: Record<EnrolHand, readonly ModuleFeatureCapture[]>): ModuleFeatureCapture {
  const all = [...captures.left, ...captures.right];
  const first = all[0];
  if (!first) throw new PalmPayError('ENROLMENT_WITHOUT_PALM', 'no capture of either hand: nothing to enrol');
  if (all.some((c) => c.family !== first.family)) throw new PalmPayError('MODULE_FEATURE_FOREIGN', 'the captures of one enrolment come from modules of different families');
  const match = featureFormat(first.family)?.match;
  if (!match) throw new PalmPayError('MODULE_FAMILY_UNMATCHED', `the ${first.family} family has no host matcher: the centre could not check this enrolment for duplicates`);
  for (const hand of ['left', 'right'] as const) {
    const list = captures[hand];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (!match(list[j]!.feature, list[i]!.feature)) throw new PalmPayError('MODULE_CAPTURES_DISAGREE', `captures ${i + 1} and ${j + 1} of the ${hand} hand are not the same palm by the ${first.family} matcher: enrol again`);
      }
    }
  }
  return first;
}

export interface ModuleSyncReport {
  moduleKey: string;
  family: string;
  /** People loaded into the module by feature (0xF9) in this run. */
  loaded: string[];
  /** Module user ids deleted (orphans, revoked or blocked people, features that did not match the store). */
  deleted: number[];
  /** People whose existing module user was kept (matched or adopted, feature checked). */
  kept: string[];
  /** People not loaded because their feature was refused (another family or format, or it did not unseal). */
  refused: Array<{ personId: string; code: string; message: string }>;
  /** The module's table is full: these people are not on it. */
  full: { error: DriverError; notLoaded: string[] } | null;
}

export interface ModuleIdentity {
  personId: string;
  userId: number;
  via: 'host_match' | 'pin';
}

export interface ModuleSyncOptions {
  client: ScannerClient;
  store: Store;
  sealer: Sealer;
  log: (line: string) => void;
  /** Told after each sync whose problem() may have changed (the status bar). */
  onProblem?: () => void;
}

interface Target {
  family: string;
  moduleKey: string;
}

interface Wanted {
  row: ModuleFeatureRow;
  name: string;
}

export class ModuleUserSync {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pseudonymKey: Uint8Array;
  private problemNow: { code: string; message: string } | null = null;

  constructor(private readonly o: ModuleSyncOptions) {
    this.pseudonymKey = o.sealer.deriveKey('palm module user pseudonyms');
  }

  /** The last sync's unresolved problem (a full table, a refused feature, a module that could not be reached), for the status bar. */
  problem(): { code: string; message: string } | null {
    return this.problemNow;
  }

  /** The pseudonymous id a person has on modules of this terminal: keyed, so it links to nobody without the data key. */
  pseudonymOf(personId: string): string {
    return `pp.${createHmac('sha256', this.pseudonymKey).update(personId).digest('hex').slice(0, 24)}`;
  }

  /** One module operation at a time (the client refuses a second call with SCANNER_BUSY). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async target(): Promise<Target> {
    const caps = await this.o.client.capabilities();
    if (!matchesOnItsOwn(caps)) throw new DriverError('CAPABILITY_MISSING', 'this module gives images (the terminal matches palms itself) or has no feature transfer: there is no user table to keep');
    const family = familyOfVersion(caps.version);
    return { family, moduleKey: `${family}/${caps.info?.moduleId ?? caps.version.trim()}` };
  }

  private wanted(t: Target): Wanted[] {
    return this.o.store.moduleFeatures.activeOf(t.family).map((row) => ({ row, name: this.pseudonymOf(row.personId) }));
  }

  private openFeature(row: ModuleFeatureRow): Uint8Array {
    const plain = this.o.sealer.open(row.sealed, moduleFeatureBinding(row.personId, row.family));
    if (sha256(plain) !== row.digest) throw new PalmPayError('MODULE_FEATURE_DIGEST', `the module feature of ${row.personId} does not match its digest`);
    return plain;
  }

  private report(t: Target): ModuleSyncReport {
    return { moduleKey: t.moduleKey, family: t.family, loaded: [], deleted: [], kept: [], refused: [], full: null };
  }

  /** Deletes a module user (already gone counts as done) and forgets it. */
  private async remove(t: Target, userId: number, r: ModuleSyncReport): Promise<void> {
    await this.o.client.deleteUser(userId).catch((err: unknown) => {
      if (!isDriverError(err, 'MODULE_UNKNOWN_USER')) throw err;
    });
    this.o.store.moduleFeatures.deleteUser(t.moduleKey, userId);
    r.deleted.push(userId);
  }

  /** Loads each person by feature at free ids; stops at a full table (the rest listed as not loaded). */
  private async load(t: Target, people: Wanted[], taken: Set<number>, r: ModuleSyncReport): Promise<void> {
    let next = 1;
    for (let i = 0; i < people.length; i++) {
      const w = people[i]!;
      let feature: Uint8Array;
      try {
        feature = this.openFeature(w.row);
        checkFeatureFor(t.family, w.row.family, feature); // before anything is sent
      } catch (err) {
        const e = err as { code?: string; message?: string };
        r.refused.push({ personId: w.row.personId, code: e.code ?? 'UNKNOWN', message: e.message ?? String(err) });
        continue;
      }
      while (taken.has(next)) next++;
      if (next > 0xfffe) {
        r.full = { error: new DriverError('MODULE_TABLE_FULL', 'no module user id left'), notLoaded: people.slice(i).map((p) => p.row.personId) };
        return;
      }
      try {
        await this.o.client.putFeature(next, w.name, feature);
      } catch (err) {
        if (isDriverError(err, 'MODULE_TABLE_FULL')) {
          r.full = { error: err, notLoaded: people.slice(i).map((p) => p.row.personId) };
          return;
        }
        throw err;
      }
      taken.add(next);
      this.o.store.moduleFeatures.setUser({ moduleKey: t.moduleKey, userId: next, personId: w.row.personId, pseudonym: w.name, digest: w.row.digest });
      r.loaded.push(w.row.personId);
    }
  }

  private finish(r: ModuleSyncReport, what: string): ModuleSyncReport {
    const parts = [`loaded ${r.loaded.length}`, `deleted ${r.deleted.length}`, `kept ${r.kept.length}`];
    if (r.refused.length) parts.push(`refused ${r.refused.length} (${r.refused.map((x) => `${x.personId}: ${x.code}`).join(', ')})`);
    if (r.full) parts.push(`TABLE FULL: ${r.full.notLoaded.length} not on the module (${r.full.error.code})`);
    this.o.log(`palm module ${r.moduleKey} ${what}: ${parts.join(', ')}`);
    this.problemNow = r.full
      ? { code: 'MODULE_TABLE_FULL', message: `the palm module's user table is full: ${r.full.notLoaded.length} people cannot be identified by it (delete users or use a larger module)` }
      : r.refused.length
        ? { code: r.refused[0]!.code, message: `${r.refused.length} module feature(s) refused: ${r.refused[0]!.message}` }
        : null;
    this.o.onProblem?.();
    return r;
  }

  private failed(err: unknown): never {
    const e = err as { code?: string; message?: string };
    this.problemNow = { code: e.code ?? 'UNKNOWN', message: e.message ?? String(err) };
    this.o.log(`palm module sync failed: ${this.problemNow.code}: ${this.problemNow.message}`);
    this.o.onProblem?.();
    throw err;
  }

  /** Start-up: the module's table against the store's (see the header). */
  reconcile(): Promise<ModuleSyncReport> {
    return this.exclusive(async () => {
      try {
        const t = await this.target();
        const r = this.report(t);
        const wanted = this.wanted(t);
        const byName = new Map(wanted.map((w) => [w.name, w]));
        const known = new Map(this.o.store.moduleFeatures.users(t.moduleKey).map((u) => [u.personId, u]));
        const onModule: ModuleUser[] = await this.o.client.users();
        const plan = planReconcile(onModule, wanted.map((w) => ({ name: w.name, userId: known.get(w.row.personId)?.userId })));
        for (const u of plan.orphans) await this.remove(t, u.userId, r);
        const missing = plan.missing.map((m) => byName.get(m.name)!);
        for (const k of [...plan.matched, ...plan.adopt]) {
          const w = byName.get(k.name)!;
          // The table may have been edited: keep the user only if the module holds the very feature the store has.
          const held = await this.o.client.getFeature(k.userId).then(sha256, (err: unknown) => {
            if (isDriverError(err, 'MODULE_UNKNOWN_USER')) return null;
            throw err;
          });
          if (held !== w.row.digest) {
            await this.remove(t, k.userId, r);
            missing.push(w);
            continue;
          }
          this.o.store.moduleFeatures.setUser({ moduleKey: t.moduleKey, userId: k.userId, personId: w.row.personId, pseudonym: w.name, digest: w.row.digest });
          r.kept.push(w.row.personId);
        }
        // Mapping rows for users the module no longer has, or people no longer wanted, are forgotten.
        const keptIds = new Set(this.o.store.moduleFeatures.users(t.moduleKey).filter((u) => r.kept.includes(u.personId)).map((u) => u.userId));
        for (const u of this.o.store.moduleFeatures.users(t.moduleKey)) if (!keptIds.has(u.userId)) this.o.store.moduleFeatures.deleteUser(t.moduleKey, u.userId);
        const taken = new Set(onModule.map((u) => u.userId).filter((id) => !r.deleted.includes(id)));
        await this.load(t, missing, taken, r);
        return this.finish(r, 'reconciled');
      } catch (err) {
        return this.failed(err);
      }
    });
  }

  /** After a feed page: from the store alone (see the header). */
  sync(): Promise<ModuleSyncReport> {
    return this.exclusive(async () => {
      try {
        const t = await this.target();
        const r = this.report(t);
        const wanted = new Map(this.wanted(t).map((w) => [w.row.personId, w]));
        const mapped = this.o.store.moduleFeatures.users(t.moduleKey);
        for (const u of mapped) {
          const w = wanted.get(u.personId);
          if (!w || w.row.digest !== u.digest || w.name !== u.pseudonym) await this.remove(t, u.userId, r);
          else r.kept.push(u.personId);
        }
        const taken = new Set(this.o.store.moduleFeatures.users(t.moduleKey).map((u) => u.userId));
        await this.load(t, [...wanted.values()].filter((w) => !r.kept.includes(w.row.personId)), taken, r);
        return this.finish(r, 'synced');
      } catch (err) {
        return this.failed(err);
      }
    });
  }

  /** A full re-sync: DELALL, then every wanted person loaded. */
  resyncAll(): Promise<ModuleSyncReport> {
    return this.exclusive(async () => {
      try {
        const t = await this.target();
        const r = this.report(t);
        await this.o.client.deleteAll();
        this.o.store.moduleFeatures.deleteAllUsers(t.moduleKey);
        await this.load(t, this.wanted(t), new Set(), r);
        return this.finish(r, 're-synced (delete all, then load)');
      } catch (err) {
        return this.failed(err);
      }
    });
  }

  /**
   * Enrolment on this terminal: the palm enrolled on the module itself (ENROLL_SINGLE under the person's pseudonym;
   * the module refuses a palm it already holds), its feature read back (0xFA), checked against the family's
   * format, sealed and stored with the user id, in one transaction. The stored feature is what other terminals
   * of the same family load: the enrolment record pins `{ family, digest }` (`moduleFeature`), the blob goes to the
   * centre with the templates (src/sync/templates.ts) and the feed brings it to the region's counters.
   */
  enrol(personId: string, opts: { timeoutS?: number; signal?: AbortSignal; nowMs?: number } = {}): Promise<{ userId: number; family: string; digest: string }> {
    return this.exclusive(async () => {
      const t = await this.target();
      const name = this.pseudonymOf(personId);
      const { userId } = await this.o.client.enrol({ name, timeoutS: opts.timeoutS ?? 5 }, { signal: opts.signal });
      let digest: string;
      try {
        const feature = await this.o.client.getFeature(userId);
        checkFeatureFor(t.family, t.family, feature);
        const row = sealModuleFeature(this.o.sealer, personId, t.family, feature, opts.nowMs ?? Date.now());
        digest = row.digest;
        this.o.store.transaction(() => {
          this.o.store.moduleFeatures.put(row);
          this.o.store.moduleFeatures.setUser({ moduleKey: t.moduleKey, userId, personId, pseudonym: name, digest: row.digest });
        });
      } catch (err) {
        // Not stored: the module must not keep a user the store does not know.
        await this.o.client.deleteUser(userId).catch(() => undefined);
        throw err;
      }
      return { userId, family: t.family, digest };
    });
  }

  /**
   * One capture for an enrolment through the screens (issue 14 §2): a module that gives no image has no capture but
   * VERIFY, so VERIFY is sent and the capture's feature read back (0xFA, user 0xFFFF: the last capture), checked
   * against the family's format. Nothing is enrolled on the module here: the person is loaded by feature (0xF9,
   * sync()) once the centre has confirmed them, as on every other counter. A palm the module already holds gives
   * its feature all the same (the duplicate check then finds its owner). The module's own refusals (no palm within
   * its wait, liveness, a failed capture) are thrown as its DriverErrors: the capture's quality is the module's
   * accept or reject. Refused up front for a family with no host matcher: its captures could not be checked
   * against each other or for duplicates (MODULE_FAMILY_UNMATCHED).
   */
  captureFeature(opts: { palmTimeoutS?: number; signal?: AbortSignal } = {}): Promise<ModuleFeatureCapture> {
    return this.exclusive(async () => {
      const t = await this.target();
      if (!featureFormat(t.family)?.match) throw new PalmPayError('MODULE_FAMILY_UNMATCHED', `the ${t.family} family has no host matcher: enrolment on this module is refused (the centre could not check it for duplicates)`);
      let feature: Uint8Array | null = null;
      try {
        feature = (await this.o.client.verify({ palmTimeoutS: opts.palmTimeoutS ?? 5, signal: opts.signal })).evidence?.feature ?? null;
      } catch (err) {
        if (!isDriverError(err, 'MODULE_UNKNOWN_USER')) throw err; // a palm the module does not hold: the usual case
      }
      feature ??= await this.o.client.getFeature(LAST_SNAP_USER, { signal: opts.signal });
      checkFeatureFor(t.family, t.family, feature);
      return new ModuleFeatureCapture(t.family, feature);
    });
  }

  /**
   * The local duplicate check on such a module: people kept here (any status, provisional ones enrolled here too)
   * whose stored feature of the captures' family the host matcher finds in any capture. Linear over the family's
   * features, from the store only (the module is not asked). A stored feature that does not open is skipped, logged.
   */
  duplicatesOf(captures: readonly ModuleFeatureCapture[]): string[] {
    const found = new Set<string>();
    for (const family of new Set(captures.map((c) => c.family))) {
      const match = featureFormat(family)?.match;
      if (!match) throw new PalmPayError('MODULE_FAMILY_UNMATCHED', `the ${family} family has no host matcher: no duplicate check is possible`);
      const mine = captures.filter((c) => c.family === family);
      for (const row of this.o.store.moduleFeatures.allOf(family)) {
        let stored: Uint8Array;
        try {
          stored = this.openFeature(row);
        } catch (err) {
          this.o.log(`palm module duplicate check: the feature of ${row.personId} skipped (${(err as Error).message})`);
          continue;
        }
        if (mine.some((c) => match(c.feature, stored))) found.add(row.personId);
      }
    }
    return [...found];
  }

  /**
   * VERIFY, mapped to a person and judged (see the header). `pinVerified` is asked only when the family's feature
   * cannot be matched on the host: the caller checks the claimed person's PIN and says so.
   */
  identify(opts: { palmTimeoutS?: number; pinVerified?: (personId: string) => boolean; signal?: AbortSignal } = {}): Promise<ModuleIdentity> {
    return this.exclusive(async () => {
      const t = await this.target();
      const v = await this.o.client.verify({ palmTimeoutS: opts.palmTimeoutS ?? 5, signal: opts.signal });
      const row: ModuleUserRow | undefined = this.o.store.moduleFeatures.users(t.moduleKey).find((u) => u.userId === v.userId);
      if (!row) throw new ModuleVerdictError('MODULE_USER_UNKNOWN', `the module answered user ${v.userId}, whom this terminal did not load: its table was changed outside PalmPay (the next start-up reconcile deletes such users)`);
      if (v.name !== row.pseudonym) throw new ModuleVerdictError('VERDICT_CONTRADICTED', `the module names user ${v.userId} '${v.name.slice(0, 32)}', not the pseudonym this terminal loaded: the module's table or the line is not to be trusted`);
      // Still wanted (an active person or operator with this feature), whatever the module's table says.
      const feature = this.o.store.moduleFeatures.activeOf(t.family).find((f) => f.personId === row.personId);
      if (!feature) throw new ModuleVerdictError('PERSON_NOT_ACTIVE', `module user ${v.userId} belongs to someone no longer enrolled here (revoked or blocked): refused`, row.personId);
      const format = featureFormat(t.family);
      const stored = format?.match ? this.openFeature(feature) : null;
      const decision = judgeVerdict(v, {
        ...(format?.match && stored ? { matchFeature: (f: Uint8Array) => format.match!(f, stored) } : {}),
        pinVerified: opts.pinVerified?.(row.personId) ?? false,
      });
      if (decision.accepted) return { personId: row.personId, userId: v.userId, via: decision.via };
      this.o.log(`palm module verdict refused: user ${v.userId}: ${decision.code}`);
      throw new ModuleVerdictError(decision.code, decision.reason, row.personId);
    });
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Seals a module feature read from the module for the store (enrolment on a terminal with such a module). */
export function sealModuleFeature(sealer: Sealer, personId: string, family: string, feature: Uint8Array, nowMs: number): ModuleFeatureRow {
  return { personId, family, sealed: sealer.seal(feature, moduleFeatureBinding(personId, family)), digest: sha256(feature), createdAtMs: nowMs };
}

export interface PalmModuleWatch {
  /** The sync, once the scanner turned out to be a module that matches on its own (else null). */
  current(): ModuleUserSync | null;
  /** Resolves when the work started so far (discovery, reconcile, syncs) is done: for tests and the log. */
  idle(): Promise<void>;
  /** The sync's problem as the status bar shows it (undefined: in sync, or no such module). */
  statusProblem(): 'table-full' | 'feature-refused' | 'sync-failed' | undefined;
  /** Fires when statusProblem() may have changed; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/**
 * The kiosk's side (compose.ts): once the configured serial module is connected, discovery decides whether it
 * matches on its own (matchesOnItsOwn); if so its table is reconciled, again after every reconnect (the module may
 * have been swapped or edited while unplugged), and synced after every committed feed page. A module that gives
 * images is left alone: the terminal matches those palms itself. Failures are logged and kept as the sync's
 * problem; a call refused because a palm read holds the scanner (SCANNER_BUSY) is tried again shortly.
 */
export function watchPalmModule(o: {
  scanner: { moduleClient(): ScannerClient | null; onChange(listener: () => void): () => void };
  store: Store;
  sealer: Sealer;
  log: (line: string) => void;
  feed?: Pick<Sync, 'on' | 'off'> | null;
  busyRetryMs?: number;
}): PalmModuleWatch {
  let client: ScannerClient | null = null;
  let sync: ModuleUserSync | null = null;
  let connected = false;
  let closed = false;
  let work: Promise<void> = Promise.resolve();
  let syncQueued = false;
  const retryMs = o.busyRetryMs ?? 500;
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());

  const busyRetried = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (closed || attempt >= 20 || !isDriverError(err, 'SCANNER_BUSY')) throw err;
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  };
  const enqueue = (what: string, fn: () => Promise<unknown>) => {
    work = work.then(async () => {
      if (closed) return;
      try {
        await busyRetried(fn);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        o.log(`palm module: ${what} failed (${e.code ?? 'error'}: ${e.message ?? String(err)})`);
      }
    });
  };
  const onConnected = (c: ScannerClient) => {
    enqueue('discovery and reconcile', async () => {
      const caps = await c.capabilities({ refresh: true });
      if (!matchesOnItsOwn(caps)) {
        if (!sync) o.log('palm module: gives images, the terminal matches its palms itself (no user table to keep)');
        return;
      }
      if (!sync) {
        sync = new ModuleUserSync({ client: c, store: o.store, sealer: o.sealer, log: o.log, onProblem: changed });
        o.log(`palm module: matches on its own (no images, feature transfer): the terminal keeps its user table (family ${familyOfVersion(caps.version)})`);
      }
      await sync.reconcile();
    });
  };
  const onScanner = () => {
    const c = o.scanner.moduleClient();
    if (!c) return;
    if (c !== client) {
      client = c;
      connected = false;
    }
    const up = c.state !== 'disconnected';
    if (up && !connected) onConnected(c);
    connected = up;
  };
  const onFeed = () => {
    if (!sync || syncQueued) return;
    syncQueued = true;
    enqueue('sync after a feed page', () => {
      syncQueued = false;
      return sync!.sync();
    });
  };
  const off = o.scanner.onChange(onScanner);
  o.feed?.on('palms', onFeed);
  o.feed?.on('feed', onFeed);
  onScanner();
  return {
    current: () => sync,
    statusProblem: () => {
      const code = sync?.problem()?.code;
      if (code === undefined) return undefined;
      if (code === 'MODULE_TABLE_FULL') return 'table-full';
      return code === 'MODULE_FEATURE_FOREIGN' || code === 'MODULE_FEATURE_DIGEST' || code === 'TEMPLATE_UNSEAL_FAILED' ? 'feature-refused' : 'sync-failed';
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    idle: async () => {
      let seen: Promise<void>;
      do {
        seen = work;
        await seen;
      } while (seen !== work);
    },
    close() {
      closed = true;
      off();
      o.feed?.off('palms', onFeed);
      o.feed?.off('feed', onFeed);
    },
  };
}

/** What a palm read through such a module hands the flows in place of a template: whom the host accepted, or nobody. */
class ModuleProbe {
  constructor(
    readonly personId: string | null,
    readonly why: string,
  ) {}
}

/** Module refusals of one enrolment capture: the capture's quality is the module's own reject, and the hand is asked again. */
const CAPTURE_REJECTED = new Set(['MODULE_LIVENESS_FAILED', 'MODULE_FAILED', 'MODULE_ABORTED', 'MODULE_FEATURE_FOREIGN']);

/**
 * The flows' palm port and identifier on a kiosk whose module matches on its own: while `watch` has a sync (the
 * configured module turned out to be one), a read for identify or verify is the module's VERIFY, mapped and judged
 * (ModuleUserSync.identify), and the identifier answers from that decision: a match only for the person the host
 * accepted; a refused verdict (contradicted, unknown user, person no longer active, or a family with no host
 * matcher) is `no-match`, logged. Otherwise both pass through to the recogniser's.
 * Enrolment (issue 14 §2), the flow unchanged (form, consent, captures per hand, duplicate checks, PIN): a capture
 * is the module's feature (ModuleUserSync.captureFeature, quality = the module's accept or reject), the duplicate
 * check is the family's host matcher over the features kept here (duplicatesOf), and `moduleFeatureOf` is the seam
 * for the bank: the one feature the record pins (enrolmentFeature: the captures of each hand checked against each
 * other), none for templates.
 */
export function modulePalmPath<T>(o: { watch: PalmModuleWatch; reader: PalmReader<T>; identifier: Identifier<T>; log: (line: string) => void; palmTimeoutS?: number }): {
  palm: PalmReader<T>;
  identifier: Identifier<T>;
  moduleFeatureOf: (captures: Record<EnrolHand, T[]>) => ModuleFeatureCapture | null;
} {
  const asProbe = (t: T): ModuleProbe | null => ((t as unknown) instanceof ModuleProbe ? (t as unknown as ModuleProbe) : null);
  const asCapture = (t: T): ModuleFeatureCapture | null => ((t as unknown) instanceof ModuleFeatureCapture ? (t as unknown as ModuleFeatureCapture) : null);
  const ours = (t: T) => asProbe(t) !== null || asCapture(t) !== null;
  const probe = (p: ModuleProbe): PalmRead<T> => ({ ok: true, template: p as unknown as T, quality: 1 });
  const enrolCapture = async (sync: ModuleUserSync, signal: AbortSignal): Promise<PalmRead<T>> => {
    for (;;) {
      signal.throwIfAborted();
      try {
        const c = await sync.captureFeature({ palmTimeoutS: o.palmTimeoutS ?? 5, signal });
        return { ok: true, template: c as unknown as T, quality: 1 };
      } catch (err) {
        if (signal.aborted) throw err;
        if (isDriverError(err, 'NO_PALM')) continue; // nobody laid a palm within the module's wait: ask again
        if (!(err instanceof DriverError) || !CAPTURE_REJECTED.has(err.code)) throw err; // a scanner fault: the flows show it
        o.log(`palm module: enrolment capture rejected (${err.code}: ${err.message})`);
        return { ok: false, reason: 'other', quality: 0 };
      }
    }
  };
  const palm: PalmReader<T> = {
    async read(opts) {
      const sync = o.watch.current();
      if (!sync) return o.reader.read(opts);
      if (opts.purpose === 'enrol') return enrolCapture(sync, opts.signal);
      for (;;) {
        opts.signal.throwIfAborted();
        try {
          const who = await sync.identify({ palmTimeoutS: o.palmTimeoutS ?? 5, signal: opts.signal });
          return probe(new ModuleProbe(who.personId, who.via));
        } catch (err) {
          if (opts.signal.aborted) throw err;
          if (isDriverError(err, 'NO_PALM')) continue; // nobody laid a palm within the module's wait: ask again
          const refused = err instanceof ModuleVerdictError ? err.code : isDriverError(err, 'MODULE_UNKNOWN_USER') ? err.code : null;
          if (!refused) throw err; // a scanner fault: the flows show it and ask again
          o.log(`palm module: palm refused (${refused}: ${(err as Error).message})`);
          return probe(new ModuleProbe(null, refused));
        }
      }
    },
    onPlacement: (listener) => o.reader.onPlacement(listener),
  };
  const identifier: Identifier<T> = {
    identify(t) {
      const p = asProbe(t);
      if (!p) return o.identifier.identify(t);
      return p.personId ? { kind: 'match', personId: p.personId } : { kind: 'no-match' };
    },
    verify(personId, t) {
      const p = asProbe(t);
      return p ? p.personId === personId : o.identifier.verify(personId, t);
    },
    duplicates(samples) {
      const captures = samples.flatMap((s) => asCapture(s) ?? []);
      if (captures.length > 0) {
        const sync = o.watch.current();
        if (!sync) throw new PalmPayError('MODULE_NOT_READY', 'the palm module is gone: its captures cannot be checked for duplicates');
        return sync.duplicatesOf(captures);
      }
      return samples.some((s) => asProbe(s)) ? [] : o.identifier.duplicates(samples);
    },
    add(personId, templates) {
      // A module's person joins its table by feature once the centre confirmed them (the feed, then sync()).
      if (!templates.some(ours)) o.identifier.add?.(personId, templates);
    },
  };
  const moduleFeatureOf = (captures: Record<EnrolHand, T[]>): ModuleFeatureCapture | null => {
    const all = [...captures.left, ...captures.right];
    if (!all.some((t) => asCapture(t))) return null;
    if (!all.every((t) => asCapture(t))) throw new PalmPayError('MODULE_FEATURE_FOREIGN', 'an enrolment mixes module feature captures with templates');
    return enrolmentFeature({ left: captures.left.map((t) => asCapture(t)!), right: captures.right.map((t) => asCapture(t)!) });
  };
  return { palm, identifier, moduleFeatureOf };
}
