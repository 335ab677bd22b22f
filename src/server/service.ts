// The centre's application service, as one facade over its parts (src/server/central/), each with its own reason
// to change: terminals (registration, request authentication), uploads (ingestion), the enrolment registry,
// money in (payroll, leases, deposits), the feed, statements and review. Each public method is one transaction
// over the repository; HTTP and the CLI are thin layers over this. Opening it loads (or migrates) the keys.
import { serverIdentity, type Certificate, type ServerIdentity, type SignedTime } from '../protocol/crypto.ts';
import { signBoundTime, type BoundTime } from '../protocol/feed-page.ts';
import type { RecordResult, ReportResponse } from '../protocol/schemas.ts';
import { ServerError } from './errors.ts';
import { keyDirFor, loadCentreKeys, openLegacyTemplates, sealTemplates, secureSqliteFile } from './keys.ts';
import type { CentreIndex } from './palm-index.ts';
import { Repo, type OperatorGrantRow, type TerminalRow } from './repo.ts';
import type { OperatorClaim, OperatorCodeRow } from './operator-codes.ts';
import { CentreContext, type CentralOptions, type Counters } from './central/context.ts';
import { Enrolments } from './central/enrolments.ts';
import { Feed, FEED_PAGE, type FeedPage } from './central/feed.ts';
import { MoneyIn } from './central/money-in.ts';
import { Statements } from './central/statements.ts';
import { ReportAccess } from './report/access.ts';
import { Terminals, type AuthOptions } from './central/terminals.ts';
import { Uploads } from './central/uploads.ts';
import { Billing } from './billing/billing.ts';

export { ServerError } from './errors.ts';
export type { CentralOptions, Counters } from './central/context.ts';
export { FEED_PAGE, type FeedEvent } from './central/feed.ts';

export class Central {
  readonly repo: Repo;
  readonly identity: ServerIdentity;
  readonly counters: Counters;
  /** This process's 1:N index of everyone enrolled (palm-index.ts), kept current by polling the change log. */
  readonly palmIndex: CentreIndex;
  readonly terminals: Terminals;
  readonly uploads: Uploads;
  readonly enrolments: Enrolments;
  readonly moneyIn: MoneyIn;
  readonly feeds: Feed;
  readonly statements: Statements;
  /** Counters' report requests: signed, PIN checked here, rate-limited, logged (report/access.ts). */
  readonly reports: ReportAccess;

  private constructor(private readonly ctx: CentreContext) {
    this.repo = ctx.repo;
    this.identity = ctx.identity;
    this.counters = ctx.counters;
    this.feeds = new Feed(ctx);
    this.terminals = new Terminals(ctx);
    this.enrolments = new Enrolments(ctx, this.feeds);
    this.palmIndex = this.enrolments.palmIndex;
    this.uploads = new Uploads(ctx, this.feeds, this.enrolments);
    this.moneyIn = new MoneyIn(ctx, this.feeds);
    this.statements = new Statements(ctx);
    this.reports = new ReportAccess(ctx);
  }

  static async open(db: string, opts: CentralOptions = {}): Promise<Central> {
    secureSqliteFile(db); // 0600 in a 0700 folder, before SQLite creates it
    const repo = await Repo.open(db, opts.storage);
    // The keys live in a 0600 file outside the database (src/server/keys.ts). An older centre kept its signing key
    // in the meta table: it moves out here, once; its templates move into the sealed blob below.
    const keys = await repo.tx(async (r) => {
      const legacy = await r.getMeta('server_key');
      const k = loadCentreKeys(keyDirFor(db, opts.keyDir), legacy);
      if (legacy !== undefined) {
        if (legacy !== k.serverKey) throw new ServerError('CENTRE_KEYS_MISMATCH', 'the database holds another centre key than the key file: refusing to guess which is right', 500);
        await r.deleteMeta('server_key');
      }
      return { identity: serverIdentity(k.serverKey), templateKey: Buffer.from(k.templateKey, 'base64'), migrated: legacy !== undefined };
    });
    const moved = await moveLegacyTemplates(repo, keys.templateKey, opts.say ?? (() => undefined));
    // The old key and the old templates column would otherwise linger in SQLite's free pages.
    if ((keys.migrated || moved > 0) && repo.db.dialect === 'sqlite') await repo.db.exec('VACUUM');
    const central = new Central(new CentreContext(repo, keys.identity, keys.templateKey, opts));
    await central.reports.settleInterrupted(); // report PIN checks a stopped process left half done (report/access.ts)
    return central;
  }

