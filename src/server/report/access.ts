// A person's monthly report for a counter (issue 17), served only after the centre re-checks what the terminal
// claims: the request is a `report_request` record signed by the asking terminal (who asked: terminal, operator;
// for whom, which month), its request id is used once, the person is of the terminal's region, the person's PIN
// (sealed to the centre for this very request, protocol/report-pin.ts) is right under the attempt limit, and the
// terminal stays within its rate. Attempts, lockouts, the rate and the access log live in the database
// (migration 12), so every centre process shares them.
import { DEFAULT_PIN_POLICY, afterAttempt, isPinFormat, pinLocked, verifyPinHash, type AttemptState } from '../../protocol/pin.ts';
import { parseSignedRecord, type ReportRequestBody } from '../../protocol/record.ts';
import { openReportPin, reportPinKeyPair, sealedPinDigest, signReportPinKey, type ReportPinKey } from '../../protocol/report-pin.ts';
import { signReport } from '../../protocol/feed-page.ts';
import { ReportBody, ReportRequest, type ReportResponse } from '../../protocol/schemas.ts';
import { recordHash, verifyRecordSignature } from '../../protocol/sign.ts';
import { ServerError } from '../errors.ts';
import { checkOperator } from '../invariants.ts';
import type { RepoTx, TerminalRow } from '../repo.ts';
import { FOR_UPDATE, sql } from '../sql.ts';
import type { CentreContext } from '../central/context.ts';
import { personReport } from './report.ts';

/** Reports one terminal may ask for, by default: a counter serves people one at a time. */
export const DEFAULT_REPORTS_PER_MINUTE = 6;
export const DEFAULT_REPORTS_PER_DAY = 200;

/**
 * How a report request ended, as the access log keeps it ('checking': the PIN is being checked; 'interrupted': the
 * centre process stopped while checking it, see settleInterrupted; 'rate-limited': refused for the terminal's rate,
 * one row per terminal and minute, see logRateRefusal).
 */
export type ReportOutcome = 'served' | 'pin-wrong' | 'pin-locked' | 'pin-not-set' | 'not-found' | 'operator-not-granted' | 'rate-limited' | 'checking' | 'interrupted';

/**
 * A `checking` row older than this was left by a process that stopped mid-check: no check runs this long (one
 * scrypt hash, at most the cost pin-verifier.ts admits, a second or two), so it is settled as `interrupted`.
 */
export const REPORT_CHECK_STALE_MS = 5 * 60_000;

export interface ReportAccessRow {
  terminal_id: string;
  operator_id: string;
  person_id: string;
  month: string;
  request_id: string;
  seq: number;
  at: number;
  outcome: ReportOutcome;
}

type Decision =
  | { refuse: ServerError }
  | { check: { pinHash: string; next: AttemptState } };

export class ReportAccess {
  private readonly pinKeys: { publicHex: string; privatePkcs8b64: string };
  private readonly published: ReportPinKey;

  constructor(private readonly ctx: CentreContext) {
    this.pinKeys = reportPinKeyPair(ctx.identity.privateKey);
    this.published = signReportPinKey(ctx.identity.privateKey, this.pinKeys.publicHex);
  }

  /** The X25519 key counters seal PINs to, signed by the centre key they pinned at registration. */
  pinKey(): ReportPinKey {
    return this.published;
  }

  /**
   * The report for `asker`, when every check holds; a typed refusal otherwise. `request` is the signature of the
   * HTTP request: the answer is signed for it, so it cannot be replayed as the answer to another.
   */
  async serve(asker: TerminalRow, personId: string, input: unknown, request: string): Promise<ReportResponse> {
    const { record, sealedPin } = parseRequest(input);
    const rec = verifiedRecord(asker, personId, record);
    if (sealedPinDigest(sealedPin) !== rec.sealedPinDigest) throw new ServerError('REPORT_PIN_UNBOUND', 'the sealed PIN is not the one this signed request names', 400);
    let pin: string;
    try {
      pin = openReportPin(this.pinKeys.privatePkcs8b64, sealedPin, { terminalId: asker.id, requestId: rec.requestId, personId: rec.personId, month: rec.month });
    } catch {
      throw new ServerError('REPORT_PIN_UNBOUND', 'the sealed PIN does not belong to this report request', 400);
    }

    const now = this.ctx.now();
    const decision = await this.ctx.repo.tx((r) => this.decide(r, asker, rec, now));
    if ('refuse' in decision) throw decision.refuse;
    // The slow hash runs outside the transaction; the failure was counted before it, so a crash buys no guess.
    const ok = isPinFormat(pin) && (await verifyPinHash(pin, decision.check.pinHash));
    const { next } = decision.check;
    await this.ctx.repo.tx(async (r) => {
      if (ok) await r.conn.run(sql`UPDATE customer_pins SET failed = 0, locked_until = 0 WHERE person_id = ${rec.personId}`);
      await setOutcome(r, asker.id, rec.requestId, ok ? 'served' : pinLocked(next, now) ? 'pin-locked' : 'pin-wrong');
    });
    if (!ok && pinLocked(next, now)) throw lockedError(next.lockedUntilMs);
    if (!ok) {
      const left = DEFAULT_PIN_POLICY.maxAttempts - next.failed;
      throw new ServerError('REPORT_PIN_WRONG', `wrong PIN: ${left} attempt(s) left before it locks`, 403, left);
    }
    // Signed as it goes on the wire (the schema's fields only), for this terminal and this request.
    const body = ReportBody.parse({ ...(await personReport(this.ctx.repo, personId, rec.month)), asOfMs: this.ctx.now() });
    return { ...body, proof: signReport(this.ctx.identity.privateKey, asker.id, body, request) };
  }

