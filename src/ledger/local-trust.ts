// Rows of the terminal's own store that decide who may do what and how much may be approved offline: operator
// roles, PIN hashes and lockout counters, and the offline limits. A local user who can write the SQLite file but
// not read the key store must not be able to make themselves a supervisor, reset a PIN lockout, or raise a limit.
// Each such row carries a MAC (HMAC-SHA256 under a subkey of the data key, which stays in the key store) over the
// row's fields and the terminal id; a row whose MAC is missing or wrong is refused with LOCAL_STATE_TAMPERED and
// never used. The ledger is the one writer and reader of these rows (Ledger.operators, Ledger.limits).
// A MAC proves who wrote a row, not that it is the newest one: a row deleted, or put back from an older copy,
// would still verify. So the digest of the sealed limits and operator rows is also held in the signed anchor
// outside the database (AnchoredState below, anchor.ts), and a difference is LOCAL_STATE_TAMPERED too.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Operator, OperatorRole } from '../store/operators.ts';
import type { CustomerPin } from '../store/people.ts';
import { comparePinVersions, type PinVersion } from '../protocol/pin-verifier.ts';
import type { Lease, Voucher } from '../store/vouchers.ts';
import type { Allowance } from '../store/allowances.ts';
import type { CachedLink } from '../store/bills.ts';
import type { Currency } from '../protocol/record.ts';
import type { Store } from '../store/store.ts';
import { canonicalBytes } from '../protocol/canonical.ts';
import { PalmPayError } from '../util/errors.ts';
import { ANCHOR_MISSING, anchorProblem, readAnchor, stateMatches, writeAnchor, type Anchor, type Head } from './anchor.ts';
import type { KeyStore } from './keystore.ts';

/** Settings rows that decide money and carry the terminal's seal. */
export const LIMITS_SETTING = 'offline.limits';
export const LAST_SYNC_SETTING = 'sync.lastSyncMs';
/** The MAC over the last sync's time, beside it (the time itself stays a plain number for the status readers). */
export const LAST_SYNC_SEAL_SETTING = 'sync.lastSyncMs.seal';

/**
 * The time of the last sync, as far as offline limits may believe it: null when it was never sealed here (then the
 * terminal must sync before paying offline again, the safe side); LOCAL_STATE_TAMPERED when edited.
 */
export function trustedLastSync(store: Store, trust: LocalTrust): number | null {
  const ms = store.settings.get<unknown>(LAST_SYNC_SETTING);
  const seal = store.settings.get<unknown>(LAST_SYNC_SEAL_SETTING);
  if (ms === undefined || seal === undefined) return null;
  if (typeof ms !== 'number' || typeof seal !== 'string' || !trust.verify('setting', LAST_SYNC_SETTING, ms, seal)) throw new LocalStateTamperedError('the time of the last sync');
  return ms;
}

/** Records a completed sync, sealed (the feed calls this inside its page's transaction). */
export function noteTrustedSync(store: Store, trust: LocalTrust, ms: number): void {
  store.settings.set(LAST_SYNC_SETTING, ms);
  store.settings.set(LAST_SYNC_SEAL_SETTING, trust.mac('setting', LAST_SYNC_SETTING, ms));
}

export class LocalStateTamperedError extends PalmPayError {
  constructor(what: string) {
    super('LOCAL_STATE_TAMPERED', `${what} in the terminal's store does not carry this terminal's seal (edited outside PalmPay, or written by another terminal): refused`);
  }
}

/** The purpose the MAC key is derived for (HKDF of the data key, see Sealer.deriveKey). */
const PURPOSE = 'palmpay/local-trust/v1';

export class LocalTrust {
  private readonly key: Uint8Array;
  constructor(private readonly keys: Pick<KeyStore, 'sealer' | 'terminalId'>) {
    this.key = keys.sealer.deriveKey(PURPOSE);
  }

  /** The MAC of one named row's value, bound to this terminal. */
  mac(kind: string, id: string, value: unknown): string {
    return createHmac('sha256', this.key).update(canonicalBytes({ terminalId: this.keys.terminalId, kind, id, value })).digest('base64');
  }