  /**
   * Loads the palm index from its snapshot and keeps following the change log every `pollMs` (default 1 s), so
   * every process sees every enrolment; a duplicate check also catches up first. Resolves once loaded.
   */
  startIndex(pollMs = 1000): Promise<void> {
    return this.enrolments.startIndex(pollMs);
  }

  async close(): Promise<void> {
    await this.enrolments.close();
    await this.uploads.close();
    await this.repo.close();
  }

  signedTime(): SignedTime {
    return this.ctx.signedTime();
  }

  /** The time signed together with a caller's nonce: a terminal correcting its clock believes only this. */
  boundTime(nonce: string): BoundTime {
    return signBoundTime(this.identity.privateKey, this.ctx.now(), nonce);
  }

  // ---- terminals (central/terminals.ts) ----
  addTerminal(t: { id?: string; name: string; branch: string; region: string; codeTtlMs?: number }): Promise<{ terminalId: string; code: string; expiresAt: number }> {
    return this.terminals.add(t);
  }
  registerTerminal(req: { code: string; publicKey: string; encKey: string }): Promise<{ certificate: Certificate; serverPublicKey: string; time: SignedTime }> {
    return this.terminals.register(req);
  }
  /** REGISTER_THROTTLED when this address failed to register too often this minute (counted in the database). */
  assertRegistrationAllowed(from: string): Promise<void> {
    return this.terminals.assertRegistrationAllowed(from);
  }
  noteRegistrationFailure(from: string): Promise<void> {
    return this.terminals.noteRegistrationFailure(from);
  }
  revokeTerminal(id: string): Promise<void> {
    return this.terminals.revoke(id);
  }
  setTerminalLimits(id: string, limits: unknown): Promise<void> {
    return this.terminals.setLimits(id, limits);
  }
  grantOperator(terminalId: string, grant: unknown): Promise<void> {
    return this.terminals.grantOperator(terminalId, grant);
  }
  listOperators(): Promise<OperatorGrantRow[]> {
    return this.terminals.listOperators();
  }
  /** Admin: a one-time operator enrolment code for (terminal, operator) (operator-codes.ts): shown once, stored hashed. */
  issueOperatorCode(terminalId: string, operatorId: string, ttlMs?: number): Promise<{ codeId: string; code: string; expiresAt: number }> {
    return this.terminals.issueOperatorCode(terminalId, operatorId, ttlMs);
  }
  listOperatorCodes(): Promise<OperatorCodeRow[]> {
    return this.terminals.listOperatorCodes();
  }
  revokeOperatorCode(codeId: string): Promise<void> {
    return this.terminals.revokeOperatorCode(codeId);
  }
  /** Terminal: proves an operator enrolment code online before it captures the operator's palm (throttled). */
  claimOperatorCode(terminal: TerminalRow, code: string): Promise<OperatorClaim> {
    return this.terminals.claimOperatorCode(terminal, code);
  }
  listTerminals(): Promise<TerminalRow[]> {
    return this.terminals.list();
  }
  authenticate(header: string | undefined, method: string, path: string, body: Buffer | string, opts?: AuthOptions): Promise<TerminalRow> {
    return this.terminals.authenticate(header, method, path, body, opts);
  }
  checkRequestHeader(header: string | undefined, method: string, path: string): Promise<TerminalRow> {
    return this.terminals.checkHeader(header, method, path);
  }

  // ---- uploads (central/uploads.ts) ----
  ingest(terminalId: string, records: unknown[], known?: TerminalRow): Promise<RecordResult[]> {
    return this.uploads.ingest(terminalId, records, known);
  }
  importRecords(records: unknown[]): Promise<Map<string, RecordResult[]>> {
    return this.uploads.importRecords(records);
  }

