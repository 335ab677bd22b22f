// The centre's application service: registration, ingestion, registry, payroll and leases, feeds, statements.
// Each public method is one transaction over the repository; HTTP and the CLI are thin layers over this.
import { randomBytes, randomUUID, verify as edVerify } from 'node:crypto';
import { CURRENCIES, GENESIS_HASH, Id } from '../protocol/record.ts';
import { publicKeyObject } from '../protocol/sign.ts';
import { PalmPayError } from '../util/errors.ts';
import {
  issueCertificate, parseAuthorization, requestMessage, sealFor, serverIdentity, sha256Hex, signTime, verifyTime,
  type Certificate, type ServerIdentity, type SignedTime,
} from '../protocol/crypto.ts';
import { ingestRecords, prepareRecords } from './ingest.ts';
import { isSealed, keyDirFor, loadCentreKeys, openTemplates, sealTemplates, secureSqliteFile } from './keys.ts';
import { eventsDigest, signBoundTime, signFeedPage, type BoundTime, type FeedPageProof } from '../protocol/feed-page.ts';
import type { RecordResult } from '../protocol/schemas.ts';
import { VerifyPool } from './verify-pool.ts';
import { leaseMoveRefusal, parsePayrollCsv, PayrollImportError, pickLeaseHolder } from './payroll.ts';
import { account, fundingPostings, payrollPostings } from './postings.ts';
import { CentreIndex, entryCodes, type OpenTemplates } from './palm-index.ts';
import { decideEnrolment } from './enrolment-check.ts';
import { Repo, type RepoOptions, type RepoTx, type TerminalRow } from './repo.ts';
import { balancesTouched } from './lock-plan.ts';

/** A refusal with its HTTP status; `code` is stable for clients and tests. */
export class ServerError extends PalmPayError {
  constructor(code: string, message: string, readonly status: number) {
    super(code, message);
  }
}

export interface CentralOptions {
  now?: () => number;
  /** A terminal heard from within this window counts as online (lease moves). Default 2 minutes. */
  onlineWindowMs?: number;
  /** Offline allowance ceiling per customer and currency, in minor units. */
  allowanceCap?: Record<string, number>;
  /** Largest request clock skew accepted on terminal requests. Default 5 minutes (a terminal corrects its
   * clock from the centre's nonce-bound signed time when refused). */
  maxSkewMs?: number;
  /** Threads verifying signatures of large batches (default: min(4, cores)). */
  verifyThreads?: number;
  /** Folder of the centre's key file (default: next to the SQLite file; see keys.ts for PostgreSQL). */
  keyDir?: string;
  /** Pool size, pool error hook, whether to migrate on open. */
  storage?: RepoOptions;
}

export interface Counters {
  batches: number;
  records: Record<string, number>;
  authFailures: number;
}

export const FEED_PAGE = 500;

export class Central {
  readonly counters: Counters = { batches: 0, records: {}, authFailures: 0 };
  private readonly now: () => number;
  private pool: VerifyPool | undefined;
  /** This process's 1:N index of everyone enrolled (palm-index.ts), kept current by polling the change log. */
  readonly palmIndex: CentreIndex;
  /** A person's plaintext templates from the stored (sealed) column. */
  private readonly openStored: OpenTemplates;
  private poller: NodeJS.Timeout | undefined;

  private constructor(
    readonly repo: Repo,
    readonly identity: ServerIdentity,
    /** Seals templates at rest; kept in the key file, never in the database. */
    private readonly templateKey: Buffer,
    private readonly opts: CentralOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.openStored = (id, stored) => openTemplates(templateKey, id, stored);
    this.palmIndex = new CentreIndex(repo, this.openStored);
  }

  /**
   * Loads the palm index from its snapshot and keeps following the change log every `pollMs` (default 1 s), so
   * every process sees every enrolment; a duplicate check also catches up first. Resolves once loaded.
   */
  async startIndex(pollMs = 1000): Promise<void> {
    await this.palmIndex.catchUp();
    this.poller ??= setInterval(() => void this.palmIndex.catchUp().catch(() => undefined), pollMs).unref();
  }

