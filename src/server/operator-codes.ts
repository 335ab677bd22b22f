// Operator enrolment codes (issue 14, "the first operator"): an operator signs in at a counter with their palm, and
// enrolling a palm needs an enroller signed in, so nobody could ever sign in at a new region's first counter. The
// admin issues a one-time code bound to (terminal, operator) for an operator granted a role there; the counter proves
// it online (a terminal-authenticated request) and the centre marks it claimed; the counter then captures the palm
// with the enrolment flow's own rules and signs an `enrolment` naming the code's id (`enrolCodeId`); that record is
// accepted once, and marks the code used. Every other enrolment of a granted operator's id goes to review
// (invariants.ts rule 14): a terminal's key alone never puts a palm behind an operator's role.
//
// Code lifecycle: open → claimed (by its terminal; a repeated claim from it answers the same, the answer may have been
// lost on a slow link) → used (by the one enrolment record). Open or claimed codes expire or are revoked by the admin.
// Codes are 72 random bits, stored only as SHA-256; failed claims are throttled per terminal (Terminals).
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../protocol/crypto.ts';
import type { EnrolmentBody } from '../protocol/record.ts';
import { ServerError } from './errors.ts';
import { checkOperatorEnrolment, type Refusal } from './invariants.ts';
import type { RepoTx } from './repo.ts';
import { FOR_UPDATE, sql } from './sql.ts';

/** How long an operator enrolment code may wait to be claimed, unless the admin says otherwise: a day. */
export const OPERATOR_CODE_TTL_MS = 24 * 3600_000;

export type OperatorCodeStatus = 'open' | 'claimed' | 'used' | 'revoked';
export interface OperatorCodeRow {
  id: string;
  terminal_id: string;
  operator_id: string;
  code_hash: string;
  status: OperatorCodeStatus;
  created_at: number;
  expires_at: number;
  claimed_at: number | null;
  used_by: string | null;
  updated_at: number;
}

/** What a counter learns when its claim succeeds: whose palm it now enrols, and under which code id. */
export interface OperatorClaim {
  codeId: string;
  operatorId: string;
  name: string;
  role: string;
}

function codeById(r: RepoTx, id: string): Promise<OperatorCodeRow | undefined> {
  return r.conn.get<OperatorCodeRow>(sql`SELECT * FROM operator_enrol_codes WHERE id = ${id}${FOR_UPDATE}`);
}

/** True when the centre holds a palm (any person row) under this id. */
async function hasPerson(r: RepoTx, personId: string): Promise<boolean> {
  return (await r.getPerson(personId)) !== undefined;
}

/**
 * Admin: a new code for (terminal, operator). The operator must hold an active grant there and have no palm at the
 * centre yet; any earlier live code of the pair is revoked (one live code per pair). The code is returned once.
 */
export async function issueOperatorCode(r: RepoTx, terminalId: string, operatorId: string, now: number, ttlMs = OPERATOR_CODE_TTL_MS): Promise<{ codeId: string; code: string; expiresAt: number }> {
  const t = await r.getTerminal(terminalId);
  if (!t) throw new ServerError('TERMINAL_UNKNOWN', `terminal ${terminalId} is unknown`, 404);
  if (t.status === 'revoked') throw new ServerError('TERMINAL_REVOKED', `terminal ${terminalId} is revoked`, 403);
  const g = await r.getOperatorGrant(terminalId, operatorId);
  if (!g || Number(g.active) !== 1) throw new ServerError('OPERATOR_UNKNOWN', `operator ${operatorId} has no active grant at terminal ${terminalId}: grant a role first`, 404);
  if (await hasPerson(r, operatorId)) throw new ServerError('OPERATOR_PALM_EXISTS', `a palm is already enrolled under ${operatorId}`, 409);
  await r.conn.run(sql`UPDATE operator_enrol_codes SET status = 'revoked', updated_at = ${now}
    WHERE terminal_id = ${terminalId} AND operator_id = ${operatorId} AND status IN ('open', 'claimed')`);
  const codeId = `OC-${randomBytes(6).toString('hex')}`;
  const code = randomBytes(9).toString('base64url'); // 12 chars, 72 bits, as a registration code
  const expiresAt = now + ttlMs;
  await r.conn.run(sql`INSERT INTO operator_enrol_codes (id, terminal_id, operator_id, code_hash, status, created_at, expires_at, claimed_at, used_by, updated_at)
    VALUES (${codeId}, ${terminalId}, ${operatorId}, ${sha256Hex(code)}, 'open', ${now}, ${expiresAt}, NULL, NULL, ${now})`);
  return { codeId, code, expiresAt };
}

