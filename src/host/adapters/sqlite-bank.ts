// The Bank over the real terminal store and signed ledger. Every money write is ONE IMMEDIATE SQLite
// transaction: the checks, the signed record(s), the domain change (voucher paid, allowance used), the outbox
// row, and here also the "drawer not yet opened" marker. The ledger keys a salary payout by voucher id, so a
// voucher is paid once whatever the screens do: double click, restart mid-flow, a second tab.
import { createHash, randomUUID } from 'node:crypto';
import { LedgerError, OfflineRefusedError, VoucherRefusedError } from '../../ledger/ledger.ts';
import type { VoucherRefusal } from '../../ledger/voucher-rule.ts';
import { isOverridable, type OfflineRefusal } from '../../ledger/limits.ts';
import type { Currency, RecordBody } from '../../protocol/record.ts';
import { checkPin, hashPin, type PinCheck } from '../../ledger/pin.ts';
import type { Terminal } from '../../ledger/open.ts';
import { DUTIES_OF_ROLE } from '../../protocol/operator-roles.ts';
import { PalmPayError } from '../../util/errors.ts';
import type { PinResult } from '../../flows/auth.ts';
import type { DayTotals, TypeTotal } from '../../flows/day-close.ts';
import type { DuplicateCandidate, EnrolHand } from '../../flows/enrolment.ts';
import { sealModuleFeature } from '../module-sync.ts';
import { totals, type PayoutFailure } from '../../flows/payout.ts';
import type { Bank, DayCloseRequest, EnrolmentRequest, Result } from '../../flows/ports.ts';
import type { LimitReason, PurchaseDecline, PurchaseRefusal, PurchaseRequest } from '../../flows/purchase.ts';
import type { BillDecline, BillLookup, BillPaymentRequest } from '../../flows/bill.ts';
import { lookupBills, payBills, payerLinked, type BillPaymentDeps } from './bill-payments.ts';
import { lookupMeters, mandatesOf, recordMandate, recordReading, setCustomerPin, type CounterRecordDeps } from './counter-records.ts';
import type { PinSetDecline, PinSetRequest } from '../../flows/pin-set.ts';
import type { MeterLookup, ReadingDecline, ReadingRequest } from '../../flows/meter-reading.ts';
import type { HeldMandate, MandateDecline, MandateRequest } from '../../flows/mandate.ts';
import { dayCloseReceipt, enrolmentReceipt, payoutReceipt, purchaseReceipt, reversalReceipt } from '../../flows/receipts.ts';
import type { Original, ReversalKind, ReversalRefusal } from '../../flows/reversal.ts';
import type { AllowanceLeft, Money, Operator, Person, Receipt, StatementEntry, Voucher } from '../../flows/types.ts';

/** Settings keys this module owns in the store's settings table. */
export const FLOW_SETTING = {
  openingFloat: 'flows.openingFloat',
} as const;

/** The store keeps one `name`; the flows need it in Arabic and Latin script. Stored as "<Arabic> / <Latin>". */
export function joinName(ar: string, latin: string): string {
  return `${ar} / ${latin}`;
}
export function splitName(name: string): { ar: string; latin: string } {
  const i = name.indexOf(' / ');
  return i < 0 ? { ar: name, latin: name } : { ar: name.slice(0, i), latin: name.slice(i + 3) };
}

/** The ledger's voucher refusals as the payout screen explains them; null: the flow asked for a voucher that is
 * not this person's (a bug, not a refusal). */
const PAYOUT_FAILURE: Record<VoucherRefusal, PayoutFailure | null> = {
  'not-open': 'already-paid',
  'not-leased-here': 'voucher-not-leased-here',
  'lease-expired': 'voucher-not-leased-here',
  'unknown-voucher': null,
  'claim-mismatch': null,
};

const LIMIT: Record<OfflineRefusal, LimitReason | null> = {
  BAD_AMOUNT: null,
  PER_TRANSACTION_CAP: 'limit-transaction-cap',
  NO_ALLOWANCE: 'limit-no-allowance',
  ALLOWANCE_EXPIRED: 'limit-allowance-expired',
  CUSTOMER_ALLOWANCE: 'limit-customer-allowance',
  TERMINAL_STORED_TOTAL: 'limit-terminal-total',
  STORED_RECORD_TOO_OLD: 'limit-record-age',
  SYNC_TOO_OLD: 'limit-sync-age',
};

