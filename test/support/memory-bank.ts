// An in-memory Bank: the executable contract of ports.ts `Bank` (same refusals, same idempotency), used by the
// flow tests and as a stand-in, announced as such, while the SQLite store is not wired. Not durable: a restart
// loses everything, so it never runs in production mode.
import { randomUUID } from 'node:crypto';
import type { PinResult } from '../../src/flows/auth.ts';
import type { DayTotals, TypeTotal } from '../../src/flows/day-close.ts';
import type { DuplicateCandidate } from '../../src/flows/enrolment.ts';
import { checkOfflineLimits, spendableOffline, type OfflineLimits } from '../../src/flows/limits.ts';
import { totals } from '../../src/flows/payout.ts';
import type { Bank, DayCloseRequest, EnrolmentRequest, Result } from '../../src/flows/ports.ts';
import type { PurchaseRefusal, PurchaseRequest } from '../../src/flows/purchase.ts';
import { billKey, billsStale, type BillDecline, type BillLookup, type BillPaymentRequest, type DueBill } from '../../src/flows/bill.ts';
import { billReceipt, mandateReceipt, pinSetReceipt, readingReceipt, dayCloseReceipt, enrolmentReceipt, payoutReceipt, purchaseReceipt, reversalReceipt } from '../../src/flows/receipts.ts';
import type { Original, ReversalKind, ReversalRefusal } from '../../src/flows/reversal.ts';
import type { AllowanceLeft, Money, Operator, Person, Receipt, StatementEntry, Voucher } from '../../src/flows/types.ts';
import type { PayoutFailure } from '../../src/flows/payout.ts';
import type { Meter, MeterLookup, ReadingDecline, ReadingRequest } from '../../src/flows/meter-reading.ts';
import type { HeldMandate, MandateDecline, MandateRequest } from '../../src/flows/mandate.ts';
import type { PinSetDecline, PinSetRequest } from '../../src/flows/pin-set.ts';

export interface MemoryVoucher {
  id: string;
  personId: string;
  period: string;
  amount: Money;
  leasedTo: string;
  redeemedBy: string | null;
}

interface MemoryRecord {
  id: string;
  seq: number;
  kind: Exclude<Receipt['kind'], 'report'>; // a printed report is no record
  at: number;
  personId: string | null;
  amount: Money | null;
  operatorId: string;
  receipt: Receipt;
  drawerOpened: boolean;
  reverses?: string;
  requestId?: string;
  uploaded: boolean;
}

export interface MemoryBankOptions {
  terminalId: string;
  limits: OfflineLimits;
  now?: () => number;
  /** Cash in the drawer at the start of the day, per currency. */
  openingFloat?: Money[];
  pinAttempts?: number;
}

const MAX_PIN_ATTEMPTS = 3;

export class MemoryBank<T> implements Bank<T> {
  readonly people = new Map<string, Person>();
  readonly vouchersById = new Map<string, MemoryVoucher>();
  readonly operators = new Map<string, Operator & { personId: string; pin: string; wrong: number }>();
  readonly customerPins = new Map<string, { pin: string; wrong: number }>();
  readonly allowances = new Map<string, number>();
  readonly templates = new Map<string, T[]>();
  readonly records: MemoryRecord[] = [];
  lastSyncAt: number | null;
  /** The feed's bill cache: bills by biller:bill, with the subscriber and whether paid here. */
  readonly bills = new Map<string, DueBill & { subscriber: string; paid: boolean }>();
  /** When the last complete feed arrived (null: never). */
  feedAt: number | null;
  billMaxAgeMs = 3 * 86_400_000;
  private lastCloseSeq = 0;
  private readonly now: () => number;

  constructor(private readonly opts: MemoryBankOptions) {
    this.now = opts.now ?? Date.now;
    this.lastSyncAt = this.now();
    this.feedAt = this.now();
  }