  static async open(db: string, opts: CentralOptions = {}): Promise<Central> {
    secureSqliteFile(db); // 0600 in a 0700 folder, before SQLite creates it
    const repo = await Repo.open(db, opts.storage);
    // The keys live in a 0600 file outside the database (src/server/keys.ts). An older centre kept its signing key
    // in the meta table and templates in plaintext: both move out / get sealed here, once.
    const keys = await repo.tx(async (r) => {
      const legacy = await r.getMeta('server_key');
      const k = loadCentreKeys(keyDirFor(db, opts.keyDir), legacy);
      if (legacy !== undefined) {
        if (legacy !== k.serverKey) throw new ServerError('CENTRE_KEYS_MISMATCH', 'the database holds another centre key than the key file: refusing to guess which is right', 500);
        await r.deleteMeta('server_key');
      }
      const templateKey = Buffer.from(k.templateKey, 'base64');
      for (const p of await r.personsWithPlainTemplates()) if (!isSealed(p.templates!)) await r.resealPersonTemplates(p.id, sealTemplates(templateKey, p.id, JSON.parse(p.templates!) as string[]));
      return { identity: serverIdentity(k.serverKey), templateKey, migrated: legacy !== undefined };
    });
    // The old key and plaintext templates would otherwise linger in SQLite's free pages.
    if (keys.migrated && repo.db.dialect === 'sqlite') await repo.db.exec('VACUUM');
    return new Central(repo, keys.identity, keys.templateKey, opts);
  }

  /** A person's plaintext templates from the stored (sealed) column. */
  private templatesOf(p: { id: string; templates: string | null }): Buffer[] {
    return p.templates === null ? [] : this.openStored(p.id, p.templates);
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await this.palmIndex.idle(); // not while a page of the change log is being read
    await this.pool?.close();
    await this.repo.close();
  }

  signedTime(): SignedTime {
    return signTime(this.identity, this.now());
  }

  /** The time signed together with a caller's nonce: a terminal correcting its clock believes only this. */
  boundTime(nonce: string): BoundTime {
    return signBoundTime(this.identity.privateKey, this.now(), nonce);
  }

  // ---- terminals ----
  /** Admin: creates a pending terminal and its one-time registration code (shown once, stored hashed). */
  async addTerminal(t: { id?: string; name: string; branch: string; region: string; codeTtlMs?: number }): Promise<{ terminalId: string; code: string; expiresAt: number }> {
    const terminalId = t.id ?? `T-${randomBytes(4).toString('hex')}`;
    const code = randomBytes(9).toString('base64url'); // 12 chars, 72 bits
    const expiresAt = this.now() + (t.codeTtlMs ?? 7 * 24 * 3600_000);
    await this.repo.tx(async (r) => {
      if (await r.getTerminal(terminalId)) throw new ServerError('TERMINAL_EXISTS', `terminal ${terminalId} already exists`, 409);
      await r.insertTerminal({ id: terminalId, name: t.name, branch: t.branch, region: t.region, code_hash: sha256Hex(code), code_expires: expiresAt, created_at: this.now(), head_hash: GENESIS_HASH });
    });
    return { terminalId, code, expiresAt };
  }

  /** Terminal: trades the one-time code and its public keys for a server-signed certificate. */
  async registerTerminal(req: { code: string; publicKey: string; encKey: string }): Promise<{ certificate: Certificate; serverPublicKey: string; time: SignedTime }> {
    const cert = await this.repo.tx(async (r) => {
      const t = await r.getTerminalByCode(sha256Hex(req.code));
      if (!t) throw new ServerError('REGISTRATION_CODE_INVALID', 'registration code is unknown or already used', 403);
      if (t.code_expires !== null && Number(t.code_expires) < this.now()) throw new ServerError('REGISTRATION_CODE_EXPIRED', 'registration code has expired', 403);
      const certificate = issueCertificate(this.identity, {
        v: 1, terminalId: t.id, name: t.name, branch: t.branch, region: t.region, publicKey: req.publicKey, encKey: req.encKey, issuedAt: this.now(),
      });
      await r.activateTerminal(t.id, req.publicKey, req.encKey, JSON.stringify(certificate));
      await r.touchTerminal(t.id, this.now());
      return certificate;
    });
    return { certificate: cert, serverPublicKey: this.identity.publicKeyHex, time: this.signedTime() };
  }