function pinResult(c: PinCheck): PinResult {
  if (c.ok) return { ok: true };
  return c.reason === 'LOCKED' ? { ok: false, locked: true } : { ok: false, attemptsLeft: c.attemptsLeft };
}

function currency(c: string): Currency {
  if (c !== 'SYP' && c !== 'USD') throw new PalmPayError('CURRENCY_UNSUPPORTED', `currency ${c} is not handled by this terminal`);
  return c;
}

export interface SqliteBankOptions<T> {
  terminal: Terminal;
  /** Template → bytes (the biometrics codec); sealed before they touch the disk. */
  encode: (t: T) => Uint8Array;
  /** Enrolment: one hand's captures → the one template stored for that hand (e.g. biometrics' fuseTemplates). */
  fuse?: (captures: T[]) => T;
  /**
   * Enrolment on a palm module that gives no image (module-sync.ts modulePalmPath): the one module feature the
   * captures give, or null when they are templates. Throws (typed) when the captures cannot be enrolled.
   */
  moduleFeatureOf?: (captures: Record<EnrolHand, T[]>) => { family: string; feature: Uint8Array } | null;
  now?: () => number;
}

export class SqliteBank<T> implements Bank<T> {
  private readonly t: Terminal;
  private readonly now: () => number;

  constructor(private readonly opts: SqliteBankOptions<T>) {
    this.t = opts.terminal;
    this.now = opts.now ?? Date.now;
  }

  private get store() {
    return this.t.store;
  }

  terminalId(): string {
    return this.t.ledger.terminalId;
  }

  person(personId: string): Person | null {
    const p = this.store.people.get(personId);
    if (!p) return null;
    const account = this.store.people.accounts(personId).find((a) => a.status === 'active');
    const n = splitName(p.name);
    return {
      id: p.personId,
      nameAr: n.ar,
      nameLatin: n.latin,
      status: p.status === 'blocked' ? 'revoked' : p.status,
      ...(account ? { accountId: account.accountId } : {}),
    };
  }

  vouchers(personId: string): Voucher[] {
    // VouchersRepo lists only open vouchers; the flows must also tell "already paid" from "nothing owed".
    const ids = this.store.db.prepare(`SELECT voucher_id FROM vouchers WHERE person_id = ? AND status != 'cancelled' ORDER BY period, voucher_id`).pluck().all(personId) as string[];
    const now = this.now();
    return ids.flatMap((id) => {
      const v = this.store.vouchers.get(id);
      if (!v) return [];
      const lease = this.store.vouchers.lease(id);
      const leasedHere = !!lease && lease.terminalId === this.terminalId() && lease.expiresAtMs > now;
      return [{ id, period: v.period, amount: { minor: v.amountMinor, currency: v.currency }, leasedHere, redeemed: v.status === 'paid' }];
    });
  }

  /** An operator's name in both scripts, for receipts (the id when the store has no name). */
  private operatorName(operatorId: string): { ar: string; latin: string } {
    const o = this.t.ledger.operators.get(operatorId);
    return o ? splitName(o.name) : { ar: operatorId, latin: operatorId };
  }

  operatorForPerson(personId: string): Operator | null {
    // An operator's palm is enrolled under their operator id.
    const o = this.t.ledger.operators.get(personId);
    if (!o || !o.active) return null;
    const n = splitName(o.name);
    return { id: o.operatorId, name: n.latin, nameAr: n.ar, roles: [...DUTIES_OF_ROLE[o.role]] };
  }

  async verifyOperatorPin(operatorId: string, pin: string): Promise<PinResult> {
    const o = this.t.ledger.operators.get(operatorId);
    if (!o || !o.active) return { ok: false, locked: true };
    const save = (s: { failed: number; lockedUntilMs: number }) => this.t.ledger.operators.setAttempts(operatorId, s.failed, s.lockedUntilMs);
    return pinResult(await checkPin(pin, o.pinHash, { failed: o.failedAttempts, lockedUntilMs: o.lockedUntilMs }, save, this.now()));
  }