  /** The centre's subscriber links as the feed delivered them: `biller:subscriber:person`. */
  readonly links = new Set<string>();
  link(billerId: string, subscriber: string, personId: string): void {
    this.links.add(`${billerId}:${subscriber}:${personId}`);
  }
  mayPayBills(personId: string, subscriber: string, billerIds: readonly string[]): boolean {
    return billerIds.length > 0 && billerIds.every((b) => this.links.has(`${b}:${subscriber}:${personId}`));
  }

  addBill(subscriber: string, b: DueBill): void {
    this.bills.set(billKey(b), { ...b, subscriber, paid: false });
  }
  lookupBills(subscriber: string): BillLookup {
    const mine = [...this.bills.values()].filter((b) => b.subscriber === subscriber);
    const due = mine.filter((b) => !b.paid).map(({ subscriber: _s, paid: _p, ...b }) => b);
    return { known: mine.length > 0, bills: due, ageMs: this.feedAt === null ? null : this.now() - this.feedAt, maxAgeMs: this.billMaxAgeMs };
  }
  hasPin(personId: string): boolean {
    return this.customerPins.has(personId);
  }
  payBills(req: BillPaymentRequest): { ok: true; receipt: Receipt } | { ok: false; reason: BillDecline } {
    if (this.records.some((r) => r.requestId === req.requestId)) return { ok: false, reason: 'duplicate-request' };
    const person = this.people.get(req.personId);
    if (!person || person.status === 'revoked') return { ok: false, reason: 'person-revoked' };
    if (!this.mayPayBills(req.personId, req.subscriber, [...new Set(req.bills.map((b) => b.billerId))])) return { ok: false, reason: 'not-linked' };
    if (!this.customerPins.has(req.personId)) return { ok: false, reason: 'pin-not-set' };
    if (billsStale(this.feedAt === null ? null : this.now() - this.feedAt, this.billMaxAgeMs)) return { ok: false, reason: 'bills-stale' };
    const chosen = req.bills.map((b) => this.bills.get(billKey(b)));
    for (const [i, c] of chosen.entries()) {
      const b = req.bills[i]!;
      if (!c || c.paid || c.subscriber !== req.subscriber || c.amount.minor !== b.amount.minor || c.amount.currency !== b.amount.currency) return { ok: false, reason: 'bill-changed' };
    }
    const list = chosen as Array<DueBill & { paid: boolean }>;
    const total = { minor: list.reduce((n, b) => n + b.amount.minor, 0), currency: list[0]!.amount.currency };
    const rec = this.append({ kind: 'bill', personId: req.personId, amount: total, operatorId: req.operatorId, requestId: req.requestId }, (m) => billReceipt(m, person, req.subscriber, list, total));
    for (const b of list) b.paid = true;
    return { ok: true, receipt: rec.receipt };
  }