  async revokeTerminal(id: string): Promise<void> {
    await this.repo.tx(async (r) => {
      if (!(await r.getTerminal(id))) throw new ServerError('TERMINAL_UNKNOWN', `terminal ${id} is unknown`, 404);
      if (await r.revokeTerminal(id, this.now())) await r.appendFeed('all', 'terminal_revoked', id, { terminalId: id }, this.now());
    });
  }

  listTerminals(): Promise<TerminalRow[]> {
    return this.repo.tx((r) => r.listTerminals());
  }

  /**
   * Checks a terminal request's signature header; returns the active terminal. An unknown, unregistered or
   * wrongly signed request gets one uniform AUTH_FAILED (no enumerating terminal ids); only a request the
   * terminal's key really signed learns more (clock off, revoked, replayed). Each signature is accepted once
   * within the time window (the request's time is its nonce; the window is minutes, not a day).
   */
  async authenticate(header: string | undefined, method: string, path: string, body: Buffer | string): Promise<TerminalRow> {
    const a = parseAuthorization(header);
    if (!a) return this.authFail('AUTH_MISSING', 'missing or malformed Authorization header (PalmPay <terminal>:<ms>:<sig>)', 401);
    const t = await this.repo.tx((r) => r.getTerminal(a.terminalId));
    const failed = () => this.authFail('AUTH_FAILED', 'request authentication failed', 401);
    if (!t || t.status === 'pending' || !t.public_key) return failed();
    const ok = edVerify(null, requestMessage(method, path, a.ms, body), publicKeyObject(Buffer.from(t.public_key, 'hex')), Buffer.from(a.sig, 'hex'));
    if (!ok) return failed();
    if (t.status === 'revoked') return this.authFail('TERMINAL_REVOKED', `terminal ${t.id} is revoked`, 403);
    const window = this.opts.maxSkewMs ?? 5 * 60_000;
    const now = this.now();
    if (Math.abs(now - a.ms) > window) return this.authFail('AUTH_CLOCK', 'request time is too far from the server time', 401);
    if (!this.seenRequests.add(a.sig, now + 2 * window, now)) return this.authFail('AUTH_REPLAYED', 'this signed request was already received (a replay)', 401);
    return t;
  }

  /** Signatures of requests accepted within the window (a replay of one is refused). */
  private readonly seenRequests = new ReplayCache();
  /** Whether a terminal request could be one: a well-formed header naming an active terminal (checked before the body is read). */
  async plausibleRequest(header: string | undefined): Promise<boolean> {
    const a = parseAuthorization(header);
    if (!a) return false;
    const t = await this.repo.tx((r) => r.getTerminal(a.terminalId));
    return Boolean(t && t.status !== 'pending' && t.public_key);
  }

  private authFail(code: string, message: string, status: number): never {
    this.counters.authFailures++;
    throw new ServerError(code, message, status);
  }