  async verifyCustomerPin(personId: string, pin: string): Promise<PinResult> {
    const p = this.t.ledger.customerPins.get(personId); // a hash or lockout edited in the store: LOCAL_STATE_TAMPERED
    if (!p || !p.pinHash) return { ok: false, locked: true }; // no PIN from the centre: cannot pass the PIN step
    const save = (s: { failed: number; lockedUntilMs: number }) => this.t.ledger.customerPins.setAttempts(personId, s.failed, s.lockedUntilMs);
    return pinResult(await checkPin(pin, p.pinHash, { failed: p.failed, lockedUntilMs: p.lockedUntilMs }, save, this.now()));
  }

  recordPayout(req: { personId: string; voucherIds: string[]; operatorId: string }): Result<{ receipt: Receipt }, PayoutFailure> {
    const refusal = (reason: PayoutFailure) => ({ ok: false as const, reason });
    try {
      return this.store.transaction(() => {
        const person = this.person(req.personId);
        if (!person || person.status !== 'active') return refusal('person-revoked');
        if (req.voucherIds.length === 0) throw new PalmPayError('NOTHING_TO_PAY', 'no voucher given');
        // The ledger decides whether each voucher may be paid here (voucher-rule.ts); all or none are recorded.
        const records = req.voucherIds.map((voucherId) => this.t.ledger.payVoucher({ voucherId, personId: req.personId, operatorId: req.operatorId }));
        const paid: Voucher[] = records.map((r) => ({ id: r.voucherId, period: r.period, amount: { minor: r.amountMinor, currency: r.currency }, leasedHere: true, redeemed: true }));
        const first = records[0]!;
        const receipt = payoutReceipt(this.meta({ seq: first.seq, hash: first.hash, at: first.hlc.ms }, req.operatorId), person, paid, totals(paid.map((p) => p.amount)));
        // Same transaction: if the power goes before the drawer opens, the restart finds this marker.
        this.store.drawerPending.add({ recordId: receipt.recordId, seq: receipt.seq, personId: req.personId, operatorId: req.operatorId, receipt });
        return { ok: true as const, receipt };
      });
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return refusal('already-paid');
      if (err instanceof VoucherRefusedError) {
        const failure = PAYOUT_FAILURE[err.reason];
        if (failure) return refusal(failure);
        throw new PalmPayError('VOUCHER_MISMATCH', `voucher ${err.voucherId} is not this person's to collect here: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  markDrawerOpened(recordId: string): void {
    this.store.transaction(() => this.store.drawerPending.remove(recordId));
  }

  pendingDrawer(): Array<{ person: Person; receipt: Receipt; operatorId: string }> {
    return this.store.drawerPending.list<Receipt>().flatMap((p) => {
      const person = this.person(p.personId);
      return person ? [{ person, receipt: p.receipt, operatorId: p.operatorId }] : [];
    });
  }

  lookupBills(subscriber: string): BillLookup {
    return lookupBills(this.billDeps, subscriber);
  }

  hasPin(personId: string): boolean {
    return Boolean(this.store.people.getPin(personId)?.pinHash);
  }

  mayPayBills(personId: string, subscriber: string, billerIds: readonly string[]): boolean {
    return payerLinked(this.billDeps, personId, subscriber, billerIds);
  }

  payBills(req: BillPaymentRequest): { ok: true; receipt: Receipt } | { ok: false; reason: BillDecline } {
    return payBills(this.billDeps, this.person(req.personId), req);
  }

  // ---- issue 17d: meter readings and mandates ----
  lookupMeters(subscriber: string): MeterLookup {
    return lookupMeters(this.counterDeps, subscriber);
  }

  recordReading(req: ReadingRequest): { ok: true; receipt: Receipt } | { ok: false; reason: ReadingDecline } {
    return recordReading(this.counterDeps, this.person(req.personId), req);
  }

  setCustomerPin(req: PinSetRequest): Promise<{ ok: true; receipt: Receipt } | { ok: false; reason: PinSetDecline }> {
    return setCustomerPin(this.counterDeps, this.person(req.personId), req);
  }

  recordMandate(req: MandateRequest): { ok: true; receipt: Receipt } | { ok: false; reason: MandateDecline } {
    return recordMandate(this.counterDeps, this.person(req.personId), req);
  }

  mandatesOf(personId: string): HeldMandate[] {
    return mandatesOf(this.counterDeps, personId);
  }

  private get counterDeps(): CounterRecordDeps {
    return { terminal: this.t, meta: (r, op) => this.meta(r, op), operatorName: (id) => this.operatorName(id) };
  }

  private get billDeps(): BillPaymentDeps {
    return { terminal: this.t, now: this.now, limitReason: (r) => LIMIT[r], meta: (r, op) => this.meta(r, op) };
  }

  /** The refusals that come before any limit (a decided request, the customer, the account), or the account to pay from. */
  private purchaseParty(req: { requestId: string; personId: string; amount: Money }): { ok: true; person: Person; accountId: string; cur: Currency } | PurchaseRefusal {
    const no = (reason: PurchaseDecline) => ({ ok: false as const, reason, overridable: false });
    if (this.store.journal.byRef('purchase', req.requestId)) return no('duplicate-request');
    const person = this.person(req.personId);
    if (!person || person.status === 'revoked') return no('person-revoked');
    if (person.status === 'provisional') return no('person-provisional');
    const cur = currency(req.amount.currency);
    const account = this.store.people.accounts(req.personId).find((a) => a.status === 'active' && a.currency === cur);
    if (!account) return no('no-account');
    return { ok: true, person, accountId: account.accountId, cur };
  }

  /** A limit decline, with what the customer can still pay offline here. */
  private limitRefusal(r: OfflineRefusal, personId: string, cur: Currency): PurchaseRefusal {
    const reason = LIMIT[r];
    if (!reason) return { ok: false, reason: 'store-error', overridable: false };
    return { ok: false, reason, overridable: isOverridable(r), canSpend: { minor: this.t.ledger.spendableOffline(personId, cur), currency: cur } };
  }

  checkPurchase(req: { requestId: string; personId: string; amount: Money }): { ok: true } | PurchaseRefusal {
    const p = this.purchaseParty(req);
    if (!p.ok) return p;
    const d = this.t.ledger.checkOffline(req.personId, req.amount.minor, p.cur);
    return d.allow ? { ok: true } : this.limitRefusal(d.reason, req.personId, p.cur);
  }

  authorizePurchase(req: PurchaseRequest): { ok: true; receipt: Receipt } | PurchaseRefusal {
    const no = (reason: PurchaseDecline) => ({ ok: false as const, reason, overridable: false });
    const p = this.purchaseParty(req);
    if (!p.ok) return p;
    const { person, cur } = p;
    // A supervisor's approval (req.overrideBy) goes into the signed record as approvedBy + the limits it raised;
    // the ledger re-checks the approver (active supervisor, not the cashier) and waives only those limits.
    const waived = req.overrideBy !== null ? this.t.ledger.limitsToOverride(req.personId, req.amount.minor, cur) : null;
    const approvedBy = req.overrideBy !== null && waived && waived.length > 0 ? req.overrideBy : null;
    const override = approvedBy !== null && waived ? { approvedBy, overriddenLimits: waived } : {};
    try {
      // The ledger checks the offline limits inside its append transaction.
      const rec = this.t.ledger.append({
        type: 'purchase', operatorId: req.operatorId, purchaseId: req.requestId, customerId: req.personId, accountId: p.accountId,
        amountMinor: req.amount.minor, currency: cur, pinVerified: req.pinVerified, offline: true,
        ...override,
      });
      return { ok: true, receipt: purchaseReceipt(this.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), person, req.amount, approvedBy === null ? null : this.operatorName(approvedBy)) };
    } catch (err) {
      if (err instanceof OfflineRefusedError) return this.limitRefusal(err.decision.reason, req.personId, cur);
      if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return no('duplicate-request');
      if (err instanceof LedgerError && err.code === 'OVERRIDE_REFUSED') {
        const d = this.t.ledger.checkOffline(req.personId, req.amount.minor, cur);
        return no(d.allow ? 'store-error' : (LIMIT[d.reason] ?? 'store-error'));
      }
      throw err;
    }
  }

  findRecord(seq: number): Original | null {
    const row = this.store.journal.get(seq);
    if (!row) return null;
    const b = JSON.parse(row.body) as RecordBody;
    if (b.type === 'template_update' || b.type === 'report_request' || b.type === 'lease_release') return null; // no money, nothing to reverse: not offered
    const kind: Original['kind'] =
      b.type === 'salary_payout' ? 'payout' : b.type === 'purchase' ? (b.biller ? 'bill' : 'purchase') : b.type === 'day_close' ? 'day-close' : b.type === 'meter_reading' ? 'meter-reading' : b.type === 'mandate_cancel' ? 'mandate-cancel' : b.type === 'pin_set' ? 'pin-set' : b.type;
    const p = row.partyId ? this.person(row.partyId) : null;
    return {
      recordId: row.refId,
      seq: row.seq,
      kind,
      at: new Date(row.hlcMs).toISOString(),
      amount: row.amountMinor !== null && row.currency ? { minor: row.amountMinor, currency: row.currency } : null,
      personName: p ? { ar: p.nameAr, latin: p.nameLatin } : null,
    };
  }

  recordReversal(req: { kind: ReversalKind; originalId: string; operatorId: string; supervisorId: string }): Result<{ receipt: Receipt }, ReversalRefusal> {
    const o = this.store.journal.byRef('purchase', req.originalId);
    if (!o) return { ok: false, reason: 'not-found' };
    const b = JSON.parse(o.body) as RecordBody;
    if (b.type !== 'purchase') return { ok: false, reason: 'not-reversible' };
    if (this.store.journal.voidOf(o.seq, this.terminalId()) !== undefined || this.store.journal.refundedMinor(b.purchaseId) > 0) return { ok: false, reason: 'already-reversed' };
    const lastClose = this.store.journal.lastOfType('day_close');
    if (req.kind === 'void' && lastClose && o.seq < lastClose.seq) return { ok: false, reason: 'void-after-close' };
    const common = { operatorId: req.operatorId, amountMinor: b.amountMinor, currency: b.currency, approvedBy: req.supervisorId, reason: `${req.kind} approved at the counter` };
    try {
      const rec =
        req.kind === 'refund'
          ? this.t.ledger.append({ type: 'refund', refundId: randomUUID(), originalPurchaseId: b.purchaseId, originalTerminalId: b.terminalId, originalSeq: b.seq, customerId: b.customerId, accountId: b.accountId, ...common })
          : this.t.ledger.append({ type: 'void', voidId: randomUUID(), targetTerminalId: b.terminalId, targetSeq: b.seq, targetType: 'purchase', targetId: b.purchaseId, ...common });
      const person = this.person(b.customerId);
      const receipt = reversalReceipt(this.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), req.kind, b.seq, { minor: b.amountMinor, currency: b.currency }, this.operatorName(req.supervisorId), person);
      return { ok: true, receipt };
    } catch (err) {
      if (err instanceof LedgerError && (err.code === 'REFUND_REFUSED' || err.code === 'VOID_REFUSED')) return { ok: false, reason: 'already-reversed' };
      throw err;
    }
  }

  async saveEnrolment(req: EnrolmentRequest<T>): Promise<{ personId: string; receipt: Receipt }> {
    // An operator's bootstrap enrolment goes under the operator's id: their palm is how they sign in (operatorForPerson).
    const personId = req.enrolAs?.personId ?? randomUUID();
    if (req.enrolAs && (this.store.people.get(personId) || this.store.templates.byPerson(personId).length > 0)) {
      throw new PalmPayError('OPERATOR_PALM_EXISTS', `a palm is already enrolled here under ${personId}`);
    }
    const d = req.draft;
    const name = joinName(d.nameAr, d.nameLatin);
    // The PIN the person chose: hashed here (scrypt), before the transaction; only the verifier is stored and signed.
    const pin = req.pin === null ? { pinDeferred: true as const } : { pinHash: await hashPin(req.pin) };
    // A module that gives no image: its feature is the palm; the record pins it and no templates (CANONICAL.md §9).
    const moduleCapture = this.opts.moduleFeatureOf?.(req.templates) ?? null;
    return this.store.transaction(() => {
      const now = this.now();
      this.store.people.upsert({ personId, name, idNumber: d.idNumber, phone: d.phone || null, employerId: d.employer || null, status: 'provisional', updatedAtMs: now });
      const digests: string[] = [];
      const hands: Array<'left' | 'right'> = [];
      let moduleFeature: { family: string; digest: string } | undefined;
      if (moduleCapture) {
        const row = sealModuleFeature(this.t.keys.sealer, personId, moduleCapture.family, moduleCapture.feature, now);
        this.store.moduleFeatures.put(row);
        moduleFeature = { family: row.family, digest: row.digest };
      }
      for (const hand of ['left', 'right'] as const) {
        const captures = req.templates[hand];
        if (captures.length > 0) hands.push(hand);
        if (moduleCapture) continue;
        const stored = this.opts.fuse && captures.length > 0 ? [this.opts.fuse(captures)] : captures;
        for (const t of stored) {
          const bytes = this.opts.encode(t);
          const templateId = randomUUID();
          const digest = createHash('sha256').update(bytes).digest('hex');
          digests.push(digest);
          this.store.templates.add({ templateId, personId, hand, sealed: this.t.keys.sealer.seal(bytes, templateId), digest, provisional: true, createdAtMs: now });
        }
      }
      const rec = this.t.ledger.append({
        type: 'enrolment', operatorId: req.operatorId, enrolmentId: randomUUID(), personId,
        person: { name, idNumber: d.idNumber, ...(d.phone ? { phone: d.phone } : {}), ...(d.employer ? { employerId: d.employer } : {}), ...(d.accountId ? { accountId: d.accountId } : {}) },
        templateDigests: digests.slice(0, 32), hands,
        consent: { given: true, method: 'verbal', textVersion: 'consent-v1' },
        provisional: true,
        ...pin,
        ...(req.enrolAs ? { enrolCodeId: req.enrolAs.enrolCodeId } : {}),
        ...(moduleFeature ? { moduleFeature } : {}),
      });
      const person: Person = { id: personId, nameAr: d.nameAr, nameLatin: d.nameLatin, status: 'provisional' };
      const receipt = enrolmentReceipt(this.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), person, { left: req.templates.left.length, right: req.templates.right.length }, req.pin !== null);
      return { personId, receipt };
    });
  }

  duplicateCandidates(personIds: string[]): DuplicateCandidate[] {
    // A match the cache cannot name still blocks: better an unnamed candidate than a silent duplicate.
    return personIds.map((id) => {
      const p = this.person(id);
      return { personId: id, nameAr: p?.nameAr ?? '', nameLatin: p?.nameLatin ?? '' };
    });
  }

  statement(personId: string, limit: number): StatementEntry[] {
    // The person's records, and the voids of any of them (a void names its target by seq, not by person).
    const rows = this.store.db
      .prepare(
        `SELECT seq, body, hlc_ms FROM journal WHERE party_id = ? AND type IN ('salary_payout', 'purchase', 'refund')
         UNION ALL
         SELECT seq, body, hlc_ms FROM journal WHERE type = 'void' AND json_extract(body, '$.targetSeq') IN (SELECT seq FROM journal WHERE party_id = ?)
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(personId, personId, limit) as Array<{ seq: number; body: string; hlc_ms: number }>;
    const bodies = rows.map((r) => ({ seq: r.seq, at: new Date(r.hlc_ms).toISOString(), b: JSON.parse(r.body) as RecordBody }));
    const voided = new Set(bodies.flatMap(({ b }) => (b.type === 'void' ? [b.targetSeq] : [])));
    return bodies.flatMap(({ seq, at, b }): StatementEntry[] => {
      const common = { at, ref: String(seq), ...(voided.has(seq) ? { voided: true } : {}) };
      switch (b.type) {
        case 'salary_payout':
          return [{ ...common, kind: 'payout', sign: 1, period: b.period, amount: { minor: b.amountMinor, currency: b.currency } }];
        case 'purchase':
          return [{ ...common, kind: b.biller ? 'bill' : 'purchase', sign: -1, amount: { minor: b.amountMinor, currency: b.currency } }];
        case 'refund':
          return [{ ...common, kind: 'refund', sign: 1, amount: { minor: b.amountMinor, currency: b.currency } }];
        case 'void':
          // Undoing a purchase gives the money back; undoing a payout or a refund takes it back.
          return [{ ...common, kind: 'void', sign: b.targetType === 'purchase' ? 1 : -1, voidOf: String(b.targetSeq), amount: { minor: b.amountMinor, currency: b.currency } }];
        default:
          return [];
      }
    });
  }

  allowanceLeft(personId: string): AllowanceLeft | null {
    const cur = this.store.people.accounts(personId).find((a) => a.status === 'active')?.currency ?? 'SYP';
    const a = this.t.ledger.centreCopies.allowance(personId, currency(cur)); // sealed: a raised balance is refused
    if (!a) return null;
    const balance = a.balanceMinor === null ? null : { amount: { minor: a.balanceMinor, currency: cur }, asOf: new Date(a.grantedAtMs).toISOString(), unsentHere: { minor: a.usedMinor, currency: cur } };
    return { left: { minor: Math.max(0, a.limitMinor - a.usedMinor), currency: cur }, expiresAt: new Date(a.expiresAtMs).toISOString(), expired: this.now() > a.expiresAtMs, balance };
  }

  dayTotals(): DayTotals {
    const z = this.t.ledger.dayCloseTotals();
    const sum = (pick: (t: (typeof z.totals)[number]) => [number, number]): { count: number; totals: Money[] } => ({
      count: z.totals.reduce((a, t) => a + pick(t)[0], 0),
      totals: z.totals.filter((t) => pick(t)[0] > 0).map((t) => ({ currency: t.currency, minor: pick(t)[1] })),
    });
    const enrolments = (this.store.db.prepare(`SELECT count(*) FROM journal WHERE type = 'enrolment' AND seq >= ? AND seq <= ?`).pluck().get(z.firstSeq, z.lastSeq) as number) ?? 0;
    // Bills are purchases with a biller: the ledger counts them in both; shown apart here.
    const byType: TypeTotal[] = [
      { kind: 'payout', ...sum((t) => [t.payoutCount, t.payoutMinor]) },
      { kind: 'purchase', ...sum((t) => [t.purchaseCount - t.billCount, t.purchaseMinor - t.billMinor]) },
      { kind: 'bill', ...sum((t) => [t.billCount, t.billMinor]) },
      { kind: 'refund', ...sum((t) => [t.refundCount, t.refundMinor]) },
      { kind: 'void', ...sum((t) => [t.voidCount, t.voidMinor]) },
      { kind: 'enrolment', count: enrolments, totals: [] },
    ];
    const float = this.store.settings.get<Money[]>(FLOW_SETTING.openingFloat) ?? [];
    const payouts = byType[0]!.totals;
    const currencies = [...new Set([...float, ...payouts].map((m) => m.currency))].sort();
    const expectedCash = currencies.map((c) => ({ currency: c, minor: (float.find((m) => m.currency === c)?.minor ?? 0) - (payouts.find((m) => m.currency === c)?.minor ?? 0) }));
    return { fromSeq: z.firstSeq, toSeq: z.lastSeq, byType, expectedCash };
  }

  recordDayClose(req: DayCloseRequest): Receipt {
    return this.store.transaction(() => {
      const z = this.t.ledger.dayCloseTotals();
      const rec = this.t.ledger.append({
        type: 'day_close', operatorId: req.operatorId, dayCloseId: randomUUID(),
        businessDate: new Date(this.now()).toISOString().slice(0, 10),
        firstSeq: z.firstSeq, lastSeq: z.lastSeq, totals: z.totals,
        cash: req.counted.filter((m) => m.currency === 'SYP' || m.currency === 'USD').map((m) => ({
          currency: currency(m.currency), countedMinor: m.minor, expectedMinor: req.totals.expectedCash.find((x) => x.currency === m.currency)?.minor ?? 0,
        })),
        ...(req.reason ? { differenceReason: req.reason.slice(0, 200) } : {}),
      });
      // The next day starts with what was counted in the drawer.
      this.store.settings.set(FLOW_SETTING.openingFloat, req.counted);
      return dayCloseReceipt(this.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), req);
    });
  }

  private meta(r: { seq: number; hash: string; at: number }, operatorId: string) {
    return { recordId: r.hash, seq: r.seq, terminalId: this.terminalId(), at: new Date(r.at).toISOString(), operatorId };
  }
}

