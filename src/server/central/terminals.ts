// Terminals at the centre: the admin's registration codes, a terminal trading its code for a certificate,
// revocation, and the authentication of every terminal request (signature, clock window, replay).
import { randomBytes } from 'node:crypto';
import { GENESIS_HASH, SYSTEM_OPERATOR } from '../../protocol/record.ts';
import { issueCertificate, outdatedRequestMessage, parseAuthorization, requestMessage, sha256Hex, signedRequestMessage, type Certificate, type SignedTime } from '../../protocol/crypto.ts';
import { ServerError } from '../errors.ts';
import { claimOperatorCode, issueOperatorCode, listOperatorCodes, revokeOperatorCode, type OperatorClaim, type OperatorCodeRow } from '../operator-codes.ts';
import { grantAfterRelease } from '../leases.ts';
import { publicKeyProblem, verifySignature } from '../sign.ts';
import { OperatorGrant, TerminalLimits } from '../../protocol/schemas.ts';
import type { OperatorGrantRow, TerminalRow } from '../repo.ts';
import type { CentreContext } from './context.ts';

/** How often a centre process forgets the nonces whose window has closed. */
const PURGE_EVERY_MS = 60_000;

/**
 * Registration codes are 72 bits, but guessing is still throttled: after this many failed registrations from one
 * address within a minute, every attempt from it is refused until the minute is over. Counted in the database, so
 * every `--workers` process and a restarted one see the same count.
 */
export const REGISTER_FAILURES_PER_MINUTE = 10;
const REGISTER_WINDOW_MS = 60_000;

export interface AuthOptions {
  /**
   * A terminal's read (feed page, report): its statements run on the side connections (Repo.readTx), so a read is
   * not queued behind an upload burst waiting for a pooled connection.
   */
  read?: boolean;
  /**
   * The terminal whose header `checkHeader` passed before this request's body was read: the body is then only held
   * to the hash that was signed. An upload's transaction re-reads the row under its lock and refuses a key changed
   * or a terminal revoked in between.
   */
  checked?: TerminalRow;
}

export class Terminals {
  /** When this process last forgot expired nonces. */
  private lastPurge = 0;
  /** When this process last forgot addresses whose registration window has closed. */
  private lastRegisterPurge = 0;

  constructor(private readonly ctx: CentreContext) {}

  /** Admin: creates a pending terminal and its one-time registration code (shown once, stored hashed). */
  async add(t: { id?: string; name: string; branch: string; region: string; codeTtlMs?: number }): Promise<{ terminalId: string; code: string; expiresAt: number }> {
    const { repo, now } = this.ctx;
    const terminalId = t.id ?? `T-${randomBytes(4).toString('hex')}`;
    const code = randomBytes(9).toString('base64url'); // 12 chars, 72 bits
    const expiresAt = now() + (t.codeTtlMs ?? 7 * 24 * 3600_000);
    await repo.tx(async (r) => {
      if (await r.getTerminal(terminalId)) throw new ServerError('TERMINAL_EXISTS', `terminal ${terminalId} already exists`, 409);
      await r.insertTerminal({ id: terminalId, name: t.name, branch: t.branch, region: t.region, code_hash: sha256Hex(code), code_expires: expiresAt, created_at: now(), head_hash: GENESIS_HASH });
    });
    return { terminalId, code, expiresAt };
  }

  /** True when `key` (an address, or a terminal's code claims) failed too often this minute (every centre process sees the same count). */
  private async overFailureLimit(key: string): Promise<boolean> {
    return (await this.ctx.repo.tx((r) => r.registerFailures(key, this.ctx.now()))) >= REGISTER_FAILURES_PER_MINUTE;
  }

  /** REGISTER_THROTTLED when the address has failed too often this minute. */
  async assertRegistrationAllowed(from: string): Promise<void> {
    if (await this.overFailureLimit(from)) {
      throw new ServerError('REGISTER_THROTTLED', 'too many failed registrations from this address: wait a minute', 429);
    }
  }

