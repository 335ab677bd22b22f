// The ledger: appends signed, hash-chained records. One append = the journal row (the signed record), its
// domain effects (voucher paid, allowance used) and its outbox row, in ONE SQLite transaction. append()
// returns only after COMMIT with synchronous=FULL: that return is the acknowledged point ("record before cash").
import { PalmPayError } from '../util/errors.ts';
import type { Store } from '../store/store.ts';
import {
  GENESIS_HASH,
  RECORD_VERSION,
  SYSTEM_OPERATOR,
  idempotencyKey,
  parseBody,
  type Currency,
  type DayCloseTotal,
  type RecordBody,
  type RecordDraft,
  type ServerTime,
  type SignedRecord,
} from '../protocol/record.ts';
import { sealWithCanonical, recordHash, makeVerifier } from '../protocol/sign.ts';
import { HLC_ZERO, hlcNext } from '../protocol/hlc.ts';
import { comparePinVersions, pinVersionOf, type PinVersion } from '../protocol/pin-verifier.ts';
import { decideOffline, DEFAULT_OFFLINE_LIMITS, isOverridable, spendableOffline, type OfflineDecision, type OfflineLimits, type OfflineState, type OverridableLimit } from './limits.ts';
import type { KeyStore } from './keystore.ts';
import type { OperatorGrant } from '../protocol/schemas.ts';
import { voucherRefusal, type VoucherRefusal } from './voucher-rule.ts';
import { AnchoredState, LAST_SYNC_SETTING, LIMITS_SETTING, LocalStateTamperedError, LocalTrust, noteTrustedSync, TrustedCentreCopies, TrustedCustomerPins, TrustedOperators, trustedLastSync } from './local-trust.ts';

export class LedgerError extends PalmPayError {}

/** An offline purchase a limit refuses; `decision` says which and why. */
export class OfflineRefusedError extends LedgerError {
  constructor(readonly decision: Extract<OfflineDecision, { allow: false }>) {
    super('OFFLINE_REFUSED', `offline payment refused (${decision.reason}): ${decision.message}`);
  }
}

/** A salary voucher this terminal may not pay (voucher-rule.ts); `reason` says which part of the rule, typed. */
export class VoucherRefusedError extends LedgerError {
  constructor(
    readonly voucherId: string,
    readonly reason: VoucherRefusal,
    why: string,
  ) {
    super('VOUCHER_REFUSED', `salary voucher ${voucherId} cannot be paid here: ${why}`);
  }
}

/** The lease id a draft names when this terminal holds no lease for the voucher: the rule then refuses it. */
const NO_LEASE = 'no-lease';

export const SETTING = {
  terminalId: 'terminal.id',
  publicKey: 'terminal.publicKeyHex',
  serverTime: 'sync.lastServerTime',
  lastSyncMs: LAST_SYNC_SETTING,
  offlineLimits: LIMITS_SETTING,
} as const;

export interface LedgerOptions {
  /** wall clock (ms); tests pass a fake one */
  now?: () => number;
  /** Folder of the signed journal-head anchor (anchor.ts); openTerminal passes the data folder. */
  anchorDir?: string;
}

export class Ledger {
  private serverTime: ServerTime;
  private readonly now: () => number;

  private constructor(
    readonly store: Store,
    private readonly keys: KeyStore,
    opts: LedgerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.serverTime = store.settings.get<ServerTime>(SETTING.serverTime) ?? { ms: 0, ref: '' };
    this.trust = new LocalTrust(keys);
    this.anchored = new AnchoredState(store, keys, opts.anchorDir, () => this.head());
    this.operators = new TrustedOperators(store, this.trust, this.anchored);
    this.customerPins = new TrustedCustomerPins(store, this.trust, this.anchored);
    this.centreCopies = new TrustedCentreCopies(store, this.trust);
  }