  // --- meter readings and mandates (issue 17d) ---
  /** The meters the feed named, by subscriber number. */
  readonly meters = new Map<string, Meter[]>();
  lookupMeters(subscriber: string): MeterLookup {
    const meters = this.meters.get(subscriber) ?? [];
    return { known: meters.length > 0, meters };
  }
  recordReading(req: ReadingRequest): { ok: true; receipt: Receipt } | { ok: false; reason: ReadingDecline } {
    if (this.records.some((r) => r.requestId === req.requestId)) return { ok: false, reason: 'duplicate-request' };
    const person = this.people.get(req.personId);
    if (!person || person.status === 'revoked') return { ok: false, reason: 'person-revoked' };
    const meter = (this.meters.get(req.subscriber) ?? []).find((m) => m.billerId === req.billerId);
    if (!meter) return { ok: false, reason: 'store-error' };
    const sup = req.approvedBy === null ? null : this.operators.get(req.approvedBy);
    if (req.approvedBy !== null && (!sup || !sup.roles.includes('supervisor') || req.approvedBy === req.operatorId)) return { ok: false, reason: 'override-refused' };
    if (sup === null && meter.lastReading !== null && req.reading < meter.lastReading) return { ok: false, reason: 'needs-supervisor' };
    const rec = this.append({ kind: 'meter-reading', personId: req.personId, amount: null, operatorId: req.operatorId, requestId: req.requestId },
      (m) => readingReceipt(m, person, req, sup ? { ar: sup.name, latin: sup.name } : null));
    meter.lastReading = req.reading;
    return { ok: true, receipt: rec.receipt };
  }
  setCustomerPin(req: PinSetRequest): Promise<{ ok: true; receipt: Receipt } | { ok: false; reason: PinSetDecline }> {
    const no = (reason: PinSetDecline) => Promise.resolve({ ok: false as const, reason });
    if (this.records.some((r) => r.requestId === req.requestId)) return no('duplicate-request');
    const person = this.people.get(req.personId);
    if (!person || person.status === 'revoked') return no('person-revoked');
    if (person.status === 'provisional') return no('person-provisional');
    const sup = this.operators.get(req.approvedBy);
    if (!sup || !sup.roles.includes('supervisor') || req.approvedBy === req.operatorId) return no('override-refused');
    const rec = this.append({ kind: 'pin-set', personId: req.personId, amount: null, operatorId: req.operatorId, requestId: req.requestId }, (m) => pinSetReceipt(m, person, { ar: sup.name, latin: sup.name }));
    this.customerPins.set(req.personId, { pin: req.pin, wrong: 0 });
    return Promise.resolve({ ok: true, receipt: rec.receipt });
  }
  recordMandate(req: MandateRequest): { ok: true; receipt: Receipt } | { ok: false; reason: MandateDecline } {
    if (this.records.some((r) => r.requestId === req.requestId)) return { ok: false, reason: 'duplicate-request' };
    const person = this.people.get(req.personId);
    if (!person || person.status === 'revoked') return { ok: false, reason: 'person-revoked' };
    if (!person.accountId) return { ok: false, reason: 'no-account' };
    if (!this.customerPins.has(req.personId)) return { ok: false, reason: 'pin-not-set' };
    const rec = this.append({ kind: req.mode === 'sign' ? 'mandate' : 'mandate-cancel', personId: req.personId, amount: null, operatorId: req.operatorId, requestId: req.requestId },
      (m) => mandateReceipt(m, person, { billerId: req.billerId, subscriber: req.subscriber, max: req.mode === 'sign' ? req.max : null }));
    const key = `${req.billerId}:${req.subscriber}`;
    const held = (this.mandates.get(req.personId) ?? []).filter((x) => `${x.billerId}:${x.subscriber}` !== key);
    if (req.mode === 'sign' && req.max) held.push({ billerId: req.billerId, subscriber: req.subscriber, max: req.max, at: new Date(rec.at).toISOString() });
    this.mandates.set(req.personId, held);
    return { ok: true, receipt: rec.receipt };
  }
  /** Mandates signed and not ended, per person. */
  readonly mandates = new Map<string, HeldMandate[]>();
  mandatesOf(personId: string): HeldMandate[] {
    return this.mandates.get(personId) ?? [];
  }

  // --- seeding (tests, demo) ---
  addPerson(p: Person, opts: { pin?: string; allowance?: number } = {}): void {
    this.people.set(p.id, p);
    if (opts.pin) this.customerPins.set(p.id, { pin: opts.pin, wrong: 0 });
    if (opts.allowance !== undefined) this.allowances.set(p.id, opts.allowance);
  }
  addVoucher(v: Omit<MemoryVoucher, 'redeemedBy'>): void {
    this.vouchersById.set(v.id, { ...v, redeemedBy: null });
  }
  private operatorName(operatorId: string): { ar: string; latin: string } {
    const o = this.operators.get(operatorId);
    return o ? { ar: o.nameAr ?? o.name, latin: o.name } : { ar: operatorId, latin: operatorId };
  }

  addOperator(o: Operator & { personId: string; pin: string }): void {
    this.operators.set(o.id, { ...o, wrong: 0 });
  }

