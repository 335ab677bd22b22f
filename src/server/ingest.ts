// Ingestion of signed records: structural checks, chain and sequence decisions (pure), then each record's
// business effect (ledger postings, voucher redemption, registry entry) inside the caller's transaction.
import { type RecordResult } from '../protocol/schemas.ts';
import { parseSignedRecord, bodyOf, type RecordBody, type SignedRecord } from '../protocol/record.ts';
import { canonicalJson } from '../protocol/canonical.ts';
import { createHash } from 'node:crypto';
import { makeVerifier, SIGNING_DOMAIN } from '../protocol/sign.ts';
import type { VerifyPool } from './verify-pool.ts';
import type { PersonRow, RepoTx, RecordRow, TerminalRow } from './repo.ts';
import { payoutPostings, purchasePostings, refundPostings, reversal, account } from './postings.ts';


type Verifier = (body: RecordBody, sig: string) => boolean;
const verifiers = new Map<string, Verifier>();
function verifierFor(publicKeyHex: string): Verifier {
  let v = verifiers.get(publicKeyHex);
  if (!v) {
    v = makeVerifier(Buffer.from(publicKeyHex, 'hex'));
    if (verifiers.size > 10_000) verifiers.clear();
    verifiers.set(publicKeyHex, v);
  }
  return v;
}

/** A record that passed structural checks, with its canonical bytes and whether its signature holds. */
interface Parsed {
  rec: SignedRecord;
  body: RecordBody;
  canonical: string;
  sigOk?: boolean;
}
export type Structural = { ok: true; p: Parsed } | { ok: false; result: RecordResult };

/** Structure, ownership and hash: everything that needs no database. Pure. */
export function checkStructure(input: unknown, terminalId: string): Structural {
  const seq = typeof (input as { seq?: unknown })?.seq === 'number' ? (input as { seq: number }).seq : null;
  let rec: SignedRecord;
  try {
    rec = parseSignedRecord(input);
  } catch (err) {
    return { ok: false, result: { seq, status: 'invalid', reason: (err as Error).message } };
  }
  if (rec.terminalId !== terminalId) {
    return { ok: false, result: { seq, status: 'invalid', reason: `record belongs to terminal ${rec.terminalId}, not to the uploading terminal ${terminalId}` } };
  }
  const body = bodyOf(rec);
  const canonical = canonicalJson(body);
  if (createHash('sha256').update(canonical).digest('hex') !== rec.hash) return { ok: false, result: { seq, status: 'invalid', reason: 'hash does not match the record body (record edited after signing)' } };
  return { ok: true, p: { rec, body, canonical } };
}

export type ChainDecision = { kind: 'duplicate' | 'conflict' | 'gap' | 'broken' } | { kind: 'next' };
/** Where a record stands against the terminal's chain head. Pure. */
export function chainDecision(head: { seq: number; hash: string }, rec: { seq: number; prevHash: string }): ChainDecision {
  if (rec.seq <= head.seq) return { kind: 'duplicate' }; // confirmed against the stored record by the caller
  if (rec.seq > head.seq + 1) return { kind: 'gap' };
  return rec.prevHash === head.hash ? { kind: 'next' } : { kind: 'broken' };
}

export interface IngestContext {
  now: number;
  /** Region of the uploading terminal (enrolments are registered there). */
  terminal: TerminalRow;
  /** Called for enrolments once stored (templates may come later): runs the duplicate check when it can. */
  onEnrolment?: (r: RepoTx, personId: string) => Promise<void>;
  /** Accounts whose balance changed (the caller publishes new offline allowances). */
  touchedAccounts: Set<string>;
  /** People looked up during this batch (a batch names the same customers again and again). */
  people?: Map<string, PersonRow | undefined>;
}

async function personOf(ctx: IngestContext, r: RepoTx, id: string): Promise<PersonRow | undefined> {
  ctx.people ??= new Map();
  if (!ctx.people.has(id)) ctx.people.set(id, await r.getPerson(id));
  return ctx.people.get(id);
}

export type Prepared = Structural;

/**
 * Everything that does not depend on the chain state, done before the transaction: structure, ownership,
 * hash, and the signature (on worker threads when a pool is given and the batch is large).
 */