/** One refusal for every code a terminal may not use (unknown, another terminal's, used, revoked): no oracle. */
const invalid = () => new ServerError('OPERATOR_CODE_INVALID', 'operator enrolment code is unknown, used, revoked or not for this terminal', 403);

/**
 * Terminal: proves a code online. Only the terminal it was issued for may claim it, while it is open (or claimed by
 * that terminal already: the same answer again), unexpired, its operator still granted there and without a palm.
 */
export async function claimOperatorCode(r: RepoTx, terminalId: string, code: string, now: number): Promise<OperatorClaim> {
  const row = await r.conn.get<OperatorCodeRow>(sql`SELECT * FROM operator_enrol_codes WHERE code_hash = ${sha256Hex(code)}${FOR_UPDATE}`);
  if (!row || row.terminal_id !== terminalId || (row.status !== 'open' && row.status !== 'claimed')) throw invalid();
  if (Number(row.expires_at) <= now) throw new ServerError('OPERATOR_CODE_EXPIRED', 'operator enrolment code has expired: ask the centre for a new one', 403);
  const g = await r.getOperatorGrant(terminalId, row.operator_id);
  if (!g || Number(g.active) !== 1) throw invalid();
  if (await hasPerson(r, row.operator_id)) throw new ServerError('OPERATOR_PALM_EXISTS', `a palm is already enrolled under ${row.operator_id}`, 409);
  if (row.status === 'open') await r.conn.run(sql`UPDATE operator_enrol_codes SET status = 'claimed', claimed_at = ${now}, updated_at = ${now} WHERE id = ${row.id}`);
  return { codeId: row.id, operatorId: row.operator_id, name: g.name, role: g.role };
}

export function listOperatorCodes(r: RepoTx): Promise<OperatorCodeRow[]> {
  return r.conn.all<OperatorCodeRow>(sql`SELECT * FROM operator_enrol_codes ORDER BY created_at, id`);
}

/** Admin: withdraws a code not yet used (a claimed one too: its enrolment record then goes to review). */
export async function revokeOperatorCode(r: RepoTx, codeId: string, now: number): Promise<void> {
  const row = await codeById(r, codeId);
  if (!row) throw new ServerError('OPERATOR_CODE_UNKNOWN', `operator enrolment code ${codeId} is unknown`, 404);
  if (row.status === 'used') throw new ServerError('OPERATOR_CODE_USED', `operator enrolment code ${codeId} was already used by ${row.used_by}; revoke the operator's grant or the person instead`, 409);
  await r.conn.run(sql`UPDATE operator_enrol_codes SET status = 'revoked', updated_at = ${now} WHERE id = ${codeId} AND status <> 'used'`);
}

/**
 * Ingest (rule 14), for an enrolment record in its batch's transaction: whether it may put a palm under an operator's
 * id. A record naming a code is accepted only with that code claimed by this terminal for this very person, and uses
 * it up; a record naming no code for an id the centre granted a role anywhere is refused. Nothing is changed on a
 * refusal; the caller sends the record to review.
 */
export async function operatorEnrolment(r: RepoTx, rec: EnrolmentBody, terminalId: string, ref: string, now: number): Promise<Refusal | undefined> {
  const code = rec.enrolCodeId !== undefined ? await codeById(r, rec.enrolCodeId) : undefined;
  const granted = await r.conn.get(sql`SELECT operator_id FROM operator_grants WHERE operator_id = ${rec.personId} LIMIT 1`);
  const grantHere = await r.getOperatorGrant(terminalId, rec.personId);
  const no = checkOperatorEnrolment(rec, terminalId, { isOperator: granted !== undefined, code, grantHere });
  if (no || !code) return no;
  await r.conn.run(sql`UPDATE operator_enrol_codes SET status = 'used', used_by = ${ref}, updated_at = ${now} WHERE id = ${code.id}`);
  return undefined;
}