  terminalId(): string {
    return this.opts.terminalId;
  }
  person(personId: string): Person | null {
    return this.people.get(personId) ?? null;
  }
  vouchers(personId: string): Voucher[] {
    return [...this.vouchersById.values()]
      .filter((v) => v.personId === personId)
      .map((v) => ({ id: v.id, period: v.period, amount: v.amount, leasedHere: v.leasedTo === this.opts.terminalId, redeemed: v.redeemedBy !== null }));
  }
  operatorForPerson(personId: string): Operator | null {
    for (const o of this.operators.values()) if (o.personId === personId) return { id: o.id, name: o.name, roles: o.roles };
    return null;
  }
  verifyOperatorPin(operatorId: string, pin: string): PinResult {
    const o = this.operators.get(operatorId);
    return o ? this.checkPin(o, pin) : { ok: false, locked: true };
  }
  verifyCustomerPin(personId: string, pin: string): PinResult {
    const c = this.customerPins.get(personId);
    return c ? this.checkPin(c, pin) : { ok: false, locked: true };
  }
  private checkPin(entry: { pin: string; wrong: number }, pin: string): PinResult {
    const max = this.opts.pinAttempts ?? MAX_PIN_ATTEMPTS;
    if (entry.wrong >= max) return { ok: false, locked: true };
    if (entry.pin === pin) {
      entry.wrong = 0;
      return { ok: true };
    }
    entry.wrong++;
    return entry.wrong >= max ? { ok: false, locked: true } : { ok: false, attemptsLeft: max - entry.wrong };
  }

  private append(r: Omit<MemoryRecord, 'id' | 'seq' | 'at' | 'receipt' | 'drawerOpened' | 'uploaded'>, receipt: (m: { recordId: string; seq: number; terminalId: string; at: string; operatorId: string }) => Receipt): MemoryRecord {
    const at = this.now();
    const meta = { recordId: randomUUID(), seq: this.records.length + 1, terminalId: this.opts.terminalId, at: new Date(at).toISOString(), operatorId: r.operatorId };
    const rec: MemoryRecord = { ...r, id: meta.recordId, seq: meta.seq, at, receipt: receipt(meta), drawerOpened: false, uploaded: false };
    this.records.push(rec);
    return rec;
  }

  recordPayout(req: { personId: string; voucherIds: string[]; operatorId: string }): Result<{ receipt: Receipt }, PayoutFailure> {
    const person = this.people.get(req.personId);
    if (!person || person.status !== 'active') return { ok: false, reason: 'person-revoked' };
    const vs = req.voucherIds.map((id) => this.vouchersById.get(id));
    // Check every voucher first, then change: all or nothing, like the SQLite transaction.
    for (const v of vs) {
      if (!v || v.personId !== req.personId) return { ok: false, reason: 'store-error' };
      if (v.redeemedBy !== null) return { ok: false, reason: 'already-paid' };
      if (v.leasedTo !== this.opts.terminalId) return { ok: false, reason: 'voucher-not-leased-here' };
    }
    const list = vs as MemoryVoucher[];
    const sum = totals(list.map((v) => v.amount));
    const rec = this.append({ kind: 'payout', personId: req.personId, amount: sum.length === 1 ? sum[0]! : null, operatorId: req.operatorId }, (m) =>
      payoutReceipt(m, person, list.map((v) => ({ id: v.id, period: v.period, amount: v.amount, leasedHere: true, redeemed: true })), sum),
    );
    for (const v of list) v.redeemedBy = rec.id;
    return { ok: true, receipt: rec.receipt };
  }
  markDrawerOpened(recordId: string): void {
    const r = this.records.find((x) => x.id === recordId);
    if (r) r.drawerOpened = true;
  }
  pendingDrawer(): Array<{ person: Person; receipt: Receipt; operatorId: string }> {
    return this.records
      .filter((r) => r.kind === 'payout' && !r.drawerOpened && r.personId)
      .map((r) => ({ person: this.people.get(r.personId!)!, receipt: r.receipt, operatorId: r.operatorId }));
  }

