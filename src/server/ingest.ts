// Ingestion of signed records: structural checks, chain and sequence decisions (pure), then each record's
// business effect (ledger postings, voucher redemption, registry entry) inside the caller's transaction.
import { type RecordResult } from '../protocol/schemas.ts';
import { parseSignedRecord, bodyOf, type RecordBody, type SignedRecord } from '../protocol/record.ts';
import { canonicalJson } from '../protocol/canonical.ts';
import { createHash } from 'node:crypto';
import { SIGNING_DOMAIN } from '../protocol/sign.ts';
import { verifyAll } from './sign.ts';
import type { VerifyPool } from './verify-pool.ts';
import type { OperatorGrantRow, PersonRow, RepoTx, RecordRow, TerminalRow } from './repo.ts';
import { payoutPostings, purchasePostings, refundPostings, reversal, account } from './postings.ts';
import type { Posting } from './repo.ts';
import { billPayment, billPaymentVoided } from './billing/payments.ts';
import { mandateCancelled, mandateSigned } from './billing/mandates.ts';
import { meterReading } from './billing/readings.ts';
import { pinSet } from './customer-pins.ts';
import { leaseReleased } from './leases.ts';
import { operatorEnrolment } from './operator-codes.ts';
import { recordTemplateUpdate, templateUpdatePrior } from './template-slots.ts';
import { checkApproval, checkOperator, checkEnrolment, checkOfflineLimits, checkPayout, enrolmentAccount, checkPostings, checkPurchase, checkRecordTime, checkRefund, checkTemplateUpdate, checkVoid, limitsTerminalCouldHold, reviewReason, type LimitsVersion, type PurchaseFacts, type Refusal } from './invariants.ts';


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

/** Customer accounts whose balance moved in a batch, each with the currencies that moved. */
export type MovedBalances = Map<string, Set<string>>;
export function noteMoved(m: MovedBalances, accountId: string, currency: string): void {
  const cur = m.get(accountId);
  if (cur) cur.add(currency);
  else m.set(accountId, new Set([currency]));
}

export interface IngestContext {
  now: number;
  /** Region of the uploading terminal (enrolments are registered there). */
  terminal: TerminalRow;
  /** Called for enrolments once stored (templates may come later): runs the duplicate check when it can. */
  onEnrolment?: (r: RepoTx, personId: string) => Promise<void>;
  /** Accounts whose balance changed, with the currencies that moved (the caller publishes their new offline allowances). */
  touchedAccounts: MovedBalances;
  /** People looked up during this batch (a batch names the same customers again and again). */
  people?: Map<string, PersonRow | undefined>;
  /** Purchase ids of this batch's purchases, checked at once before it runs: whether each is taken (kept current). */
  purchaseIds?: Map<string, boolean>;
  /** Whether the centre signed this time (records carry the last signed time their terminal saw). */
  verifyServerTime?: (t: { ms: number; sig: string }) => boolean;
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
/**
 * From this many records a batch's signatures are checked on the verify pool's threads. Not lower: with 16, a
 * batch of 50 cost 0.38 instead of 0.33 ms CPU per record (copies, thread wake-ups; 4 runs each, PostgreSQL,
 * loaded machine), and where the processes already share two cores that is lost ingest.
 */
export const POOL_FROM_RECORDS = 64;

export async function prepareRecords(inputs: unknown[], terminalId: string, publicKeyHex: string, pool?: VerifyPool): Promise<Prepared[]> {
  const prepared = inputs.map((input) => checkStructure(input, terminalId));
  const ok = prepared.filter((s): s is { ok: true; p: Parsed } => s.ok);
  const message = (p: Parsed) => Buffer.concat([SIGNING_DOMAIN, Buffer.from(p.canonical, 'utf8')]);
  // Signed message: SIGNING_DOMAIN ‖ the canonical bytes checkStructure made once. sign.ts owns the checks.
  const items = ok.map((s) => ({ message: message(s.p), sig: s.p.rec.sig }));
  const verdicts = await verifyAll(publicKeyHex, items, pool && ok.length >= POOL_FROM_RECORDS ? (key, screened) => pool.verify(key, screened) : undefined);
  ok.forEach((s, i) => (s.p.sigOk = verdicts[i] === true));
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
  // What the batch's purchases look up, in one query instead of two per record (the checks are the same). When
  // nothing else in the batch can change the registry, the owners and regions its allowance republication reads at
  // the end come with it (the caller has locked these accounts' balance rows, as before that read).
  const purchases = order.flatMap(({ p }) => (p.rec.type === 'purchase' && p.rec.seq > head.seq ? [p.rec] : []));
  if (purchases.length > 1) {
    const onlyPurchases = order.every(({ p }) => p.rec.type === 'purchase');
    const facts = await r.purchaseBatchFacts(purchases.map((x) => x.customerId), purchases.map((x) => x.purchaseId), onlyPurchases ? purchases.map((x) => x.accountId) : []);
    ctx.people = new Map([...(ctx.people ?? []), ...facts.people]);
    ctx.purchaseIds = new Map(purchases.map((x) => [x.purchaseId, facts.taken.has(x.purchaseId)]));
  }
  // What this batch already holds for the offline limits (rule 15): the money records stored before each one.
  const batch: BatchView = { storedMinor: new Map() };
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
    const effect = await applyEffect(r, ctx, rec, batch);
    // First seen here, after the one before it: the terminal held it unsynced when it signed the next (its outbox
    // total counts purchases and payouts, whatever the centre makes of them).
    if (rec.type === 'purchase' || rec.type === 'salary_payout') batch.storedMinor.set(rec.currency, (batch.storedMinor.get(rec.currency) ?? 0) + rec.amountMinor);
    const row: RecordRow = {
      terminal_id: t.id, seq: rec.seq, hash: rec.hash, type: rec.type, body: p.canonical, sig: rec.sig,
      status: effect.review ? 'review' : 'accepted', reason: effect.review ?? null, received_at: ctx.now,
    };
    r.queueRecord(row);
    if (effect.review) await r.addReview({ terminalId: t.id, seq: rec.seq, kind: rec.type, reason: effect.review, at: ctx.now });
    if (rec.type === 'enrolment' && !effect.review && ctx.onEnrolment) await ctx.onEnrolment(r, rec.personId);
    head.seq = rec.seq;
    head.hash = rec.hash;
    advanced = true;
    results[i] = effect.review ? { seq: rec.seq, status: 'review', reason: effect.review } : { seq: rec.seq, status: 'accepted' };
  }
  // The head and the terminal's last contact in one statement (the caller touches the terminal only when no record moved it).
  if (advanced) await r.setHead(t.id, head.seq, head.hash, ctx.now);
  return results;
}