  verify(kind: string, id: string, value: unknown, mac: string | null | undefined): boolean {
    if (typeof mac !== 'string') return false;
    const want = Buffer.from(this.mac(kind, id, value), 'base64');
    const got = Buffer.from(mac, 'base64');
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/** The fields of an operator row the MAC covers: everything but the MAC itself. */
function operatorFields(o: Omit<Operator, 'seal'>): Record<string, unknown> {
  return { name: o.name, role: o.role, pinHash: o.pinHash, failedAttempts: o.failedAttempts, lockedUntilMs: o.lockedUntilMs, active: o.active };
}

/** The operators, read and written only with their seal checked and renewed. */
export class TrustedOperators {
  constructor(
    private readonly store: Store,
    private readonly trust: LocalTrust,
    private readonly anchored: Pick<AnchoredState, 'change' | 'assertIntact'>,
  ) {}

  private seal(o: Omit<Operator, 'seal'>): string {
    return this.trust.mac('operator', o.operatorId, operatorFields(o));
  }

  add(op: { operatorId: string; name: string; role: OperatorRole; pinHash: string }): void {
    const row = { ...op, failedAttempts: 0, lockedUntilMs: 0, active: true };
    this.anchored.change(() => this.store.operators.add({ ...op, seal: this.seal(row) }));
  }

  /** The operator, or undefined when unknown. A row whose seal does not verify throws LOCAL_STATE_TAMPERED. */
  get(operatorId: string): Operator | undefined {
    this.anchored.assertIntact();
    const o = this.store.operators.get(operatorId);
    if (!o) return undefined;
    if (o.operatorId !== operatorId || !this.trust.verify('operator', operatorId, operatorFields(o), o.seal)) throw new LocalStateTamperedError(`operator ${operatorId}`);
    return o;
  }

  /** True when the row exists but its seal does not verify (the demo seed replaces such rows). */
  isUnsealed(operatorId: string): boolean {
    const o = this.store.operators.get(operatorId);
    return o !== undefined && !this.trust.verify('operator', operatorId, operatorFields(o), o.seal);
  }

  /**
   * The centre's grant for this terminal (from its signed feed page): the operator's name, role and whether active,
   * and the PIN hash when the centre set one (attempts then start again). A new operator without a PIN hash has an
   * empty one and cannot sign in until the centre sends it. Sealed and anchored like every operator row.
   */
  applyGrant(g: { operatorId: string; name: string; role: OperatorRole; active: boolean; pinHash?: string }): void {
    this.anchored.change(() => {
      const cur = this.store.operators.get(g.operatorId);
      if (cur && !this.trust.verify('operator', g.operatorId, operatorFields(cur), cur.seal)) this.store.operators.delete(g.operatorId); // a row not sealed here is replaced
      const o = cur && this.store.operators.get(g.operatorId);
      const pin = g.pinHash !== undefined ? { pinHash: g.pinHash, failedAttempts: 0, lockedUntilMs: 0 } : {};
      const next = o ? { ...o, name: g.name, role: g.role, active: g.active, ...pin } : { operatorId: g.operatorId, name: g.name, role: g.role, pinHash: g.pinHash ?? '', failedAttempts: 0, lockedUntilMs: 0, active: g.active };
      if (!o) this.store.operators.add({ operatorId: next.operatorId, name: next.name, role: next.role, pinHash: next.pinHash, seal: null });
      this.store.operators.replace({ ...next, seal: this.seal(next) });
    });
  }

  private update(operatorId: string, change: Partial<Pick<Operator, 'pinHash' | 'failedAttempts' | 'lockedUntilMs' | 'active'>>): void {
    const o = this.get(operatorId);
    if (!o) throw new PalmPayError('OPERATOR_UNKNOWN', `operator ${operatorId} is unknown`);
    const next = { ...o, ...change };
    this.anchored.change(() => this.store.operators.replace({ ...next, seal: this.seal(next) }));
  }

  setAttempts(operatorId: string, failedAttempts: number, lockedUntilMs: number): void {
    this.update(operatorId, { failedAttempts, lockedUntilMs });
  }

  setPinHash(operatorId: string, pinHash: string): void {
    this.update(operatorId, { pinHash, failedAttempts: 0, lockedUntilMs: 0 });
  }

  setActive(operatorId: string, active: boolean): void {
    this.update(operatorId, { active });
  }
}

/**
 * A customer's PIN state (hash from the centre or the enrolment, attempts counted here), sealed like an operator's.
 * The attempts and lockout are also in the anchored state (only customers not at rest), so a lockout undone by
 * putting back an older sealed row, or the whole older store, is LOCAL_STATE_TAMPERED. The version of the record
 * that set the hash is sealed with it: the feed's copies are ordered by it (offer), so a local user cannot make the
 * PIN held look newer (the centre's copies ignored) or older (any copy replaces it).
 */
export class TrustedCustomerPins {
  constructor(
    private readonly store: Store,
    private readonly trust: LocalTrust,
    private readonly anchored: Pick<AnchoredState, 'change' | 'assertIntact'>,
  ) {}

  /** What the MAC covers. A PIN stored before versions has none: its seal is over the other fields only, and still holds. */
  private static fields(p: Omit<CustomerPin, 'seal'>): Record<string, unknown> {
    return { pinHash: p.pinHash ?? '', failed: p.failed, lockedUntilMs: p.lockedUntilMs, ...(p.version ? { version: p.version } : {}) };
  }

  private write(personId: string, next: Omit<CustomerPin, 'seal'>): void {
    this.anchored.change(() => this.store.people.setPin(personId, { ...next, seal: this.trust.mac('customer-pin', personId, TrustedCustomerPins.fields(next)) }));
  }

  /** The PIN state, or undefined when the person is unknown. A hash, version or lockout not sealed here throws LOCAL_STATE_TAMPERED. */
  get(personId: string): CustomerPin | undefined {
    this.anchored.assertIntact();
    const p = this.store.people.getPin(personId);
    if (!p || (p.pinHash === null && p.seal === null && p.failed === 0 && p.lockedUntilMs === 0 && p.version === null)) return p; // no PIN was ever set
    if (!this.trust.verify('customer-pin', personId, TrustedCustomerPins.fields(p), p.seal)) {
      throw new LocalStateTamperedError(`the PIN of customer ${personId}`);
    }
    return p;
  }

  /** A PIN set by a record signed here (a supervised pin_set, an enrolment): its attempts start afresh. */
  setHash(personId: string, pinHash: string | null, version: PinVersion | null = null): void {
    this.write(personId, { pinHash, failed: 0, lockedUntilMs: 0, version });
  }

  /**
   * A verifier the centre sent (its signed feed), applied in the one order of a person's PINs (comparePinVersions):
   * one older than the PIN held is ignored (a PIN changed here later stays, and so does its lockout); a newer one
   * replaces it. Only a new verifier starts the attempts afresh: the same one again (re-sent, or now with its
   * version) leaves a lockout as it is. Without a version on either side (before versions) a different verifier
   * replaces the one held, as it always did. Returns whether anything changed.
   */
  offer(personId: string, pinHash: string, version: PinVersion | null): boolean {
    const cur = this.get(personId);
    if (!cur) return false;
    const order = comparePinVersions(version, cur.version);
    if (order < 0 || (order === 0 && (version !== null || cur.pinHash === pinHash))) return false;
    if (cur.pinHash === pinHash) this.write(personId, { ...cur, version });
    else this.setHash(personId, pinHash, version);
    return true;
  }

  setAttempts(personId: string, failed: number, lockedUntilMs: number): void {
    const cur = this.get(personId);
    if (!cur) throw new PalmPayError('PERSON_UNKNOWN', `person ${personId} is unknown`);
    this.write(personId, { pinHash: cur.pinHash, failed, lockedUntilMs, version: cur.version });
  }
}

/**
 * The digest of the sealed limits and operator rows and of the customers' PIN states not at rest (their seals):
 * what the anchor holds. Needs no key. `pins` is left out while no customer has attempts, so an anchor written
 * before it was added still matches (and `legacy` computes that older digest for the upgrade, see open()).
 */
export function localStateDigest(store: Store, legacy = false): string {
  const limits = store.settings.get<{ seal?: unknown }>(LIMITS_SETTING);
  const limitsSeal = limits === undefined ? '' : typeof limits.seal === 'string' ? limits.seal : 'unsealed';
  const operators = store.operators.list().map((o) => [o.operatorId, o.seal ?? '']);
  const pins = legacy ? [] : store.people.pinAttempts();
  return createHash('sha256').update(canonicalBytes({ limits: limitsSeal, operators, ...(pins.length ? { pins } : {}) })).digest('hex');
}

/**
 * Whether the store's sealed state is what the anchor holds. An anchor written before PIN lockouts were anchored
 * holds the digest without them and is taken (it only ever matches a store whose other sealed rows are as
 * anchored and that has more customers in attempts than the anchor knew of: never a lockout undone).
 */
export function anchoredStateMatches(anchor: Anchor, store: Store): boolean {
  if (stateMatches(anchor, localStateDigest(store))) return true;
  return anchor.state !== undefined && anchor.nextState === undefined && anchor.state === localStateDigest(store, true);
}

const STATE_TAMPERED = 'the offline limits, operators or PIN lockouts (a sealed row deleted, or put back from an older copy)';

/**
 * The signed anchor outside the database (anchor.ts), kept by the ledger: the journal's head and the digest of
 * the sealed local state. A change of that state is two-phase (the anchor names the state before and after while
 * it commits), so a crash in between is never taken for tampering. Without a folder (a bare Ledger in tests) it
 * does nothing.
 */
export class AnchoredState {
  /** The state digest the anchor holds as committed. */
  private state: string | undefined;
  /** A change's digest, anchored but committed only with an outer transaction (picked up by reconcile). */
  private next: string | undefined;
  private tampered = false;
  /** Why the journal may not be appended to: behind its anchor, or its anchor gone. */
  truncated: string | undefined;
  private missing = false;

  constructor(
    private readonly store: Store,
    private readonly keys: KeyStore,
    private readonly dir: string | undefined,
    private readonly head: () => Head,
  ) {}

  /** At open: compares the journal and the local state with the anchor (writes the first anchor of an empty journal). */
  open(): void {
    if (!this.dir) return;
    const a = readAnchor(this.dir, this.keys.terminalId, this.keys.publicKey);
    const head = this.head();
    const cur = localStateDigest(this.store);
    if (!a) {
      if (head.seq > 0) {
        this.missing = true;
        this.truncated = ANCHOR_MISSING;
        return;
      }
      this.state = cur;
      return this.write(head);
    }
    this.truncated = anchorProblem(a, head, (seq) => this.store.journal.get(seq)?.hash);
    if (!anchoredStateMatches(a, this.store)) {
      this.tampered = true;
      return;
    }
    this.state = cur;
    if (!this.truncated && (a.state !== cur || a.nextState)) this.tryWrite(head);
  }

  /** Refuses (typed) a money move on a journal that lost its newest records, or on local state not as sealed. */
  assertAppendable(): void {
    if (this.missing) throw new PalmPayError('JOURNAL_ANCHOR_MISSING', `${ANCHOR_MISSING}; nothing is signed onto it (run palmpay journal verify, restore the data folder)`);
    if (this.truncated) throw new PalmPayError('JOURNAL_TRUNCATED', `journal truncated: ${this.truncated}; nothing is signed onto it (run palmpay journal verify, restore the data folder)`);
    this.assertIntact();
  }

  /** Throws LOCAL_STATE_TAMPERED when the sealed state is not what this terminal last anchored (checked now). */
  assertIntact(): void {
    if (!this.dir || this.state === undefined) {
      if (this.tampered) throw new LocalStateTamperedError(STATE_TAMPERED);
      return;
    }
    const cur = localStateDigest(this.store);
    if (cur === this.next) {
      this.state = cur;
      this.next = undefined;
      this.tryWrite(this.head());
    } else if (cur !== this.state) {
      this.tampered = true;
    }
    if (this.tampered) throw new LocalStateTamperedError(STATE_TAMPERED);
  }

  /** Runs a change of the sealed state in a transaction, anchoring the state before and after while it commits. */
  change<T>(body: () => T): T {
    if (!this.dir) return this.store.transaction(body);
    this.assertIntact();
    const outer = this.store.db.inTransaction;
    const result = this.store.transaction(() => {
      const r = body();
      const next = localStateDigest(this.store);
      if (next !== this.state) {
        this.write(this.head(), next); // fails → the change is rolled back, never committed unanchored
        this.next = next;
      }
      return r;
    });
    if (!outer && this.next !== undefined) {
      this.state = this.next;
      this.next = undefined;
      this.tryWrite(this.head());
    }
    return result;
  }

  /** After an append has committed: the new head (an anchor that cannot be written lags, which is allowed). */
  appended(head: Head): void {
    if (this.dir) this.tryWrite(head);
  }

  private write(head: Head, nextState?: string): void {
    writeAnchor(this.dir!, this.keys.terminalId, this.keys.signer, { ...head, ...(this.state ? { state: this.state } : {}), ...(nextState ? { nextState } : {}) });
  }

  private tryWrite(head: Head): void {
    try {
      this.write(head);
    } catch {
      /* disk full or read-only: the anchor lags; the next write catches up */
    }
  }
}

/**
 * What the centre said that lets this terminal hand out money offline: salary vouchers, their leases here and
 * customers' offline allowances. They arrive in feed pages the centre signed (checked before they are applied);
 * the feed seals each row as it stores it, and the ledger uses a row only when its seal holds, so a voucher
 * "leased here" or an allowance raised by a local user in the SQLite file is LOCAL_STATE_TAMPERED, never paid.
 * Sealed: what the centre decides (who, how much, which lease, until when, from which record on); not what this
 * terminal moves in its append transaction: a voucher's paid status (the journal's payout refuses a second one)
 * and an allowance's use, which is read from the journal itself (store/allowances.ts).
 */
export class TrustedCentreCopies {
  constructor(
    private readonly store: Store,
    private readonly trust: LocalTrust,
  ) {}

  private static voucherFields(v: Pick<Voucher, 'personId' | 'accountId' | 'period' | 'amountMinor' | 'currency'>) {
    return { personId: v.personId, accountId: v.accountId, period: v.period, amountMinor: v.amountMinor, currency: v.currency };
  }
  private static leaseFields(l: Pick<Lease, 'leaseId' | 'terminalId' | 'expiresAtMs'>) {
    return { leaseId: l.leaseId, terminalId: l.terminalId, expiresAtMs: l.expiresAtMs };
  }
  private static allowanceFields(a: { limitMinor: number; expiresAtMs: number; asOfSeq: number; grantedAtMs: number; balanceMinor?: number | null }) {
    // The balance and its time are sealed when the centre sent one; a grant without one keeps its earlier seal.
    const balance = a.balanceMinor === null || a.balanceMinor === undefined ? {} : { balanceMinor: a.balanceMinor, balanceAtMs: a.grantedAtMs };
    return { limitMinor: a.limitMinor, expiresAtMs: a.expiresAtMs, asOfSeq: a.asOfSeq, ...balance };
  }

  putVoucher(v: Omit<Voucher, 'paidSeq' | 'seal'>): void {
    this.store.vouchers.upsert({ ...v, seal: this.trust.mac('voucher', v.voucherId, TrustedCentreCopies.voucherFields(v)) });
  }
  putLease(l: Omit<Lease, 'seal'>): void {
    this.store.vouchers.upsertLease({ ...l, seal: this.trust.mac('lease', l.voucherId, TrustedCentreCopies.leaseFields(l)) });
  }
  grantAllowance(g: { customerId: string; currency: Currency; limitMinor: number; grantedAtMs: number; expiresAtMs: number; asOfSeq: number; balanceMinor?: number | null }): void {
    this.store.allowances.grant({ ...g, seal: this.trust.mac('allowance', `${g.customerId}/${g.currency}`, TrustedCentreCopies.allowanceFields(g)) });
  }

  private static linkId(l: Pick<CachedLink, 'billerId' | 'subscriber' | 'payerKind' | 'payerId'>): string {
    return `${l.billerId}/${l.subscriber}/${l.payerKind}/${l.payerId}`;
  }
  /** A subscriber link from a verified feed page, stored with this terminal's seal. */
  putLink(l: Omit<CachedLink, 'seal'>): void {
    this.store.bills.putLink({ ...l, seal: this.trust.mac('subscriber-link', TrustedCentreCopies.linkId(l), { receivedAtMs: l.receivedAtMs }) });
  }
  /**
   * Whether the centre linked this person (or one of these accounts) to the biller's subscriber number. Only rows
   * carrying this terminal's seal count: a link a local user inserts into the file links nobody.
   */
  mayPay(billerId: string, subscriber: string, personId: string, accountIds: readonly string[]): boolean {
    return this.store.bills.links(billerId, subscriber).some((l) =>
      ((l.payerKind === 'person' && l.payerId === personId) || (l.payerKind === 'account' && accountIds.includes(l.payerId))) &&
      this.trust.verify('subscriber-link', TrustedCentreCopies.linkId(l), { receivedAtMs: l.receivedAtMs }, l.seal));
  }

  /** The stored voucher, or undefined; LOCAL_STATE_TAMPERED when it does not carry this terminal's seal. */
  voucher(voucherId: string): Voucher | undefined {
    const v = this.store.vouchers.get(voucherId);
    if (v && !this.trust.verify('voucher', voucherId, TrustedCentreCopies.voucherFields(v), v.seal)) throw new LocalStateTamperedError(`salary voucher ${voucherId}`);
    return v;
  }
  lease(voucherId: string): Lease | undefined {
    const l = this.store.vouchers.lease(voucherId);
    if (l && !this.trust.verify('lease', voucherId, TrustedCentreCopies.leaseFields(l), l.seal)) throw new LocalStateTamperedError(`the lease of voucher ${voucherId}`);
    return l;
  }
  allowance(customerId: string, currency: Currency): Allowance | undefined {
    const a = this.store.allowances.get(customerId, currency);
    if (a && !this.trust.verify('allowance', `${customerId}/${currency}`, TrustedCentreCopies.allowanceFields(a), a.seal)) throw new LocalStateTamperedError(`the offline allowance of customer ${customerId}`);
    return a;
  }
}
