// Rows of the terminal's own store that decide who may do what and how much may be approved offline: operator
// roles, PIN hashes and lockout counters, and the offline limits. A local user who can write the SQLite file but
// not read the key store must not be able to make themselves a supervisor, reset a PIN lockout, or raise a limit.
// Each such row carries a MAC (HMAC-SHA256 under a subkey of the data key, which stays in the key store) over the
// row's fields and the terminal id; a row whose MAC is missing or wrong is refused with LOCAL_STATE_TAMPERED and
// never used. The ledger is the one writer and reader of these rows (Ledger.operators, Ledger.limits).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Operator, OperatorRole } from '../store/operators.ts';
import type { Store } from '../store/store.ts';
import { canonicalBytes } from '../protocol/canonical.ts';
import { PalmPayError } from '../util/errors.ts';
import type { KeyStore } from './keystore.ts';

export class LocalStateTamperedError extends PalmPayError {
  constructor(what: string) {
    super('LOCAL_STATE_TAMPERED', `${what} in the terminal's store does not carry this terminal's seal (edited outside PalmPay, or written by another terminal): refused`);
  }
}

/** The purpose the MAC key is derived for (HKDF of the data key, see Sealer.deriveKey). */
const PURPOSE = 'palmpay/local-trust/v1';

export class LocalTrust {
  private readonly key: Uint8Array;
  constructor(private readonly keys: KeyStore) {
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
  ) {}

  private seal(o: Omit<Operator, 'seal'>): string {
    return this.trust.mac('operator', o.operatorId, operatorFields(o));
  }

  add(op: { operatorId: string; name: string; role: OperatorRole; pinHash: string }): void {
    const row = { ...op, failedAttempts: 0, lockedUntilMs: 0, active: true };
    this.store.operators.add({ ...op, seal: this.seal(row) });
  }

  /** The operator, or undefined when unknown. A row whose seal does not verify throws LOCAL_STATE_TAMPERED. */
  get(operatorId: string): Operator | undefined {
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

  private update(operatorId: string, change: Partial<Pick<Operator, 'pinHash' | 'failedAttempts' | 'lockedUntilMs' | 'active'>>): void {
    const o = this.get(operatorId);
    if (!o) throw new PalmPayError('OPERATOR_UNKNOWN', `operator ${operatorId} is unknown`);
    const next = { ...o, ...change };
    this.store.operators.replace({ ...next, seal: this.seal(next) });
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