/**
 * A batch's view of its terminal: its offline limits history (read once), the money stored before each record, and
 * the operator grants its records name (each read once: a batch is mostly one cashier's).
 */
interface BatchView {
  history?: LimitsVersion[];
  storedMinor: Map<string, number>;
  grants?: Map<string, OperatorGrantRow | undefined>;
}

/** An operator's grant at this terminal, read once a batch (the record's operator and an approver alike). */
async function grantOf(r: RepoTx, batch: BatchView, terminalId: string, operatorId: string): Promise<OperatorGrantRow | undefined> {
  batch.grants ??= new Map();
  if (!batch.grants.has(operatorId)) batch.grants.set(operatorId, await r.getOperatorGrant(terminalId, operatorId));
  return batch.grants.get(operatorId);
}

/**
 * A record refused before its own rule ran (its clock, its operator): a template update is still kept, refused, as
 * its own rule keeps one, so its capture gets that answer and leaves the counter's queue instead of waiting for ever.
 */
async function refusedBeforeItsRule(r: RepoTx, rec: SignedRecord, ctx: IngestContext, refusal: { review: string }): Promise<{ review: string }> {
  if (rec.type === 'template_update') {
    const prior = await templateUpdatePrior(r.conn, rec);
    if (!prior.updateIdTaken && !prior.captureUsed) await recordTemplateUpdate(r, rec, ctx.terminal.id, ctx.now, refusal.review);
  }
  return refusal;
}

