// Offline limits (DESIGN §5): may this purchase be accepted without the link? Pure: the caller gathers the state.
// One owner for both sides: the terminal decides with it (src/ledger/limits.ts re-exports it), and the centre
// re-checks the limits it can know of with the same rule (src/server/invariants.ts checkOfflineLimits).
import { CURRENCIES, type Currency } from './record.ts';

export interface OfflineLimits {
  /** largest single offline purchase, per currency (minor units) */
  perTransactionMaxMinor: Record<Currency, number>;
  /** largest total of unsynced money records this terminal may hold, per currency */
  terminalStoredMaxMinor: Record<Currency, number>;
  /** oldest an unsynced record may be before the terminal stops accepting offline purchases */
  maxStoredRecordAgeMs: number;
  /** longest time since the last successful sync */
  maxSinceLastSyncMs: number;
}

export const DEFAULT_OFFLINE_LIMITS: OfflineLimits = {
  perTransactionMaxMinor: { SYP: 50_000_000, USD: 10_000 },
  terminalStoredMaxMinor: { SYP: 5_000_000_000, USD: 1_000_000 },
  maxStoredRecordAgeMs: 3 * 24 * 3600_000,
  maxSinceLastSyncMs: 3 * 24 * 3600_000,
};

export interface OfflineRequest {
  amountMinor: number;
  currency: Currency;
}

export interface OfflineState {
  nowMs: number;
  /** last successful sync, or null if never */
  lastSyncMs: number | null;
  /** HLC ms of the oldest unsynced record, or null if none */
  oldestUnsyncedMs: number | null;
  /** unsynced money records held, by currency */
  terminalUnsyncedMinor: Partial<Record<Currency, number>>;
  /** the customer's allowance in this currency, or null if the centre granted none */
  allowance: { limitMinor: number; usedMinor: number; expiresAtMs: number } | null;
}

export type OfflineRefusal =
  | 'BAD_AMOUNT'
  | 'PER_TRANSACTION_CAP'
  | 'NO_ALLOWANCE'
  | 'ALLOWANCE_EXPIRED'
  | 'CUSTOMER_ALLOWANCE'
  | 'TERMINAL_STORED_TOTAL'
  | 'STORED_RECORD_TOO_OLD'
  | 'SYNC_TOO_OLD';

/**
 * The limits a supervisor (palm + PIN, not the cashier) may raise for one purchase: the per-transaction cap and
 * the customer's offline allowance (the amount above what is left of it). Never the terminal's stored total or
 * the record/sync ages: they bound what the centre stands to lose with a lost or stolen terminal and how stale
 * its picture may be, and only the link clears them. No allowance at all, or an expired one, is not raised either.
 */
export const SUPERVISOR_OVERRIDABLE = ['PER_TRANSACTION_CAP', 'CUSTOMER_ALLOWANCE'] as const;
export type OverridableLimit = (typeof SUPERVISOR_OVERRIDABLE)[number];

export function isOverridable(r: OfflineRefusal): r is OverridableLimit {
  return (SUPERVISOR_OVERRIDABLE as readonly string[]).includes(r);
}

export type OfflineDecision =
  | { allow: true; allowanceLeftMinor: number }
  | { allow: false; reason: OfflineRefusal; message: string };

/**
 * The decision, with the first limit that refuses. Terminal-wide conditions come first (they need the link).
 * `waived`: limits a supervisor approved exceeding for this purchase (only SUPERVISOR_OVERRIDABLE ones exist).
 */