export async function prepareRecords(inputs: unknown[], terminalId: string, publicKeyHex: string, pool?: VerifyPool): Promise<Prepared[]> {
  const prepared = inputs.map((input) => checkStructure(input, terminalId));
  const ok = prepared.filter((s): s is { ok: true; p: Parsed } => s.ok);
  if (pool && ok.length >= 64) {
    const verdicts = await pool.verify(publicKeyHex, ok.map((s) => ({ message: Buffer.concat([SIGNING_DOMAIN, Buffer.from(s.p.canonical, 'utf8')]), signature: Buffer.from(s.p.rec.sig, 'hex') })));
    ok.forEach((s, i) => (s.p.sigOk = verdicts[i] === true));
  } else {
    const verify = verifierFor(publicKeyHex);
    for (const s of ok) s.p.sigOk = verify(s.p.body, s.p.rec.sig);
  }
  return prepared;
}

/** Ingests one terminal's prepared records (any order, duplicates allowed) in the caller's transaction. */
export async function ingestRecords(r: RepoTx, ctx: IngestContext, prepared: Prepared[]): Promise<RecordResult[]> {
  const t = ctx.terminal;
  const results: RecordResult[] = new Array(prepared.length);
  const order: Array<{ i: number; p: Parsed }> = [];
  prepared.forEach((s, i) => {
    if (s.ok) order.push({ i, p: s.p });
    else results[i] = s.result;
  });
  order.sort((a, b) => a.p.rec.seq - b.p.rec.seq);
  const head = { seq: Number(t.head_seq), hash: t.head_hash };
  let advanced = false;
  for (const { i, p } of order) {
    const { rec } = p;
    const d = chainDecision(head, rec);
    if (d.kind === 'duplicate') {
      const stored = await r.getRecord(t.id, rec.seq);
      if (stored && stored.hash === rec.hash) {
        results[i] = { seq: rec.seq, status: 'duplicate', original: stored.reason ? { status: stored.status, reason: stored.reason } : { status: stored.status } };
      } else {
        results[i] = { seq: rec.seq, status: 'conflict', reason: `a different record is already stored as ${t.id}#${rec.seq}` };
      }
      continue;
    }
    if (d.kind === 'gap') {
      results[i] = { seq: rec.seq, status: 'gap', reason: `sequence gap: expected ${head.seq + 1}, got ${rec.seq}` };
      continue;
    }
    if (d.kind === 'broken') {
      results[i] = { seq: rec.seq, status: 'invalid', reason: `chain broken: prevHash does not match the hash of ${t.id}#${head.seq}` };
      continue;
    }
    if (p.sigOk !== true) {
      results[i] = { seq: rec.seq, status: 'invalid', reason: 'signature does not verify with the terminal’s registered key' };
      continue;
    }
    const effect = await applyEffect(r, ctx, rec);
    const row: RecordRow = {
      terminal_id: t.id, seq: rec.seq, hash: rec.hash, type: rec.type, body: p.canonical, sig: rec.sig,
      status: effect.review ? 'review' : 'accepted', reason: effect.review ?? null, received_at: ctx.now,
    };
    await r.insertRecord(row);
    if (effect.review) await r.addReview({ terminalId: t.id, seq: rec.seq, kind: rec.type, reason: effect.review, at: ctx.now });
    if (rec.type === 'enrolment' && !effect.review && ctx.onEnrolment) await ctx.onEnrolment(r, rec.personId);
    head.seq = rec.seq;
    head.hash = rec.hash;
    advanced = true;
    results[i] = effect.review ? { seq: rec.seq, status: 'review', reason: effect.review } : { seq: rec.seq, status: 'accepted' };
  }
  if (advanced) await r.setHead(t.id, head.seq, head.hash);
  return results;
}