/** The business effect of one verified, in-chain record. Returns a review reason when it cannot be applied. */
async function applyEffect(r: RepoTx, ctx: IngestContext, rec: SignedRecord, batch: BatchView): Promise<{ review?: string }> {
  const refused = (x: Refusal | undefined) => (x ? { review: reviewReason(x) } : undefined);
  // Not a lease release: it moves no money and means what its place in the holder's chain says, whatever its time;
  // put aside, it could never be signed again (one per lease) and the voucher would be stranded (leases.ts).
  const clock = rec.type === 'lease_release' ? undefined : refused(checkRecordTime(rec, ctx.now, (st) => ctx.verifyServerTime?.(st) ?? false));
  if (clock) return refusedBeforeItsRule(r, rec, ctx, clock);
  const t = ctx.terminal;
  const operator = refused(checkOperator(rec, await grantOf(r, batch, t.id, rec.operatorId)));
  if (operator) return refusedBeforeItsRule(r, rec, ctx, operator);
  if ('approvedBy' in rec && rec.approvedBy !== undefined) {
    const approval = refused(checkApproval(rec, await grantOf(r, batch, t.id, rec.approvedBy)));
    if (approval) return approval;
  }
  const ref = `${t.id}#${rec.seq}`;
  /** Every money move goes through here: the invariants see the postings and the balances before they apply. */
  const post = async (memo: string, postings: Posting[]): Promise<{ review?: string } | undefined> => {
    const before = new Map<string, number>();
    for (const p of postings) before.set(`${p.account}\u0000${p.currency}`, await r.balance(p.account, p.currency));
    const no = refused(checkPostings(postings, (a, c) => before.get(`${a}\u0000${c}`) ?? 0));
    if (no) return no;
    r.queueTxn({ terminalId: t.id, seq: rec.seq, ref: rec.hash, memo, at: ctx.now, postings });
    return undefined;
  };
  switch (rec.type) {
    case 'salary_payout': {
      const v = await r.getVoucher(rec.voucherId);
      const no = refused(checkPayout(rec, t.id, v, await r.getPerson(rec.personId)));
      if (no) return no;
      const postings = payoutPostings(rec.personId, t.id, rec.amountMinor, rec.currency);
      const moved = await post(`salary payout ${v!.period} voucher ${v!.id}`, postings);
      if (moved) return moved;
      await r.redeemVoucher(v!.id, ref);
      return {};
    }
    case 'purchase': {
      const p = await personOf(ctx, r, rec.customerId);
      const no = refused(checkPurchase(rec, p, await r.balance(account.customer(rec.accountId), rec.currency), t.region));
      if (no) return no;
      if (ctx.purchaseIds?.get(rec.purchaseId) ?? (await r.getPurchase(rec.purchaseId))) return { review: reviewReason({ code: 'PURCHASE_ID_USED', message: `purchase id ${rec.purchaseId} was already used` }) };
      // Rule 15: the offline limits the terminal could have held (none are waived by `offline: false`: the centre decides no purchase online).
      batch.history ??= (await r.terminalLimitsHistory(t.id)).map((v) => ({ setAt: v.setAt, limits: JSON.parse(v.limits) as LimitsVersion['limits'] }));
      const seen = rec.serverTime.ref === '' ? undefined : rec.serverTime.ms;
      const limits = refused(checkOfflineLimits(rec, limitsTerminalCouldHold(batch.history, seen), batch.storedMinor.get(rec.currency) ?? 0));
      if (limits) return limits;
      // With a biller it pays one imported bill (billing/payments.ts): to the biller, exactly, once.
      const bill = rec.biller ? await billPayment(r, { ...rec, biller: rec.biller }) : undefined;
      if (bill && 'refusal' in bill) return { review: reviewReason(bill.refusal) };
      const moved = await post(bill ? bill.memo : `purchase ${rec.purchaseId}`, bill ? bill.postings : purchasePostings(rec.accountId, t.id, rec.amountMinor, rec.currency));
      if (moved) return moved;
      r.queuePurchase({ purchase_id: rec.purchaseId, terminal_id: t.id, seq: rec.seq, account: rec.accountId, amount: rec.amountMinor, currency: rec.currency, refunded: 0 });
      ctx.purchaseIds?.set(rec.purchaseId, true);
      await bill?.markPaid(ref, ctx.now);
      noteMoved(ctx.touchedAccounts, rec.accountId, rec.currency);
      return {};
    }
    case 'refund': {
      const orig = await purchaseFacts(r, rec.originalPurchaseId);
      const no = refused(checkRefund(rec, t.id, orig));
      if (no) return no;
      const moved = await post(`refund ${rec.refundId} of ${orig!.purchase_id}`, refundPostings(rec.accountId, orig!.terminal_id, rec.amountMinor, rec.currency));
      if (moved) return moved;
      await r.addRefunded(orig!.purchase_id, rec.amountMinor);
      noteMoved(ctx.touchedAccounts, rec.accountId, rec.currency);
      return {};
    }
    case 'void': {
      const stored = rec.targetTerminalId === t.id ? await r.getRecord(t.id, rec.targetSeq) : undefined;
      const targetBody = stored ? (JSON.parse(stored.body) as RecordBody) : undefined;
      const target = stored && targetBody ? { terminal_id: stored.terminal_id, seq: Number(stored.seq), type: stored.type, status: stored.status, body: targetBody } : undefined;
      const txn = stored ? await r.txnOfRecord(t.id, rec.targetSeq) : undefined;
      const purchase = targetBody?.type === 'purchase' ? await purchaseFacts(r, targetBody.purchaseId) : undefined;
      const no = refused(checkVoid(rec, t.id, target, purchase, txn?.voided_by ?? null));
      if (no) return no;
      if (!txn) return { review: reviewReason({ code: 'VOID_TARGET_UNKNOWN', message: `void target ${ref} moved no money` }) };
      const postings = await r.postingsOf(Number(txn.id));
      const moved = await post(`void of ${t.id}#${rec.targetSeq}`, reversal(postings.map((p) => ({ account: p.account, currency: p.currency, amount: Number(p.amount) }))));
      if (moved) return moved;
      await r.markVoided(Number(txn.id), ref);
      await r.addRefunded(purchase!.purchase_id, Number(purchase!.amount)); // nothing is left to refund or void
      await billPaymentVoided(r, targetBody!, `${t.id}#${rec.targetSeq}`, ctx.now);
      for (const p of postings) if (p.account.startsWith('acct:')) noteMoved(ctx.touchedAccounts, p.account.slice(5), p.currency);
      return {};
    }
    case 'enrolment': {
      ctx.people?.clear(); // the registry changes under this batch
      const existing = await r.getPerson(rec.personId);
      const owner = await r.accountOwner(enrolmentAccount(rec));
      const no = refused(checkEnrolment(rec, existing, owner));
      if (no) return no;
      // Rule 14: a palm under an operator's id only with the code claimed for it here (uses the code up).
      const operator = refused(await operatorEnrolment(r, rec, t.id, ref, ctx.now));
      if (operator) return operator;
      await r.insertPerson({
        id: rec.personId, region: t.region, status: 'provisional', account_id: rec.person.accountId ?? null, terminal_id: t.id, seq: rec.seq,
        digests: JSON.stringify(rec.templateDigests), templates: null, duplicate_of: null, created_at: ctx.now, updated_at: ctx.now,
      });
      return {};
    }
    case 'day_close':
      return {}; // the Z-report is kept as signed evidence; the postings already came with each record
    // Issue 17, rule 10: signed at a counter, no money moves; re-checked against what the centre knows.
    case 'meter_reading':
      return refused(await meterReading(r, rec, await r.getPerson(rec.personId), t, ctx.now)) ?? {};
    case 'mandate':
      return refused(await mandateSigned(r, rec, await r.getPerson(rec.personId), t.region, ctx.now)) ?? {};
    case 'mandate_cancel':
      return refused(await mandateCancelled(r, rec, await r.getPerson(rec.personId), t.region, ctx.now)) ?? {};
    // Issue 19, rule 12: the claims checkable without the capture (a person of this region, a template their
    // enrolment pinned, a proven PIN, no replay); then the update waits for its capture, which the centre judges on
    // its own copies when it arrives (template-slots.ts). No money moves.
    case 'template_update': {
      const pinRec = rec.pinSeq !== undefined ? await r.getRecord(t.id, rec.pinSeq) : undefined;
      const prior = await templateUpdatePrior(r.conn, rec);
      const no = refused(checkTemplateUpdate(rec, await r.getPerson(rec.personId), pinRec ? (JSON.parse(pinRec.body) as RecordBody) : undefined, t.region, prior));
      // Kept either way (but for a replay, whose id or capture is taken): its capture, if sent, gets the same answer.
      if (!prior.updateIdTaken && !prior.captureUsed) await recordTemplateUpdate(r, rec, t.id, ctx.now, no?.review);
      return no ?? {};
    }
    // Issue 17f: the approval was re-checked above (a supervisor granted here, not the cashier); now the person.
    case 'pin_set':
      return refused(await pinSet(r, rec, await r.getPerson(rec.personId), t, ctx.now)) ?? {};
    // Issue 17: the centre decided this report request online when it was asked (report-access.ts, its access
    // log); the journal copy arriving later is kept as evidence that the counter asked, and changes nothing.
    case 'report_request':
      return {};
    // A lease move completes only on the holder's signed release (leases.ts): no money moves.
    case 'lease_release':
      return refused(await leaseReleased(r, rec, t.id, ctx.now)) ?? {};
  }
}

/** A purchase as the centre booked it, with the customer its signed record names. */
async function purchaseFacts(r: RepoTx, purchaseId: string): Promise<PurchaseFacts | undefined> {
  const p = await r.getPurchase(purchaseId);
  if (!p) return undefined;
  const rec = await r.getRecord(p.terminal_id, Number(p.seq));
  const body = rec ? (JSON.parse(rec.body) as RecordBody) : undefined;
  const purchase = body?.type === 'purchase' ? body : undefined;
  return { ...p, seq: Number(p.seq), amount: Number(p.amount), refunded: Number(p.refunded), customerId: purchase?.customerId ?? '', ...(purchase?.biller ? { billerId: purchase.biller.billerId } : {}) };
}