  /**
   * Settles the checks a stopped process left `checking` (all of them at start-up; a terminal's own on its next
   * request): `interrupted`. The attempt was counted before the hash ran and stays counted (a crash buys no guess),
   * and nothing is served for it; a check young enough to be running at another process is left alone.
   */
  async settleInterrupted(terminalId?: string): Promise<number> {
    return this.ctx.repo.tx((r) => settleStaleChecks(r, this.ctx.now(), terminalId));
  }

  /** Who (terminal, operator) asked for a person's reports, when, for which month, and how it ended; newest first. */
  async accessLog(personId: string): Promise<ReportAccessRow[]> {
    const rows = await this.ctx.repo.tx((r) => r.conn.all<ReportAccessRow>(sql`SELECT terminal_id, operator_id, person_id, month, request_id, seq, at, outcome
      FROM report_access WHERE person_id = ${personId} ORDER BY at DESC, terminal_id, request_id`));
    return rows.map((x) => ({ ...x, seq: Number(x.seq), at: Number(x.at) }));
  }

  /** One transaction: rate, replay, region, PIN state; the attempt counted before the hash is checked. */
  private async decide(r: RepoTx, asker: TerminalRow, rec: ReportRequestBody, now: number): Promise<Decision> {
    const c = r.conn;
    // The terminal's row lock orders its report requests across centre processes: the count and the claim are one step.
    await c.get(sql`SELECT id FROM terminals WHERE id = ${asker.id}${FOR_UPDATE}`);
    await settleStaleChecks(r, now, asker.id);
    const perMinute = this.ctx.opts.reportsPerMinute ?? DEFAULT_REPORTS_PER_MINUTE;
    const perDay = this.ctx.opts.reportsPerDay ?? DEFAULT_REPORTS_PER_DAY;
    // The rate counts requests that were decided; the rate refusals logged beside them are not requests served or tried.
    const count = async (sinceMs: number) =>
      Number((await c.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM report_access WHERE terminal_id = ${asker.id} AND at > ${now - sinceMs} AND outcome <> ${'rate-limited'}`))!.n);
    const limited = async (message: string): Promise<Decision> => {
      await logRateRefusal(r, asker.id, rec, now);
      return { refuse: new ServerError('REPORT_RATE_LIMITED', message, 429) };
    };
    if ((await count(60_000)) >= perMinute) return limited(`more than ${perMinute} reports a minute from this terminal: wait a minute`);
    if ((await count(86_400_000)) >= perDay) return limited(`more than ${perDay} reports a day from this terminal`);

    const claimed = await c.run(sql`INSERT INTO report_access (terminal_id, request_id, seq, operator_id, person_id, month, at, outcome)
      VALUES (${asker.id}, ${rec.requestId}, ${rec.seq}, ${rec.operatorId}, ${rec.personId}, ${rec.month}, ${now}, ${'checking'})
      ON CONFLICT (terminal_id, request_id) DO NOTHING`);
    if (claimed.changes !== 1) return { refuse: new ServerError('REPORT_REPLAYED', `report request ${rec.requestId} was already used`, 409) };

    const refuse = async (outcome: ReportOutcome, err: ServerError): Promise<Decision> => {
      await setOutcome(r, asker.id, rec.requestId, outcome);
      return { refuse: err };
    };
    // Rule 16, as ingest checks it: a report is asked for at the till, by an operator the centre granted that work here.
    const operator = checkOperator(rec, await r.getOperatorGrant(asker.id, rec.operatorId));
    if (operator) return refuse('operator-not-granted', new ServerError('REPORT_OPERATOR_NOT_GRANTED', operator.message, 403));
    const person = await r.getPerson(rec.personId);
    // One answer for "no such person" and "another region's": a terminal learns nothing about other regions.
    if (!person || person.region !== asker.region) return refuse('not-found', new ServerError('REPORT_NOT_FOUND', `no report for ${rec.personId} in this region`, 404));
    const pinRow = await c.get<{ pin_hash: string; failed: number | string; locked_until: number | string }>(
      sql`SELECT pin_hash, failed, locked_until FROM customer_pins WHERE person_id = ${rec.personId}${FOR_UPDATE}`,
    );
    if (!pinRow) return refuse('pin-not-set', new ServerError('REPORT_PIN_NOT_SET', 'this person has no PIN yet: one is set at a supervised counter', 403));
    const state: AttemptState = { failed: Number(pinRow.failed), lockedUntilMs: Number(pinRow.locked_until) };
    if (pinLocked(state, now)) return refuse('pin-locked', lockedError(state.lockedUntilMs));
    const next = afterAttempt(state, false, now);
    await c.run(sql`UPDATE customer_pins SET failed = ${next.failed}, locked_until = ${next.lockedUntilMs} WHERE person_id = ${rec.personId}`);
    return { check: { pinHash: pinRow.pin_hash, next } };
  }
}

function lockedError(untilMs: number): ServerError {
  return new ServerError('REPORT_PIN_LOCKED', `too many wrong PINs: locked until ${new Date(untilMs).toISOString()}`, 423);
}

/**
 * A request refused for the rate, in the access log: the first one of each minute from a terminal, under a key no
 * request id can take (ids start with a letter or digit), so the request id stays unused (the counter may send it
 * again later). Why one row a minute: a terminal past its rate (a rooted one hammering the route) would otherwise
 * grow the table by its sending speed; this way at most 1,440 rows a day per terminal, which says that it was
 * refused, when, and for whom it first asked. The row is not counted in the rate (see decide), so logging neither
 * lengthens an honest counter's wait nor lets anyone push the count out of the window.
 */
async function logRateRefusal(r: RepoTx, terminalId: string, rec: ReportRequestBody, now: number): Promise<void> {
  const minuteKey = `~rate-limited:${Math.floor(now / 60_000)}`;
  await r.conn.run(sql`INSERT INTO report_access (terminal_id, request_id, seq, operator_id, person_id, month, at, outcome)
    VALUES (${terminalId}, ${minuteKey}, ${rec.seq}, ${rec.operatorId}, ${rec.personId}, ${rec.month}, ${now}, ${'rate-limited'})
    ON CONFLICT (terminal_id, request_id) DO NOTHING`);
}

/** Within the last day when one terminal's (the rate's own index range: cheap on every request); all at start-up. */
async function settleStaleChecks(r: RepoTx, now: number, terminalId?: string): Promise<number> {
  const before = now - REPORT_CHECK_STALE_MS;
  const { changes } = terminalId === undefined
    ? await r.conn.run(sql`UPDATE report_access SET outcome = ${'interrupted'} WHERE outcome = ${'checking'} AND at < ${before}`)
    : await r.conn.run(sql`UPDATE report_access SET outcome = ${'interrupted'}
        WHERE terminal_id = ${terminalId} AND at > ${now - 86_400_000} AND at < ${before} AND outcome = ${'checking'}`);
  return changes;
}

async function setOutcome(r: RepoTx, terminalId: string, requestId: string, outcome: ReportOutcome): Promise<void> {
  await r.conn.run(sql`UPDATE report_access SET outcome = ${outcome} WHERE terminal_id = ${terminalId} AND request_id = ${requestId}`);
}

function parseRequest(input: unknown): ReportRequest {
  const p = ReportRequest.safeParse(input);
  if (!p.success) throw new ServerError('REPORT_REQUEST_INVALID', 'a report request carries the signed report_request record and the sealed PIN', 400);
  return p.data;
}

/** The signed record, when it is a report request this terminal signed for this person (its hash and signature hold). */
function verifiedRecord(asker: TerminalRow, personId: string, record: unknown): ReportRequestBody {
  let signed;
  try {
    signed = parseSignedRecord(record);
  } catch (err) {
    throw new ServerError('REPORT_REQUEST_INVALID', (err as Error).message, 400);
  }
  const { hash, sig: _sig, ...body } = signed;
  if (body.type !== 'report_request') throw new ServerError('REPORT_REQUEST_INVALID', `expected a report_request record, got ${body.type}`, 400);
  if (body.terminalId !== asker.id) throw new ServerError('REPORT_REQUEST_INVALID', 'the report request names another terminal', 400);
  if (body.personId !== personId) throw new ServerError('REPORT_REQUEST_INVALID', 'the report request names another person than the path', 400);
  if (recordHash(body) !== hash || !asker.public_key || !verifyRecordSignature(signed, Buffer.from(asker.public_key, 'hex'))) {
    throw new ServerError('REPORT_SIGNATURE_INVALID', 'the report request is not signed by this terminal’s registered key', 401);
  }
  return body;
}