  /** Counts a failed registration from an address, in the database. */
  async noteRegistrationFailure(from: string): Promise<void> {
    const now = this.ctx.now();
    await this.ctx.repo.tx(async (r) => {
      if (now - this.lastRegisterPurge > PURGE_EVERY_MS) {
        this.lastRegisterPurge = now;
        await r.purgeRegisterFailures(now);
      }
      await r.noteRegisterFailure(from, now, REGISTER_WINDOW_MS);
    });
  }

  /** Terminal: trades the one-time code and its public keys for a server-signed certificate. */
  async register(req: { code: string; publicKey: string; encKey: string }): Promise<{ certificate: Certificate; serverPublicKey: string; time: SignedTime }> {
    const { repo, now, identity } = this.ctx;
    const cert = await repo.tx(async (r) => {
      const t = await r.getTerminalByCode(sha256Hex(req.code));
      if (!t) throw new ServerError('REGISTRATION_CODE_INVALID', 'registration code is unknown or already used', 403);
      if (t.code_expires !== null && Number(t.code_expires) < now()) throw new ServerError('REGISTRATION_CODE_EXPIRED', 'registration code has expired', 403);
      // A key signatures can be checked under (canonical, not of small order: under such a key a constant signature
      // verifies for every message, and the terminal could disown its records). Refused before the code is used up.
      const keyProblem = publicKeyProblem(/^[0-9a-f]{64}$/.test(req.publicKey) ? Buffer.from(req.publicKey, 'hex') : Buffer.alloc(0));
      if (keyProblem) throw new ServerError('PUBLIC_KEY_UNUSABLE', `terminal public key refused: ${keyProblem}`, 400);
      const certificate = issueCertificate(identity, {
        v: 1, terminalId: t.id, name: t.name, branch: t.branch, region: t.region, publicKey: req.publicKey, encKey: req.encKey, issuedAt: now(),
      });
      await r.activateTerminal(t.id, req.publicKey, req.encKey, JSON.stringify(certificate));
      await r.touchTerminal(t.id, now());
      return certificate;
    });
    return { certificate: cert, serverPublicKey: identity.publicKeyHex, time: this.ctx.signedTime() };
  }

  async revoke(id: string): Promise<void> {
    const { repo, now } = this.ctx;
    await repo.tx(async (r) => {
      if (!(await r.getTerminal(id))) throw new ServerError('TERMINAL_UNKNOWN', `terminal ${id} is unknown`, 404);
      if (!(await r.revokeTerminal(id, now()))) return;
      await r.appendFeed('all', 'terminal_revoked', id, { terminalId: id }, now());
      // Its lease moves that wait complete now: a revoked counter can give nothing back, and revoking it the admin
      // accepted what it may have paid (as a `lease move` from a revoked holder does, payroll.ts leaseMove).
      for (const v of await r.leasesMovingFrom(id)) await grantAfterRelease(r, v, now());
    });
  }