  private readonly trust: LocalTrust;
  /** The signed anchor outside the database: the journal's head and the digest of the sealed local state. */
  private readonly anchored: AnchoredState;
  /** Operators, read and written with their seal checked (local-trust.ts): the only way product code reaches them. */
  readonly operators: TrustedOperators;
  /** Customers' PIN hashes and lockouts, read and written with their seal checked. */
  readonly customerPins: TrustedCustomerPins;
  /** Vouchers, leases and allowances from the signed feed, stored sealed and used only when the seal holds. */
  readonly centreCopies: TrustedCentreCopies;

  /** Why the journal may not be appended to (behind its anchor, or the anchor gone), or undefined. */
  get truncation(): string | undefined {
    return this.anchored.truncated;
  }

  /**
   * Binds a key store to a database. Refuses (typed errors, nothing signed) when the database belongs to
   * another terminal or key, or when the journal's last record does not verify.
   */
  static open(store: Store, keys: KeyStore, opts: LedgerOptions = {}): Ledger {
    const pkHex = Buffer.from(keys.publicKey).toString('hex');
    const storedId = store.settings.get<string>(SETTING.terminalId);
    const storedPk = store.settings.get<string>(SETTING.publicKey);
    if (storedId === undefined && storedPk === undefined) {
      if (store.journal.count() > 0) throw new LedgerError('KEY_MISMATCH', 'the journal has records but no terminal identity: refusing to sign onto it');
      store.transaction(() => {
        store.settings.set(SETTING.terminalId, keys.terminalId);
        store.settings.set(SETTING.publicKey, pkHex);
      });
    } else if (storedId !== keys.terminalId || storedPk !== pkHex) {
      throw new LedgerError('KEY_MISMATCH', `this database belongs to terminal ${storedId ?? '?'} with another key; the key store is terminal ${keys.terminalId}: payments refused`);
    }
    const ledger = new Ledger(store, keys, opts);
    ledger.checkHead();
    ledger.anchored.open();
    return ledger;
  }

  get terminalId(): string {
    return this.keys.terminalId;
  }