  // ---- ingestion ----
  /** Ingests one terminal's batch in one transaction. Statuses are per record, in input order. */
  async ingest(terminalId: string, records: unknown[]): Promise<RecordResult[]> {
    const before = await this.repo.tx((r) => r.getTerminal(terminalId));
    const usable = (t: TerminalRow | undefined): TerminalRow => {
      if (!t || !t.public_key || t.status === 'pending') throw new ServerError('TERMINAL_UNKNOWN', `terminal ${terminalId} is not registered`, 401);
      if (t.status === 'revoked') throw new ServerError('TERMINAL_REVOKED', `terminal ${terminalId} is revoked: uploads refused`, 403);
      return t;
    };
    const key = usable(before).public_key!;
    if (records.length >= 64) this.pool ??= new VerifyPool(this.opts.verifyThreads);
    const prepared = await prepareRecords(records, terminalId, key, this.pool);
    const results = await this.repo.tx(async (r) => {
      // Locked and re-read inside the transaction: this terminal's batches run one at a time, other terminals' in parallel.
      const t = usable(await r.lockTerminal(terminalId));
      if (t.public_key !== key) throw new ServerError('TERMINAL_KEY_CHANGED', 'terminal key changed during the upload: retry', 409);
      const now = this.now();
      const touched = new Set<string>();
      await r.lockBalances(balancesTouched(prepared, t.id));
      const out = await ingestRecords(r, { now, terminal: t, touchedAccounts: touched, onEnrolment: (rr, pid) => this.checkEnrolment(rr, pid), verifyServerTime: (st) => verifyTime(this.identity.publicKeyHex, st) }, prepared);
      await r.touchTerminal(t.id, now);
      await this.publishAllowances(r, touched);
      return out;
    });
    this.counters.batches++;
    for (const res of results) this.counters.records[res.status] = (this.counters.records[res.status] ?? 0) + 1;
    return results;
  }

  /** Sneakernet: records carried on a USB stick, grouped by terminal; the same checks and de-duplication as upload. */
  async importRecords(records: unknown[]): Promise<Map<string, RecordResult[]>> {
    const byTerminal = new Map<string, unknown[]>();
    for (const rec of records) {
      const tid = typeof (rec as { terminalId?: unknown })?.terminalId === 'string' ? (rec as { terminalId: string }).terminalId : '?';
      byTerminal.set(tid, [...(byTerminal.get(tid) ?? []), rec]);
    }
    const out = new Map<string, RecordResult[]>();
    for (const [tid, recs] of byTerminal) {
      for (let i = 0; i < recs.length; i += 1000) {
        const chunk = recs.slice(i, i + 1000);
        let res: RecordResult[];
        try {
          res = await this.ingest(tid, chunk);
        } catch (err) {
          // An unknown or revoked terminal's records are refused; the other terminals' records still go in.
          if (!(err instanceof ServerError)) throw err;
          res = chunk.map((rec) => ({ seq: typeof (rec as { seq?: unknown })?.seq === 'number' ? (rec as { seq: number }).seq : null, status: 'invalid' as const, reason: err.message }));
        }
        out.set(tid, [...(out.get(tid) ?? []), ...res]);
      }
    }
    return out;
  }

  private async publishAllowances(r: RepoTx, accounts: Set<string>): Promise<void> {
    for (const accountId of accounts) {
      for (const cur of ['SYP', 'USD']) {
        const bal = await r.balance(account.customer(accountId), cur);
        const cap = this.opts.allowanceCap?.[cur] ?? 5_000_000;
        const customerId = (await r.personByAccount(accountId))?.id ?? accountId;
        await r.appendFeed('all', 'allowance', `${accountId}:${cur}`, { accountId, customerId, currency: cur, amountMinor: Math.max(0, Math.min(bal, cap)) }, this.now());
      }
    }
  }