/** The business effect of one verified, in-chain record. Returns a review reason when it cannot be applied. */
async function applyEffect(r: RepoTx, ctx: IngestContext, rec: SignedRecord): Promise<{ review?: string }> {
  const t = ctx.terminal;
  const ref = `${t.id}#${rec.seq}`;
  const post = (memo: string, postings: ReturnType<typeof payoutPostings>) =>
    r.postTxn({ source: 'record', terminalId: t.id, seq: rec.seq, ref: rec.hash, memo, at: ctx.now, postings });
  switch (rec.type) {
    case 'salary_payout': {
      const v = await r.getVoucher(rec.voucherId);
      if (!v) return { review: `voucher ${rec.voucherId} is unknown` };
      if (v.lease_terminal !== t.id || v.lease_id !== rec.leaseId) return { review: `voucher ${rec.voucherId} is not leased to this terminal (lease ${rec.leaseId})` };
      if (v.status !== 'open') return { review: `voucher ${rec.voucherId} was already redeemed by ${v.redeemed_by}` };
      if (v.person_id !== rec.personId || v.period !== rec.period || Number(v.amount) !== rec.amountMinor || v.currency !== rec.currency) {
        return { review: `payout does not match voucher ${rec.voucherId} (person, period, amount or currency)` };
      }
      const p = await r.getPerson(rec.personId);
      if (p && p.status === 'revoked') return { review: `person ${rec.personId} is revoked` };
      await r.redeemVoucher(v.id, ref);
      await post(`salary payout ${v.period} voucher ${v.id}`, payoutPostings(rec.personId, t.id, rec.amountMinor, rec.currency));
      return {};
    }
    case 'purchase': {
      const p = await personOf(ctx, r, rec.customerId);
      if (!p) return { review: `customer ${rec.customerId} is not enrolled` };
      if (p.status === 'revoked') return { review: `customer ${rec.customerId} is revoked` };
      if (p.status !== 'confirmed') return { review: `customer ${rec.customerId} is not confirmed (${p.status})` };
      const funds = await r.balance(account.customer(rec.accountId), rec.currency);
      if (funds < rec.amountMinor) return { review: `insufficient funds after the fact: ${funds} < ${rec.amountMinor} ${rec.currency}` };
      const fresh = await r.insertPurchase({ purchase_id: rec.purchaseId, terminal_id: t.id, seq: rec.seq, account: rec.accountId, amount: rec.amountMinor, currency: rec.currency, refunded: 0 });
      if (!fresh) return { review: `purchase id ${rec.purchaseId} was already used` };
      await post(`purchase ${rec.purchaseId}`, purchasePostings(rec.accountId, t.id, rec.amountMinor, rec.currency));
      ctx.touchedAccounts.add(rec.accountId);
      return {};
    }
    case 'refund': {
      const orig = await r.getPurchase(rec.originalPurchaseId);
      if (!orig) return { review: `refund of unknown purchase ${rec.originalPurchaseId}` };
      if (orig.account !== rec.accountId || orig.currency !== rec.currency) return { review: 'refund account or currency differs from the purchase' };
      if (Number(orig.refunded) + rec.amountMinor > Number(orig.amount)) return { review: `refund exceeds what remains of purchase ${orig.purchase_id}` };
      await r.addRefunded(orig.purchase_id, rec.amountMinor);
      await post(`refund ${rec.refundId} of ${orig.purchase_id}`, refundPostings(rec.accountId, orig.terminal_id, rec.amountMinor, rec.currency));
      ctx.touchedAccounts.add(rec.accountId);
      return {};
    }
    case 'void': {
      if (rec.targetTerminalId !== t.id) return { review: 'a void may only cancel a record of the same terminal' };
      const target = await r.getRecord(t.id, rec.targetSeq);
      if (!target || target.status !== 'accepted') return { review: `void target ${t.id}#${rec.targetSeq} is not an accepted record` };
      const txn = await r.txnOfRecord(t.id, rec.targetSeq);
      if (!txn) return { review: `void target ${t.id}#${rec.targetSeq} moved no money` };
      if (txn.voided_by) return { review: `void target ${t.id}#${rec.targetSeq} was already voided by ${txn.voided_by}` };
      const postings = await r.postingsOf(Number(txn.id));
      await r.markVoided(Number(txn.id), ref);
      if (target.type === 'salary_payout') {
        const body = JSON.parse(target.body) as { voucherId: string };
        await r.reopenVoucher(body.voucherId);
      }
      if (target.type === 'purchase') {
        const body = JSON.parse(target.body) as { purchaseId: string; amountMinor: number };
        await r.addRefunded(body.purchaseId, body.amountMinor);
      }
      await post(`void of ${t.id}#${rec.targetSeq}`, reversal(postings.map((p) => ({ account: p.account, currency: p.currency, amount: Number(p.amount) }))));
      for (const p of postings) if (p.account.startsWith('acct:')) ctx.touchedAccounts.add(p.account.slice(5));
      return {};
    }
    case 'enrolment': {
      ctx.people?.clear(); // the registry changes under this batch
      const existing = await r.getPerson(rec.personId);
      if (existing) return { review: `person ${rec.personId} is already registered (enrolled at ${existing.terminal_id}#${existing.seq})` };
      await r.insertPerson({
        id: rec.personId, region: t.region, status: 'provisional', account_id: rec.person.accountId ?? null, terminal_id: t.id, seq: rec.seq,
        digests: JSON.stringify(rec.templateDigests), templates: null, duplicate_of: null, created_at: ctx.now, updated_at: ctx.now,
      });
      return {};
    }
    case 'day_close':
      return {}; // the Z-report is kept as signed evidence; the postings already came with each record
  }
}