  /** The chain head: last seq (0 when empty) and its hash. */
  head(): { seq: number; hash: string } {
    const h = this.store.journal.head();
    return h ? { seq: h.seq, hash: h.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Appends one record and returns it after commit. Throws (and writes nothing) on invalid input, a duplicate
   * id, a voucher that may not be paid here, an offline limit, or storage failure (e.g. STORE_FULL).
   */
  append(draft: RecordDraft): SignedRecord {
    this.anchored.assertAppendable();
    const nowMs = this.now();
    const record = this.appendInTransaction(draft, nowMs);
    // After the commit, including a caller's outer transaction (the record stands whatever happens next); never
    // for a record rolled back, which would look like a truncation at the next start. An anchor that could not be
    // written lags behind, which is allowed, and catches up with the next append.
    this.store.afterCommit(() => this.anchored.appended({ seq: record.seq, hash: record.hash }));
    return record;
  }

  private appendInTransaction(draft: RecordDraft, nowMs: number): SignedRecord {
    const { store } = this;
    return store.transaction(() => {
      const head = store.journal.head();
      const last = head ? (JSON.parse(head.body) as RecordBody) : undefined;
      const seq = (head?.seq ?? 0) + 1;
      const body = parseBody({
        ...draft,
        v: RECORD_VERSION,
        terminalId: this.keys.terminalId,
        seq,
        prevHash: head?.hash ?? GENESIS_HASH,
        hlc: hlcNext(last?.hlc ?? HLC_ZERO, nowMs, this.serverTime.ms),
        serverTime: this.serverTime,
      });
      const refId = idempotencyKey(body);
      const existing = store.journal.byRef(body.type, refId);
      if (existing) throw new LedgerError('RECORD_DUPLICATE', `${body.type} ${refId} is already recorded (seq ${existing.seq}); not recorded twice`);
      this.applyEffects(body, nowMs);
      const { record, canonical } = sealWithCanonical(body, this.keys.signer);
      store.journal.insert({
        seq,
        type: body.type,
        refId,
        partyId: partyOf(body),
        amountMinor: 'amountMinor' in body ? body.amountMinor : null,
        currency: 'currency' in body ? body.currency : null,
        offline: body.type === 'purchase' && body.offline,
        hlcMs: body.hlc.ms,
        prevHash: body.prevHash,
        hash: record.hash,
        body: canonical,
        sig: record.sig,
        createdAtMs: nowMs,
      });
      store.outbox.enqueue(seq);
      return record;
    });
  }

  /** The sync engine saw a server-signed time (after verifying the server's signature on it). */
  noteServerTime(st: ServerTime): void {
    if (st.ms < this.serverTime.ms) return;
    this.store.transaction(() => this.store.settings.set(SETTING.serverTime, st));
    this.serverTime = st;
  }

  /** The sync engine completed a sync with the centre. */
  noteSync(atMs: number): void {
    this.store.transaction(() => noteTrustedSync(this.store, this.trust, atMs));
  }

  /** The offline limits: the defaults, or limits set on this terminal (sealed and anchored; an edited, deleted or older row throws LOCAL_STATE_TAMPERED). */
  limits(): OfflineLimits {
    this.anchored.assertIntact(); // a deleted row (defaults!) or an older sealed one put back
    const stored = this.store.settings.get<{ limits: OfflineLimits; seal: string }>(SETTING.offlineLimits);
    if (stored === undefined) return DEFAULT_OFFLINE_LIMITS;
    if (!this.trust.verify('setting', SETTING.offlineLimits, stored.limits, stored.seal)) throw new LocalStateTamperedError('the offline limits');
    return stored.limits;
  }

  /** Sets the offline limits, sealed so that only this terminal's key store can have written them. */
  setLimits(limits: OfflineLimits): void {
    this.anchored.change(() => this.store.settings.set(SETTING.offlineLimits, { limits, seal: this.trust.mac('setting', SETTING.offlineLimits, limits) }));
  }

  /** An operator's role as the centre granted it in this terminal's signed feed page (sealed and anchored). */
  applyOperatorGrant(grant: OperatorGrant): void {
    this.operators.applyGrant(grant);
  }

  /**
   * A customer PIN verifier from the centre's signed feed (`customer_pin`, or with a `person`), with the version of the
   * record that set it: stored sealed for a person known here, unless the PIN held is as new or newer (one changed at
   * this counter after the centre built the page). The same verifier again keeps the attempt count: a lockout is never
   * undone by the feed. The order is TrustedCustomerPins.offer's.
   */
  applyCustomerPin(personId: string, pinHash: string, version: PinVersion | null = null): void {
    this.customerPins.offer(personId, pinHash, version);
  }

  /** Everything decideOffline needs, read from the store now. */
  offlineState(customerId: string, currency: Currency, nowMs = this.now()): OfflineState {
    const a = this.centreCopies.allowance(customerId, currency);
    return {
      nowMs,
      lastSyncMs: trustedLastSync(this.store, this.trust), // sealed: an edit forward is LOCAL_STATE_TAMPERED
      oldestUnsyncedMs: this.store.journal.oldestUnsyncedMs(),
      terminalUnsyncedMinor: this.store.journal.unsyncedTotals(),
      allowance: a ? { limitMinor: a.limitMinor, usedMinor: a.usedMinor, expiresAtMs: a.expiresAtMs } : null,
    };
  }

  /** May this customer pay this much offline now (with `waived` limits raised by a supervisor)? append re-checks inside its transaction. */
  checkOffline(customerId: string, amountMinor: number, currency: Currency, waived: readonly OverridableLimit[] = []): OfflineDecision {
    return decideOffline({ amountMinor, currency }, this.limits(), this.offlineState(customerId, currency), waived);
  }

  /** The most this customer can pay offline here now without a supervisor (what a decline says is left). */
  spendableOffline(customerId: string, currency: Currency): number {
    return spendableOffline(currency, this.limits(), this.offlineState(customerId, currency));
  }

  /**
   * The limits a supervisor would have to raise for this purchase to pass: [] when it passes as it is, null when
   * a limit refuses that no supervisor may raise.
   */
  limitsToOverride(customerId: string, amountMinor: number, currency: Currency): OverridableLimit[] | null {
    const waived: OverridableLimit[] = [];
    for (;;) {
      const d = this.checkOffline(customerId, amountMinor, currency, waived);
      if (d.allow) return waived.sort();
      if (!isOverridable(d.reason) || waived.includes(d.reason)) return null;
      waived.push(d.reason);
    }
  }

  /** Totals for a day close over the records since the previous day close (pass to append as a day_close draft). */
  dayCloseTotals(): { firstSeq: number; lastSeq: number; totals: DayCloseTotal[] } {
    const prev = this.store.journal.lastOfType('day_close');
    const firstSeq = prev ? prev.seq + 1 : 1;
    const lastSeq = this.head().seq;
    const by = new Map<Currency, DayCloseTotal>();
    const t = (c: Currency): DayCloseTotal => {
      let x = by.get(c);
      if (!x) by.set(c, (x = { currency: c, purchaseCount: 0, purchaseMinor: 0, billCount: 0, billMinor: 0, refundCount: 0, refundMinor: 0, voidCount: 0, voidMinor: 0, payoutCount: 0, payoutMinor: 0 }));
      return x;
    };
    for (let from = firstSeq; from <= lastSeq; from += 1000) {
      for (const row of this.store.journal.range(from, Math.min(1000, lastSeq - from + 1))) {
        const b = JSON.parse(row.body) as RecordBody;
        if (b.type === 'purchase') {
          const x = t(b.currency);
          x.purchaseCount++;
          x.purchaseMinor += b.amountMinor;
          if (b.biller) {
            x.billCount++;
            x.billMinor += b.amountMinor;
          }
        } else if (b.type === 'refund') {
          t(b.currency).refundCount++;
          t(b.currency).refundMinor += b.amountMinor;
        } else if (b.type === 'void') {
          t(b.currency).voidCount++;
          t(b.currency).voidMinor += b.amountMinor;
        } else if (b.type === 'salary_payout') {
          t(b.currency).payoutCount++;
          t(b.currency).payoutMinor += b.amountMinor;
        }
      }
    }
    return { firstSeq, lastSeq, totals: [...by.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1)) };
  }

  /** Checks the last record's hash and signature (cheap, at open). The full check is verifyJournal. */
  private checkHead(): void {
    const h = this.store.journal.head();
    if (!h) return;
    const row = this.store.journal.get(h.seq)!;
    let body: RecordBody;
    try {
      body = parseBody(JSON.parse(row.body));
    } catch (err) {
      throw new LedgerError('JOURNAL_INVALID', `the journal's last record (seq ${h.seq}) is unreadable: ${(err as Error).message}; payments refused`);
    }
    if (body.seq !== h.seq || recordHash(body) !== row.hash || !makeVerifier(this.keys.publicKey)(body, row.sig)) {
      throw new LedgerError('JOURNAL_INVALID', `the journal's last record (seq ${h.seq}) does not verify; run \`palmpay journal verify\`; payments refused`);
    }
  }

  /**
   * Pays one salary voucher as stored here: drafts the record from the voucher and the lease this terminal holds,
   * for the person the caller claims, and appends it. Whether it may be paid is decided by append's rule, once.
   * Throws VoucherRefusedError (typed reason) or RECORD_DUPLICATE when it was already recorded.
   */
  payVoucher(claim: { voucherId: string; personId: string; operatorId: string }): Extract<SignedRecord, { type: 'salary_payout' }> {
    const v = this.centreCopies.voucher(claim.voucherId);
    if (!v) throw new VoucherRefusedError(claim.voucherId, 'unknown-voucher', 'unknown voucher (sync to receive it)');
    const lease = this.centreCopies.lease(claim.voucherId);
    const record = this.append({
      type: 'salary_payout', operatorId: claim.operatorId, voucherId: v.voucherId, leaseId: lease?.leaseId ?? NO_LEASE,
      personId: claim.personId, accountId: v.accountId, period: v.period, amountMinor: v.amountMinor, currency: v.currency,
    });
    if (record.type !== 'salary_payout') throw new LedgerError('LEDGER_INVALID', `a salary payout came back as ${record.type}`);
    return record;
  }

  /**
   * The centre withdrew this voucher's lease (a lease move; the feed's `voucher_withdrawn`, applied inside the page's
   * transaction). The lease is dropped here, so this counter can no longer pay the voucher, and unless it already
   * paid it a signed `lease_release` gives it back: it follows every payout this terminal signed, so the centre
   * grants the lease elsewhere only once no payout from here can still arrive. Returns the release, if signed.
   */
  releaseLease(voucherId: string, leaseId: string): SignedRecord | undefined {
    return this.store.transaction(() => {
      const held = this.store.vouchers.lease(voucherId);
      if (held && held.leaseId !== leaseId) return undefined; // an older lease's withdrawal: the one held now stays
      this.store.vouchers.dropLease(voucherId);
      if (this.store.journal.byRef('lease_release', leaseId)) return undefined; // given back already
      // Paid here: the payout, on its way, settles it. Asked of the signed journal, not of the voucher's status, which a
      // void reopens (the centre still books the payout) and a local user can edit.
      if (this.store.journal.byRef('salary_payout', voucherId)) return undefined;
      return this.append({ type: 'lease_release', operatorId: SYSTEM_OPERATOR, voucherId, leaseId });
    });
  }

  /** Domain checks and effects of one record, inside the append transaction. Throwing rolls everything back. */
  private applyEffects(b: RecordBody, nowMs: number): void {
    const { store } = this;
    switch (b.type) {
      case 'salary_payout': {
        // A lease this counter gave back is gone for good, whatever row says otherwise (a copy put back, an older
        // feed page applied again): the centre may have granted the voucher to another counter since.
        const lease = this.centreCopies.lease(b.voucherId);
        const held = lease && !store.journal.byRef('lease_release', lease.leaseId) ? lease : undefined;
        const refusal = voucherRefusal(b, this.centreCopies.voucher(b.voucherId), held, this.keys.terminalId, nowMs);
        if (refusal) throw new VoucherRefusedError(b.voucherId, refusal.reason, refusal.why);
        store.vouchers.markPaid(b.voucherId, b.seq);
        return;
      }
      case 'purchase': {
        if (!b.offline) return;
        if (b.approvedBy !== undefined) this.checkApprover(b.approvedBy, b.operatorId, `purchase ${b.purchaseId}`);
        const d = decideOffline(b, this.limits(), this.offlineState(b.customerId, b.currency, nowMs), b.overriddenLimits ?? []);
        if (!d.allow) throw new OfflineRefusedError(d);
        return; // the journal row this append writes is the allowance's use (store/allowances.ts)
      }
      case 'refund': {
        const refuse = (why: string) => new LedgerError('REFUND_REFUSED', `refund ${b.refundId} refused: ${why}`);
        if (b.originalTerminalId !== this.keys.terminalId) throw refuse('the purchase was made on another terminal (refund it online)');
        const orig = store.journal.byRef('purchase', b.originalPurchaseId);
        if (!orig || orig.seq !== b.originalSeq) throw refuse(`no purchase ${b.originalPurchaseId} at seq ${b.originalSeq} here`);
        if (orig.currency !== b.currency || orig.partyId !== b.customerId) throw refuse('currency or customer differ from the purchase');
        if (store.journal.voidOf(orig.seq, this.keys.terminalId) !== undefined) throw refuse('the purchase was voided');
        const left = orig.amountMinor! - store.journal.refundedMinor(b.originalPurchaseId);
        if (b.amountMinor > left) throw refuse(`at most ${left} ${b.currency} minor units remain refundable`);
        return;
      }
      case 'void': {
        const refuse = (why: string) => new LedgerError('VOID_REFUSED', `void ${b.voidId} refused: ${why}`);
        if (b.targetTerminalId !== this.keys.terminalId) throw refuse('only this terminal’s records can be voided here');
        const t = store.journal.get(b.targetSeq);
        if (!t || t.type !== b.targetType || t.refId !== b.targetId) throw refuse(`no ${b.targetType} ${b.targetId} at seq ${b.targetSeq}`);
        if (t.amountMinor !== b.amountMinor || t.currency !== b.currency) throw refuse('amount or currency differ from the record voided');
        const already = store.journal.voidOf(b.targetSeq, b.targetTerminalId);
        if (already !== undefined) throw refuse(`seq ${b.targetSeq} was already voided by seq ${already}`);
        if (t.type === 'purchase' && store.journal.refundedMinor(t.refId) > 0) throw refuse('the purchase was partly refunded');
        if (t.type === 'salary_payout') store.vouchers.reopen(t.refId);
        return;
      }
      case 'enrolment': {
        // The PIN the person chose while enrolling (its verifier only): stored sealed for the new, provisional person
        // (who cannot pay until the centre confirms them), never over anyone's PIN.
        const p = store.people.get(b.personId);
        if (b.pinHash !== undefined && p?.status === 'provisional' && !this.customerPins.get(b.personId)?.pinHash) this.customerPins.setHash(b.personId, b.pinHash, pinVersionOf(b));
        return;
      }
      case 'day_close':
        return;
      case 'meter_reading': {
        // A reading below the meter's last one (from the feed's bills or this counter's readings) needs a supervisor.
        const last = store.bills.meters(b.subscriber).find((m) => m.billerId === b.billerId)?.lastReading ?? null;
        if (b.approvedBy !== undefined) this.checkApprover(b.approvedBy, b.operatorId, `reading ${b.readingId}`);
        else if (last !== null && b.reading < last) throw new LedgerError('READING_NEEDS_SUPERVISOR', `reading ${b.reading} is below the last reading ${last}: a supervisor must approve it`);
        store.bills.noteReading(b.billerId, b.subscriber, b.reading);
        return;
      }
      case 'template_update':
        return; // the slot is written with the record, in the same transaction (host/adapters/template-updates.ts)
      case 'report_request':
        return; // no money: the centre checks the person's PIN and decides (src/server/report-access.ts)
      case 'lease_release':
        return; // signed by releaseLease, which dropped the lease in this transaction
      case 'mandate':
      case 'mandate_cancel':
        return; // the person's palm and PIN were checked by the flow; the centre re-checks the person and the account
      case 'pin_set': {
        // A supervisor's approval re-checked here, for a person confirmed on this terminal; the verifier is stored
        // sealed in this transaction, so the person pays with it at once (the centre sends it to the region).
        this.checkApprover(b.approvedBy, b.operatorId, `PIN of ${b.personId}`);
        const p = store.people.get(b.personId);
        if (!p || p.status !== 'active') throw new LedgerError('PERSON_NOT_CONFIRMED', `person ${b.personId} is not a confirmed person here: no PIN is set`);
        // The centre keeps the later record (its own time): one signed here before the PIN held would stand here and
        // nowhere else. Only a clock behind another counter's does that; refused, nothing signed.
        const held = this.customerPins.get(b.personId)?.version ?? null;
        if (comparePinVersions(pinVersionOf(b), held) < 0) {
          throw new LedgerError('PIN_SET_OUT_OF_ORDER', `a later PIN of ${b.personId} is held here (set at ${held!.terminalId} at ${new Date(held!.atMs).toISOString()}): check this terminal's clock`);
        }
        this.customerPins.setHash(b.personId, b.pinHash, pinVersionOf(b));
        return;
      }
    }
  }

  /** The one check of a supervisor's approval at this counter, re-done here, never trusted from the screen: an active supervisor who is not the cashier. */
  private checkApprover(approvedBy: string, operatorId: string, what: string): void {
    const sup = this.operators.get(approvedBy);
    if (!sup || !sup.active || sup.role !== 'supervisor' || approvedBy === operatorId) {
      throw new LedgerError('OVERRIDE_REFUSED', `${what}: ${approvedBy} is not a supervisor who may approve it (an active supervisor, not the cashier)`);
    }
  }
}

function partyOf(b: RecordBody): string | null {
  switch (b.type) {
    case 'salary_payout':
    case 'enrolment':
    case 'meter_reading':
    case 'mandate':
    case 'mandate_cancel':
    case 'pin_set':
    case 'template_update':
    case 'report_request':
      return b.personId;
    case 'purchase':
    case 'refund':
      return b.customerId;
    default:
      return null;
  }
}