export function decideOffline(req: OfflineRequest, limits: OfflineLimits, s: OfflineState, waived: readonly OverridableLimit[] = []): OfflineDecision {
  const no = (reason: OfflineRefusal, message: string): OfflineDecision => ({ allow: false, reason, message });
  if (!Number.isSafeInteger(req.amountMinor) || req.amountMinor <= 0) return no('BAD_AMOUNT', 'the amount must be a positive whole number of minor units');
  if (s.lastSyncMs === null || s.nowMs - s.lastSyncMs > limits.maxSinceLastSyncMs) {
    return no('SYNC_TOO_OLD', 'this terminal has not reached the centre for too long: connect to sync before more offline payments');
  }
  if (s.oldestUnsyncedMs !== null && s.nowMs - s.oldestUnsyncedMs > limits.maxStoredRecordAgeMs) {
    return no('STORED_RECORD_TOO_OLD', 'stored payments are too old to keep waiting: connect to upload them first');
  }
  const amount = amountRefusal(req, limits, s.terminalUnsyncedMinor[req.currency] ?? 0, waived);
  if (amount) return amount;
  if (!s.allowance) return no('NO_ALLOWANCE', 'this customer has no offline allowance here: connect to pay');
  if (s.nowMs >= s.allowance.expiresAtMs) return no('ALLOWANCE_EXPIRED', 'this customer’s offline allowance has expired: connect to pay');
  const left = s.allowance.limitMinor - s.allowance.usedMinor;
  if (req.amountMinor > left && !waived.includes('CUSTOMER_ALLOWANCE')) return no('CUSTOMER_ALLOWANCE', `this customer may spend ${Math.max(0, left)} ${req.currency} minor units more offline: connect, or pay less`);
  return { allow: true, allowanceLeftMinor: Math.max(0, left - req.amountMinor) };
}

/**
 * The amount's own limits: the per-transaction cap (unless `waived`) and the terminal's stored total (`storedMinor`:
 * the unsynced money records it holds in this currency before this one). Part of decideOffline, and the part of it
 * the centre can re-check (it knows the amount and, from an upload, a lower bound of what was stored with it).
 */
export function amountRefusal(req: OfflineRequest, limits: OfflineLimits, storedMinor: number, waived: readonly OverridableLimit[] = []): (OfflineDecision & { allow: false }) | undefined {
  if (req.amountMinor > limits.perTransactionMaxMinor[req.currency] && !waived.includes('PER_TRANSACTION_CAP')) {
    return { allow: false, reason: 'PER_TRANSACTION_CAP', message: `offline payments are capped at ${limits.perTransactionMaxMinor[req.currency]} ${req.currency} minor units each: connect, or pay less` };
  }
  if (storedMinor + req.amountMinor > limits.terminalStoredMaxMinor[req.currency]) {
    return { allow: false, reason: 'TERMINAL_STORED_TOTAL', message: 'this terminal holds as much unsynced money as it may: connect to upload first' };
  }
  return undefined;
}

/**
 * The loosest of several limits, limit by limit (the largest cap, total and ages): what a terminal may have decided
 * with when it could have held any of them. At least one.
 */
export function loosestLimits(all: readonly OfflineLimits[]): OfflineLimits {
  const [first, ...rest] = all;
  if (!first) throw new RangeError('loosestLimits needs at least one set of limits');
  const maxOf = (a: Record<Currency, number>, b: Record<Currency, number>) =>
    Object.fromEntries((Object.keys(CURRENCIES) as Currency[]).map((c) => [c, Math.max(a[c], b[c])])) as Record<Currency, number>;
  return rest.reduce<OfflineLimits>((acc, l) => ({
    perTransactionMaxMinor: maxOf(acc.perTransactionMaxMinor, l.perTransactionMaxMinor),
    terminalStoredMaxMinor: maxOf(acc.terminalStoredMaxMinor, l.terminalStoredMaxMinor),
    maxStoredRecordAgeMs: Math.max(acc.maxStoredRecordAgeMs, l.maxStoredRecordAgeMs),
    maxSinceLastSyncMs: Math.max(acc.maxSinceLastSyncMs, l.maxSinceLastSyncMs),
  }), first);
}

/**
 * The most this customer can pay offline here now without a supervisor (minor units): what a decline tells the
 * customer is left. 0 when a condition refuses any amount (no recent sync, a stored record too old, no allowance,
 * an expired one).
 */
export function spendableOffline(currency: Currency, limits: OfflineLimits, s: OfflineState): number {
  if (s.lastSyncMs === null || s.nowMs - s.lastSyncMs > limits.maxSinceLastSyncMs) return 0;
  if (s.oldestUnsyncedMs !== null && s.nowMs - s.oldestUnsyncedMs > limits.maxStoredRecordAgeMs) return 0;
  if (!s.allowance || s.nowMs >= s.allowance.expiresAtMs) return 0;
  const stored = s.terminalUnsyncedMinor[currency] ?? 0;
  const left = Math.min(limits.perTransactionMaxMinor[currency], limits.terminalStoredMaxMinor[currency] - stored, s.allowance.limitMinor - s.allowance.usedMinor);
  return Math.max(0, left);
}