  /**
   * Admin: a terminal's offline limits. They travel only in the feed page the centre signs for that terminal, which
   * stores them sealed and anchored (src/ledger/local-trust.ts): a limit is the centre's decision, not the counter's.
   */
  async setLimits(id: string, limits: unknown): Promise<void> {
    const parsed = TerminalLimits.safeParse(limits);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new ServerError('LIMITS_INVALID', `offline limits: ${i.path.join('.') || '(root)'}: ${i.message}`, 400);
    }
    const { repo, now } = this.ctx;
    await repo.tx(async (r) => {
      const t = await r.getTerminal(id);
      if (!t) throw new ServerError('TERMINAL_UNKNOWN', `terminal ${id} is unknown`, 404);
      if (t.status === 'revoked') throw new ServerError('TERMINAL_REVOKED', `terminal ${id} is revoked`, 403);
      const at = now();
      await r.appendFeed(`terminal:${id}`, 'terminal_limits', id, { terminalId: id, limits: parsed.data }, at);
      await r.addTerminalLimits(id, at, parsed.data); // the history ingest re-checks offline purchases against
    });
  }

  /**
   * Admin: an operator's role at a terminal (or the operator withdrawn: active false). Like the limits, it travels
   * only in the feed page the centre signs for that terminal, which stores it sealed and anchored; and ingest
   * accepts a supervisor's approval only from an operator granted that role at the record's terminal.
   */
  async grantOperator(terminalId: string, grant: unknown): Promise<void> {
    const parsed = OperatorGrant.safeParse(grant);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new ServerError('OPERATOR_INVALID', `operator grant: ${i.path.join('.') || '(root)'}: ${i.message}`, 400);
    }
    const g = parsed.data;
    // SYSTEM_OPERATOR signs what the terminal does on its own: granted a role, it would sign for no one at the counter
    // (withdrawing such a grant, made before this rule, stays possible).
    if (g.operatorId === SYSTEM_OPERATOR && g.active) throw new ServerError('OPERATOR_INVALID', `operator grant: "${SYSTEM_OPERATOR}" is the terminal's own operator id, not a person's`, 400);
    const { repo, now } = this.ctx;
    await repo.tx(async (r) => {
      const t = await r.getTerminal(terminalId);
      if (!t) throw new ServerError('TERMINAL_UNKNOWN', `terminal ${terminalId} is unknown`, 404);
      if (t.status === 'revoked') throw new ServerError('TERMINAL_REVOKED', `terminal ${terminalId} is revoked`, 403);
      await r.putOperatorGrant({ terminal_id: terminalId, operator_id: g.operatorId, name: g.name, role: g.role, active: g.active ? 1 : 0, updated_at: now() });
      await r.appendFeed(`terminal:${terminalId}`, 'operator_grant', g.operatorId, { terminalId, ...g }, now());
    });
  }

  listOperators(): Promise<OperatorGrantRow[]> {
    return this.ctx.repo.tx((r) => r.listOperatorGrants());
  }

  /** Admin: a one-time code that lets `terminalId` enrol the palm of `operatorId`, granted there (operator-codes.ts). */
  issueOperatorCode(terminalId: string, operatorId: string, ttlMs?: number): Promise<{ codeId: string; code: string; expiresAt: number }> {
    return this.ctx.repo.tx((r) => issueOperatorCode(r, terminalId, operatorId, this.ctx.now(), ttlMs));
  }

  listOperatorCodes(): Promise<OperatorCodeRow[]> {
    return this.ctx.repo.tx((r) => listOperatorCodes(r));
  }

  revokeOperatorCode(codeId: string): Promise<void> {
    return this.ctx.repo.tx((r) => revokeOperatorCode(r, codeId, this.ctx.now()));
  }

  /**
   * Terminal (authenticated): claims an operator enrolment code. Guessing is throttled like registration, but per
   * terminal (the caller is known): REGISTER_FAILURES_PER_MINUTE failed claims, then every claim is refused for the
   * rest of the minute, counted in the database for every centre process. A refusal is committed as a failure.
   */
  async claimOperatorCode(terminal: TerminalRow, code: string): Promise<OperatorClaim> {
    const key = `operator-code:${terminal.id}`;
    if (await this.overFailureLimit(key)) {
      throw new ServerError('OPERATOR_CODE_THROTTLED', 'too many failed operator enrolment codes from this terminal: wait a minute', 429);
    }
    try {
      return await this.ctx.repo.tx((r) => claimOperatorCode(r, terminal.id, code, this.ctx.now()));
    } catch (err) {
      if (err instanceof ServerError && err.status === 403) await this.noteRegistrationFailure(key);
      throw err;
    }
  }

  list(): Promise<TerminalRow[]> {
    return this.ctx.repo.tx((r) => r.listTerminals());
  }

  /**
   * Checks a terminal request's signature header; returns the active terminal. An unknown, unregistered or
   * wrongly signed request gets one uniform AUTH_FAILED (no enumerating terminal ids); only a request the
   * terminal's key really signed learns more (revoked, outdated, clock off, replayed). Each request's nonce is
   * claimed once in the database, shared by every centre process and kept across restarts, until the time
   * window (minutes, not a day) has closed and the request would be refused for its time anyway. A request whose
   * header `checkHeader` passed before its body was read (`opts.checked`) is only held to the body it signed.
   */
  async authenticate(header: string | undefined, method: string, path: string, body: Buffer | string, opts: AuthOptions = {}): Promise<TerminalRow> {
    const a = parseAuthorization(header);
    if (!a) return this.authFail('AUTH_MISSING', 'missing or malformed Authorization header (PalmPay <terminal>:<ms>:<nonce>:<body sha256>:<sig>)', 401);
    const bodySha256 = sha256Hex(body);
    if (opts.checked) {
      if (a.terminalId !== opts.checked.id || a.bodySha256 !== bodySha256) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
      return opts.checked;
    }
    const on = opts.read ? 'side' : 'main';
    const t = await this.ctx.repo.getTerminal(a.terminalId, on);
    if (!t || t.status === 'pending' || !t.public_key) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
    if (a.nonce === undefined || a.bodySha256 === undefined) {
      // An older terminal's header: told to update only when its key really signed it.
      const message = a.nonce === undefined ? outdatedRequestMessage(method, path, a.ms, body) : requestMessage(method, path, a.ms, a.nonce, body);
      if (!verifySignature(t.public_key, message, a.sig)) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
      return this.outdated();
    }
    if (a.bodySha256 !== bodySha256) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
    return this.checkSigned(t, { ...a, nonce: a.nonce, bodySha256 }, method, path, on);
  }

  /**
   * Everything `authenticate` checks but the body (the signature over the body's hash the header states, the
   * terminal's status, the clock, the nonce), before the body is read: a body is buffered only for a request the
   * terminal's key signed, so knowing a terminal id is not enough to make the centre hold bodies in its name.
   * `authenticate(…, { checked })` then holds the body to the hash. An older terminal's header (no body hash) is
   * AUTH_OUTDATED here, whatever its id: it cannot be checked without its body.
   */
  async checkHeader(header: string | undefined, method: string, path: string): Promise<TerminalRow> {
    const a = parseAuthorization(header);
    if (!a) return this.authFail(header ? 'AUTH_FAILED' : 'AUTH_MISSING', header ? 'request authentication failed' : 'missing or malformed Authorization header (PalmPay <terminal>:<ms>:<nonce>:<body sha256>:<sig>)', 401);
    if (a.nonce === undefined || a.bodySha256 === undefined) return this.outdated();
    const t = await this.ctx.repo.getTerminal(a.terminalId);
    if (!t || t.status === 'pending' || !t.public_key) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
    return this.checkSigned(t, { ...a, nonce: a.nonce, bodySha256: a.bodySha256 }, method, path, 'main');
  }

  private async checkSigned(t: TerminalRow, a: { ms: number; nonce: string; bodySha256: string; sig: string }, method: string, path: string, on: 'main' | 'side'): Promise<TerminalRow> {
    if (!verifySignature(t.public_key!, signedRequestMessage(method, path, a.ms, a.nonce, a.bodySha256), a.sig)) return this.authFail('AUTH_FAILED', 'request authentication failed', 401);
    if (t.status === 'revoked') return this.authFail('TERMINAL_REVOKED', `terminal ${t.id} is revoked`, 403);
    const window = this.ctx.opts.maxSkewMs ?? 5 * 60_000;
    const now = this.ctx.now();
    if (Math.abs(now - a.ms) > window) return this.authFail('AUTH_CLOCK', 'request time is too far from the server time', 401);
    if (now - this.lastPurge > PURGE_EVERY_MS) {
      // In the background: housekeeping, not this request's business (it waited for a pooled connection before).
      // A failed purge is tried again a minute later; the expired nonces it left refuse nothing.
      this.lastPurge = now;
      void this.ctx.repo.tx((r) => r.purgeRequestNonces(now - window)).catch(() => undefined);
    }
    // Kept past a.ms + window (refused for its time from then on), with a window's margin for the clocks of other processes.
    const fresh = await this.ctx.repo.claimRequestNonce(t.id, a.nonce, a.ms + 2 * window, on);
    if (!fresh) return this.authFail('AUTH_REPLAYED', 'this signed request was already received (a replay)', 401);
    return t;
  }

  private outdated(): never {
    return this.authFail('AUTH_OUTDATED', 'this terminal signs requests in an older format (without a nonce, or without the body\'s hash in the header) that the centre no longer takes: update the terminal software', 401);
  }

  private authFail(code: string, message: string, status: number): never {
    this.ctx.counters.authFailures++;
    throw new ServerError(code, message, status);
  }
}