  /** The limit inputs for this customer now, as the flows' model of the ledger's check sees them. */
  private limitInput(personId: string, amount: number, override: boolean) {
    const unsynced = this.records.filter((r) => !r.uploaded && (r.kind === 'purchase' || r.kind === 'bill'));
    const spent = unsynced.filter((r) => r.personId === personId).reduce((a, r) => a + (r.amount?.minor ?? 0), 0);
    const oldest = this.records.find((r) => !r.uploaded);
    return {
      amount,
      allowanceLeft: (this.allowances.get(personId) ?? 0) - spent,
      terminalUnsynced: unsynced.reduce((a, r) => a + (r.amount?.minor ?? 0), 0),
      oldestUnsentAt: oldest ? oldest.at : null,
      lastSyncAt: this.lastSyncAt,
      now: this.now(),
      override,
    };
  }

  private decidePurchase(req: { requestId: string; personId: string; amount: Money }, override: boolean): { ok: true; person: Person } | PurchaseRefusal {
    if (this.records.some((r) => r.requestId === req.requestId)) return { ok: false, reason: 'duplicate-request', overridable: false };
    const person = this.people.get(req.personId);
    if (!person || person.status === 'revoked') return { ok: false, reason: 'person-revoked', overridable: false };
    if (person.status === 'provisional') return { ok: false, reason: 'person-provisional', overridable: false };
    const input = this.limitInput(req.personId, req.amount.minor, override);
    const d = checkOfflineLimits(this.opts.limits, input);
    if (!d.ok) return { ...d, canSpend: { minor: spendableOffline(this.opts.limits, input), currency: req.amount.currency } };
    return { ok: true, person };
  }

  checkPurchase(req: { requestId: string; personId: string; amount: Money }): { ok: true } | PurchaseRefusal {
    const d = this.decidePurchase(req, false);
    return d.ok ? { ok: true } : d;
  }

  authorizePurchase(req: PurchaseRequest): { ok: true; receipt: Receipt } | PurchaseRefusal {
    const d = this.decidePurchase(req, req.overrideBy !== null);
    if (!d.ok) return d;
    const person = d.person;
    const rec = this.append({ kind: 'purchase', personId: req.personId, amount: req.amount, operatorId: req.operatorId, requestId: req.requestId }, (m) =>
      purchaseReceipt(m, person, req.amount, req.overrideBy === null ? null : this.operatorName(req.overrideBy)),
    );
    return { ok: true, receipt: rec.receipt };
  }

  findRecord(seq: number): Original | null {
    const r = this.records.find((x) => x.seq === seq);
    if (!r) return null;
    const p = r.personId ? this.people.get(r.personId) : undefined;
    return { recordId: r.id, seq: r.seq, kind: r.kind, at: new Date(r.at).toISOString(), amount: r.amount, personName: p ? { ar: p.nameAr, latin: p.nameLatin } : null };
  }
  recordReversal(req: { kind: ReversalKind; originalId: string; operatorId: string; supervisorId: string }): Result<{ receipt: Receipt }, ReversalRefusal> {
    const o = this.records.find((x) => x.id === req.originalId);
    if (!o) return { ok: false, reason: 'not-found' };
    if (o.kind !== 'purchase' && o.kind !== 'bill') return { ok: false, reason: 'not-reversible' };
    if (this.records.some((x) => x.reverses === o.id)) return { ok: false, reason: 'already-reversed' };
    if (req.kind === 'void' && o.seq <= this.lastCloseSeq) return { ok: false, reason: 'void-after-close' };
    const p = o.personId ? (this.people.get(o.personId) ?? null) : null;
    const rec = this.append({ kind: req.kind, personId: o.personId, amount: o.amount, operatorId: req.operatorId, reverses: o.id }, (m) =>
      reversalReceipt(m, req.kind, o.seq, o.amount!, this.operatorName(req.supervisorId), p),
    );
    return { ok: true, receipt: rec.receipt };
  }