  // ---- enrolment registry ----
  /** Terminal: the templates of an enrolment it uploaded; each must hash to the digest its signed record pinned. */
  async uploadTemplates(terminal: TerminalRow, personId: string, templatesB64: string[]): Promise<{ status: string; duplicateOf?: string }> {
    const stored = await this.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      if (!p) throw new ServerError('PERSON_UNKNOWN', `no enrolment record for person ${personId} yet: upload the record first`, 409);
      if (p.terminal_id !== terminal.id) throw new ServerError('PERSON_NOT_YOURS', `person ${personId} was enrolled by another terminal`, 403);
      const digests = JSON.parse(p.digests) as string[];
      const got = templatesB64.map((t) => sha256Hex(Buffer.from(t, 'base64')));
      if (got.length !== digests.length || got.some((d, i) => d !== digests[i])) {
        throw new ServerError('TEMPLATE_DIGEST_MISMATCH', 'templates do not match the digests in the signed enrolment record', 422);
      }
      if (p.templates !== null) return false;
      await r.setPersonTemplates(personId, sealTemplates(this.templateKey, personId, templatesB64), this.now(), entryCodes(templatesB64.map((t) => Buffer.from(t, 'base64'))));
      return true;
    });
    if (stored) {
      // The 1:N check outside any transaction, on this process's index; then the decision, with its re-check on commit.
      await this.palmIndex.catchUp();
      const since = this.palmIndex.position;
      const found = await this.palmIndex.findDuplicate(personId, templatesB64.map((t) => Buffer.from(t, 'base64')));
      await this.repo.tx((r) => decideEnrolment(r, personId, found, since, this.now(), (region, id, accountId) => this.publishPerson(r, region, id, accountId), this.openStored));
    }
    const after = (await this.repo.tx((r) => r.getPerson(personId)))!;
    return after.duplicate_of ? { status: after.status, duplicateOf: after.duplicate_of } : { status: after.status };
  }

  private publishPerson(r: RepoTx, region: string, personId: string, accountId: string | null): Promise<void> {
    return r.appendFeed(`region:${region}`, 'person', personId, { personId, accountId }, this.now());
  }

  /**
   * Called for an enrolment record as it is stored. Its templates come later (uploadTemplates runs the check), so
   * this finds none and returns; were they already there, the decision re-checks every stored person (since -1).
   */
  private async checkEnrolment(r: RepoTx, personId: string): Promise<void> {
    const p = await r.getPerson(personId);
    if (!p || p.status !== 'provisional' || p.templates === null) return;
    await decideEnrolment(r, personId, undefined, -1, this.now(), (region, id, accountId) => this.publishPerson(r, region, id, accountId), this.openStored);
  }

  /** Supervisor: settles a possible duplicate (confirm as a distinct person, or revoke). */
  async settlePerson(personId: string, decision: 'confirm' | 'revoke'): Promise<void> {
    await this.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      if (!p) throw new ServerError('PERSON_UNKNOWN', `person ${personId} is unknown`, 404);
      const now = this.now();
      if (decision === 'confirm') {
        await r.setPersonStatus(personId, 'confirmed', null, now);
        await r.appendFeed(`region:${p.region}`, 'person', personId, { personId, accountId: p.account_id }, now);
      } else {
        await r.setPersonStatus(personId, 'revoked', p.duplicate_of, now);
        await r.appendFeed('all', 'person_revoked', personId, { personId }, now);
      }
    });
  }

  // ---- money in ----
  /** Admin: a deposit into a customer account (made at the bank, outside the terminals). */
  async creditAccount(accountId: string, amountMinor: number, currency: string): Promise<void> {
    if (!Object.hasOwn(CURRENCIES, currency)) throw new ServerError('CREDIT_INVALID', `currency must be one of ${Object.keys(CURRENCIES).join(', ')} (ISO 4217, upper case), got ${JSON.stringify(currency)}`, 422);
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new ServerError('CREDIT_INVALID', `a credit is a positive whole number of minor units, got ${amountMinor}`, 422);
    if (!Id.safeParse(accountId).success) throw new ServerError('CREDIT_INVALID', `account id ${JSON.stringify(accountId)} is not a valid id`, 422);
    await this.repo.tx(async (r) => {
      await r.postTxn({ source: 'admin', terminalId: null, seq: null, ref: `credit:${randomUUID()}`, memo: `deposit to ${accountId}`, at: this.now(), postings: fundingPostings(accountId, amountMinor, currency) });
      await this.publishAllowances(r, new Set([accountId]));
    });
  }

  /** Admin: imports a payroll CSV, all or nothing; one voucher per person and period, leased to a branch terminal. */
  async importPayroll(csv: string): Promise<{ vouchers: number; byTerminal: Record<string, number> }> {
    const { rows, errors } = parsePayrollCsv(csv);
    return this.repo.tx(async (r) => {
      const terminals = (await r.listTerminals()).filter((t) => t.status === 'active');
      const byBranch = new Map<string, string[]>();
      for (const t of terminals) byBranch.set(t.branch, [...(byBranch.get(t.branch) ?? []), t.id]);
      for (const row of rows) {
        if (!byBranch.has(row.branch)) errors.push({ line: row.line, message: `branch ${row.branch} has no active terminal` });
        else if (await r.voucherFor(row.personId, row.period)) errors.push({ line: row.line, message: `a voucher for ${row.personId} and ${row.period} already exists` });
      }
      if (errors.length) throw new PayrollImportError(errors.sort((a, b) => a.line - b.line));
      const now = this.now();
      const counts = new Map<string, Map<string, number>>();
      const byTerminal: Record<string, number> = {};
      for (const row of rows) {
        let c = counts.get(row.branch);
        if (!c) counts.set(row.branch, (c = await r.leaseCounts(row.branch)));
        const holder = pickLeaseHolder(byBranch.get(row.branch)!, c)!;
        c.set(holder, (c.get(holder) ?? 0) + 1);
        byTerminal[holder] = (byTerminal[holder] ?? 0) + 1;
        const v = { id: `V-${row.period}-${row.personId}`, period: row.period, person_id: row.personId, amount: row.amount, currency: row.currency, branch: row.branch, lease_terminal: holder, lease_id: randomUUID(), status: 'open' as const, redeemed_by: null, created_at: now };
        await r.insertVoucher(v);
        await r.postTxn({ source: 'payroll', terminalId: null, seq: null, ref: v.id, memo: `salary ${row.period}`, at: now, postings: payrollPostings(row.branch, row.personId, row.amount, row.currency) });
        await r.appendFeed(`terminal:${holder}`, 'voucher', v.id, voucherFeed(v), now);
      }
      await r.payrollImported(sha256Hex(csv), rows.length, now);
      return { vouchers: rows.length, byTerminal };
    });
  }

  /** Admin: moves a voucher's lease to another terminal of its branch (only while the holder is online). */
  async moveLease(voucherId: string, toTerminal: string): Promise<{ leaseId: string }> {
    return this.repo.tx(async (r) => {
      const v = await r.getVoucher(voucherId);
      if (!v) throw new ServerError('VOUCHER_UNKNOWN', `voucher ${voucherId} is unknown`, 404);
      const refusal = leaseMoveRefusal(v, await r.getTerminal(v.lease_terminal), await r.getTerminal(toTerminal), this.now(), this.opts.onlineWindowMs ?? 120_000);
      if (refusal) throw new ServerError('LEASE_MOVE_REFUSED', `lease of ${voucherId} not moved: ${refusal}`, 409);
      const leaseId = randomUUID();
      const now = this.now();
      await r.setLease(v.id, toTerminal, leaseId);
      await r.appendFeed(`terminal:${v.lease_terminal}`, 'voucher_withdrawn', v.id, { voucherId: v.id }, now);
      await r.appendFeed(`terminal:${toTerminal}`, 'voucher', v.id, voucherFeed({ ...v, lease_id: leaseId }), now);
      return { leaseId };
    });
  }

  // ---- feeds ----
  /** The delta feed for one terminal after `cursor`: up to FEED_PAGE events, templates sealed for that terminal. */
  async feed(terminal: TerminalRow, cursor: number, limit = FEED_PAGE, request = ''): Promise<{ events: FeedEvent[]; cursor: number; more: boolean; time: SignedTime; proof: FeedPageProof }> {
    await this.repo.catchUp('feed');
    const rows = await this.repo.tx(async (r) => {
      await r.touchTerminal(terminal.id, this.now());
      const page = await r.feedSince(['all', `region:${terminal.region}`, `terminal:${terminal.id}`], cursor, limit + 1);
      const out: FeedEvent[] = [];
      for (const f of page.slice(0, limit)) {
        const data = JSON.parse(f.data) as Record<string, unknown>;
        if (f.kind === 'person') {
          const p = await r.getPerson(f.key);
          if (!p || p.status !== 'confirmed' || !p.templates) continue; // superseded since
          // Who the person is comes from the signed enrolment record; templates are sealed for this terminal only.
          const enrolment = await r.getRecord(p.terminal_id, Number(p.seq));
          const body = enrolment ? (JSON.parse(enrolment.body) as { person: Record<string, unknown>; hands: string[] }) : undefined;
          data.person = body?.person ?? {};
          data.hands = body?.hands ?? [];
          data.templates = this.templatesOf(p).map((t) => sealFor(terminal.enc_key!, t));
        }
        if (f.kind === 'voucher') data.accountId = (await r.getPerson(String(data.personId)))?.account_id ?? data.personId;
        if (f.kind === 'allowance') data.asOfSeq = Number(terminal.head_seq); // the grant counts this terminal's records up to here
        out.push({ seq: Number(f.seq), kind: f.kind, key: f.key, data });
      }
      return { out, more: page.length > limit, last: page.length ? Number(page[Math.min(page.length, limit) - 1]!.seq) : cursor };
    });
    const time = this.signedTime();
    // Signed over what the terminal will apply: the events as they go on the wire (JSON), the range, the request.
    const events = JSON.parse(JSON.stringify(rows.out)) as FeedEvent[];
    const proof = signFeedPage(this.identity.privateKey, { terminalId: terminal.id, from: cursor, to: rows.last, more: rows.more, eventsSha256: eventsDigest(events), timeMs: time.ms, request });
    return { events, cursor: rows.last, more: rows.more, time, proof };
  }

  /** Supervisor: a review item has been handled. */
  resolveReview(id: number): Promise<boolean> {
    return this.repo.tx((r) => r.resolveReview(id, this.now()));
  }

  // ---- reading ----
  reviewList(includeResolved = false) {
    return this.repo.tx((r) => r.listReview(includeResolved));
  }

  /** A person's statement: salary credited and paid out, purchases and refunds, with the record behind each line. */
  async statement(personId: string, asker?: TerminalRow) {
    return this.repo.tx(async (r) => {
      const p = await r.getPerson(personId);
      // A terminal sees the statements of its own region's people only; anything else is one uniform "not found"
      // (so a terminal cannot learn who is enrolled elsewhere). The admin CLI passes no terminal.
      if (asker && (!p || p.region !== asker.region)) throw new ServerError('STATEMENT_NOT_FOUND', `no statement for ${personId} in this region`, 404);
      const salary = await r.accountHistory(account.salary(personId));
      const acct = p?.account_id ? await r.accountHistory(account.customer(p.account_id)) : [];
      const balances = [...(await r.listBalances(account.salary(personId))), ...(p?.account_id ? await r.listBalances(account.customer(p.account_id)) : [])];
      const line = (h: (typeof salary)[number]) => ({ at: h.created_at, memo: h.memo, currency: h.currency, amountMinor: Number(h.amount), record: h.terminal_id ? `${h.terminal_id}#${h.seq}` : null, source: h.source });
      return {
        personId,
        status: p?.status ?? 'unknown',
        payouts: salary.filter((h) => h.source === 'record').map(line),
        salaryCredits: salary.filter((h) => h.source === 'payroll').map(line),
        purchases: acct.map(line),
        balances: balances.map((b) => ({ account: b.account, currency: b.currency, balanceMinor: Number(b.balance) })),
      };
    });
  }
}

/** Request signatures seen, each until it expires; bounded (the oldest go first when full). */
class ReplayCache {
  private readonly until = new Map<string, number>();
  constructor(private readonly max = 1_000_000) {}
  /** False when `sig` was seen and has not expired. */
  add(sig: string, expiresAt: number, now: number): boolean {
    const seen = this.until.get(sig);
    if (seen !== undefined && seen > now) return false;
    if (this.until.size >= this.max) {
      for (const [k, exp] of this.until) {
        if (exp <= now || this.until.size >= this.max) this.until.delete(k);
        else break;
      }
    }
    this.until.set(sig, expiresAt);
    return true;
  }
}

export interface FeedEvent {
  seq: number;
  kind: string;
  key: string;
  data: Record<string, unknown>;
}

function voucherFeed(v: { id: string; person_id: string; period: string; amount: number; currency: string; lease_id: string }) {
  return { voucherId: v.id, personId: v.person_id, accountId: v.person_id, period: v.period, amountMinor: Number(v.amount), currency: v.currency, leaseId: v.lease_id };
}