  // ---- enrolment registry (central/enrolments.ts) ----
  /** Terminal: the capture of a template update it signed (issue 19; decided by template-slots.ts). */
  uploadTemplateCapture(terminal: TerminalRow, updateId: string, captureB64: string): ReturnType<Enrolments['uploadTemplateCapture']> {
    return this.enrolments.uploadTemplateCapture(terminal, updateId, captureB64);
  }
  uploadTemplates(terminal: TerminalRow, personId: string, templatesB64: string[], moduleFeature?: { family: string; feature: string }): Promise<{ status: string; duplicateOf?: string }> {
    return this.enrolments.uploadTemplates(terminal, personId, templatesB64, moduleFeature);
  }
  settlePerson(personId: string, decision: 'confirm' | 'revoke'): Promise<void> {
    return this.enrolments.settle(personId, decision);
  }

  // ---- money in (central/money-in.ts) ----
  creditAccount(accountId: string, amountMinor: number, currency: string): Promise<void> {
    return this.moneyIn.creditAccount(accountId, amountMinor, currency);
  }
  importPayroll(csv: string): Promise<{ vouchers: number; byTerminal: Record<string, number> }> {
    return this.moneyIn.importPayroll(csv);
  }
  moveLease(voucherId: string, toTerminal: string): ReturnType<MoneyIn['moveLease']> {
    return this.moneyIn.moveLease(voucherId, toTerminal);
  }
  /** Admin: unpaid vouchers and who holds each lease; `moving`: only the moves waiting for the holder's release. */
  openVouchers(moving = false) {
    return this.repo.tx((r) => r.openVouchers(moving));
  }

  // ---- billing (billing/billing.ts) ----
  /** Billers, bills and mandates; a direct debit's new allowance goes out on this centre's feed in its transaction. */
  billing(now?: () => number): Billing {
    return new Billing(this.repo, this.feeds, now ?? this.ctx.now);
  }

  // ---- feed (central/feed.ts) ----
  feed(terminal: TerminalRow, cursor: number, limit = FEED_PAGE, request = ''): Promise<FeedPage> {
    return this.feeds.page(terminal, cursor, limit, request);
  }

  /** A person's financial report for a month, for a counter: only after the centre checked the request and the PIN. */
  counterReport(asker: TerminalRow, personId: string, body: unknown, request: string): Promise<ReportResponse> {
    return this.reports.serve(asker, personId, body, request);
  }

  // ---- statements and review (central/statements.ts) ----
  statement(personId: string) {
    return this.statements.statement(personId);
  }
  reviewList(includeResolved = false) {
    return this.statements.reviewList(includeResolved);
  }
  resolveReview(id: number): Promise<boolean> {
    return this.statements.resolveReview(id);
  }
}

/**
 * Moves every person's templates out of the JSON column of before centre migration 18 (each sealed on its own, or
 * plaintext from older still) into the one sealed blob, a page a transaction, before the centre serves. Several
 * processes starting at once share the work (a row moved by one is skipped by the others). A row that does not open
 * under this key stops the start with TEMPLATE_SEAL_BROKEN and stays as it was: the wrong key file, most likely.
 * Returns how many people it moved.
 */
async function moveLegacyTemplates(repo: Repo, templateKey: Buffer, say: (line: string) => void): Promise<number> {
  const PAGE = 1000;
  const started = performance.now();
  let total: number | undefined;
  let moved = 0;
  let told = 0;
  let after = '';
  for (;;) {
    const page = await repo.tx(async (r) => {
      const rows = await r.personsWithLegacyTemplates(after, PAGE);
      if (rows.length > 0 && total === undefined) {
        // About 30 s per 10⁵ people (README, issue 16r): whoever started the centre is told why it does not answer yet.
        total = await r.countLegacyTemplates();
        say(`palmpay server: moving the templates of ${people(total)} into one sealed blob each (centre migration 18), once, before serving`);
      }
      moved += await r.moveLegacyTemplates(rows.map((p) => ({ id: p.id, sealed: sealTemplates(templateKey, p.id, openLegacyTemplates(templateKey, p.id, p.templates_json)) })));
      if (rows.length > 0) after = rows[rows.length - 1]!.id;
      return rows.length;
    });
    if (total !== undefined && moved - told >= Math.max(PAGE, total / 10) && page === PAGE) {
      told = moved;
      say(`palmpay server: templates moved for ${moved} of ${total} people`);
    }
    if (page < PAGE) break;
  }
  if (total !== undefined) say(`palmpay server: templates moved for ${people(moved)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return moved;
}

const people = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;