  async saveEnrolment(req: EnrolmentRequest<T>): Promise<{ personId: string; receipt: Receipt }> {
    const person: Person = { id: req.enrolAs?.personId ?? randomUUID(), nameAr: req.draft.nameAr, nameLatin: req.draft.nameLatin, status: 'provisional', ...(req.draft.accountId ? { accountId: req.draft.accountId } : {}) };
    this.people.set(person.id, person);
    this.templates.set(person.id, [...req.templates.left, ...req.templates.right]);
    if (req.pin !== null) this.customerPins.set(person.id, { pin: req.pin, wrong: 0 });
    const rec = this.append({ kind: 'enrolment', personId: person.id, amount: null, operatorId: req.operatorId }, (m) =>
      enrolmentReceipt(m, person, { left: req.templates.left.length, right: req.templates.right.length }, req.pin !== null),
    );
    return { personId: person.id, receipt: rec.receipt };
  }
  duplicateCandidates(personIds: string[]): DuplicateCandidate[] {
    // A match the cache cannot name still blocks: better an unnamed candidate than a silent duplicate.
    return personIds.map((id) => {
      const p = this.people.get(id);
      return { personId: id, nameAr: p?.nameAr ?? '', nameLatin: p?.nameLatin ?? '' };
    });
  }

  statement(personId: string, limit: number): StatementEntry[] {
    return this.records
      .filter((r) => r.personId === personId && r.amount && r.kind !== 'enrolment' && r.kind !== 'day-close')
      .slice(-limit)
      .reverse()
      .map((r) => {
        const target = r.reverses ? this.records.find((x) => x.id === r.reverses) : undefined;
        const sign: 1 | -1 = r.kind === 'purchase' || r.kind === 'bill' ? -1 : r.kind === 'void' ? (target?.kind === 'purchase' || target?.kind === 'bill' ? 1 : -1) : 1;
        const voided = this.records.some((x) => x.kind === 'void' && x.reverses === r.id);
        return { kind: r.kind as StatementEntry['kind'], at: new Date(r.at).toISOString(), amount: r.amount!, ref: String(r.seq), sign, ...(voided ? { voided } : {}), ...(target ? { voidOf: String(target.seq) } : {}) };
      });
  }

  allowanceLeft(personId: string): AllowanceLeft | null {
    const granted = this.allowances.get(personId);
    if (granted === undefined) return null;
    const spent = this.records.filter((r) => !r.uploaded && r.personId === personId && (r.kind === 'purchase' || r.kind === 'bill')).reduce((a, r) => a + (r.amount?.minor ?? 0), 0);
    return { left: { minor: Math.max(0, granted - spent), currency: 'SYP' }, expiresAt: new Date(this.now() + 86_400_000).toISOString(), expired: false };
  }

  dayTotals(): DayTotals {
    const since = this.records.filter((r) => r.seq > this.lastCloseSeq && r.kind !== 'day-close');
    const kinds: TypeTotal['kind'][] = ['payout', 'purchase', 'bill', 'refund', 'void', 'enrolment'];
    const byType = kinds.map((kind) => {
      const rs = since.filter((r) => r.kind === kind);
      return { kind, count: rs.length, totals: totals(rs.flatMap((r) => (r.amount ? [r.amount] : []))) };
    });
    const paidOut = totals(since.filter((r) => r.kind === 'payout').flatMap((r) => (r.amount ? [r.amount] : [])));
    const float = this.opts.openingFloat ?? [];
    const currencies = [...new Set([...float, ...paidOut].map((m) => m.currency))];
    const expectedCash = currencies.map((currency) => ({
      currency,
      minor: (float.find((m) => m.currency === currency)?.minor ?? 0) - (paidOut.find((m) => m.currency === currency)?.minor ?? 0),
    }));
    return { fromSeq: this.lastCloseSeq + 1, toSeq: this.records.length, byType, expectedCash };
  }
  recordDayClose(req: DayCloseRequest): Receipt {
    const rec = this.append({ kind: 'day-close', personId: null, amount: null, operatorId: req.operatorId }, (m) => dayCloseReceipt(m, req));
    this.lastCloseSeq = rec.seq;
    return rec.receipt;
  }
}
