// Shop purchase: amount on the keypad → the customer's palm → above the PIN threshold, the offline limits are
// checked first (so nobody types a PIN for a purchase that will be declined) → PIN → offline limits again (checked
// and recorded in ONE store transaction, so two purchases cannot both squeeze under a limit) → approved or
// declined with the reason and what the customer can still pay → receipt. Some limits can be raised by a supervisor. A bill is paid in bill.ts:
// from the bills the feed carries, never a typed amount.
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { reduceAuth, startAuth, isPin, type AuthEffect, type AuthEvent, type AuthState, type PinResult } from './auth.ts';
import { go, stay, type Step } from './machine.ts';
import {
  applyPlacement, isPlacement, NO_GUIDANCE,
  type Guidance, type IdentifyOutcome, type Money, type Person, type PlacementEvent, type Receipt,
} from './types.ts';

/** A limit the store's offline-limit check can refuse on (DESIGN §5). */
export type LimitReason =
  | 'limit-transaction-cap' // above the per-transaction cap
  | 'limit-customer-allowance' // above the customer's offline allowance from the centre
  | 'limit-no-allowance' // the centre granted this customer no offline allowance here
  | 'limit-allowance-expired' // the allowance is too old: connect
  | 'limit-terminal-total' // the terminal holds too much unsynced value
  | 'limit-record-age' // the oldest unsent record is too old: connect first
  | 'limit-sync-age'; // no sync for too long: connect first

export type PurchaseDecline =
  | LimitReason
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'no-account' // enrolled for salary only: no account to pay from
  | 'pin-locked'
  | 'duplicate-request' // this very request was already decided (restart, second tab)
  | 'store-error';

export type PurchaseKind = 'purchase';

/** A decline from the bank; `canSpend`: the most this customer can pay offline here now (limit declines only). */
export interface PurchaseRefusal {
  ok: false;
  reason: PurchaseDecline;
  overridable: boolean;
  canSpend?: Money | null;
}

type Body =
  | { step: 'amount'; error: 'amount-invalid' | null }
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'checking-limits'; person: Person }
  // overrideBy: a supervisor already raised a limit before the PIN was asked (kept for the record).
  | { step: 'pin'; person: Person; wrong: boolean; attemptsLeft: number | null; overrideBy?: string | null }
  | { step: 'checking-pin'; person: Person; overrideBy?: string | null }
  | { step: 'authorizing'; person: Person; overrideBy: string | null; pinVerified: boolean }
  | { step: 'declined'; reason: PurchaseDecline; person: Person | null; overridable: boolean; overrideRefused: boolean; pinVerified?: boolean; canSpend?: Money | null }
  | { step: 'override'; person: Person; reason: PurchaseDecline; auth: AuthState; pinVerified: boolean }
  | { step: 'approved'; person: Person; receipt: Receipt; overrideBy: string | null; print?: PrintStatus }
  | { step: 'finished' };

export interface PurchaseContext {
  operatorId: string;
  /** Idempotency key of this attempt: the store decides each request id once. */
  requestId: string;
  kind: PurchaseKind;
  currency: string;
  /** A PIN is asked when the amount is at or above this (minor units). */
  pinThreshold: number;
  amount: Money | null;
}

export type PurchaseState = Body & PurchaseContext;

export type PurchaseEvent =
  | PlacementEvent
  | AuthEvent
  | { type: 'amount.set'; minor: number }
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'customer.loaded'; person: Person | null }
  | { type: 'limits.checked'; result: { ok: true } | PurchaseRefusal }
  | { type: 'pin.submit'; pin: string }
  | { type: 'pin.result'; result: PinResult }
  | { type: 'purchase.approved'; receipt: Receipt }
  | { type: 'purchase.declined'; reason: PurchaseDecline; overridable: boolean; canSpend?: Money | null }
  | { type: 'override.start' }
  | { type: 'print' }
  | PrintResult
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

/** What the purchase flow asks the bank to decide (one signed record, decided once per request id). */
export interface PurchaseRequest {
  requestId: string;
  kind: PurchaseKind;
  personId: string;
  amount: Money;
  operatorId: string;
  overrideBy: string | null;
  pinVerified: boolean;
}

export type PurchaseEffect =
  | AuthEffect
  | { type: 'identifyPalm' }
  | { type: 'loadCustomer'; personId: string }
  | { type: 'checkPurchaseLimits'; requestId: string; personId: string; amount: Money }
  | { type: 'verifyCustomerPin'; personId: string; pin: string }
  | ({ type: 'authorizePurchase' } & PurchaseRequest)
  | { type: 'print'; receipt: Receipt };

/** Largest amount the keypad accepts (minor units): a typo guard, not a limit (limits live in the store). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_00;

export function startPurchase(ctx: Omit<PurchaseContext, 'amount'>): Step<PurchaseState, PurchaseEffect> {
  return go({ step: 'amount', error: null, ...ctx, amount: null });
}

function customerRefusal(p: Person): PurchaseDecline | null {
  if (p.status === 'revoked') return 'person-revoked';
  if (p.status === 'provisional') return 'person-provisional';
  if (!p.accountId) return 'no-account';
  return null;
}

export function reducePurchase(s: PurchaseState, e: PurchaseEvent): Step<PurchaseState, PurchaseEffect> {
  const ctx: PurchaseContext = { operatorId: s.operatorId, requestId: s.requestId, kind: s.kind, currency: s.currency, pinThreshold: s.pinThreshold, amount: s.amount };
  const to = (b: Body, patch: Partial<PurchaseContext> = {}, ...fx: PurchaseEffect[]): Step<PurchaseState, PurchaseEffect> =>
    go({ ...b, ...ctx, ...patch }, ...fx);
  const authorize = (person: Person, overrideBy: string | null, pinVerified: boolean) =>
    to({ step: 'authorizing', person, overrideBy, pinVerified }, {}, {
      type: 'authorizePurchase', requestId: ctx.requestId, kind: ctx.kind, personId: person.id,
      amount: ctx.amount as Money, operatorId: ctx.operatorId, overrideBy, pinVerified,
    });
  const needsPin = () => (ctx.amount as Money).minor >= ctx.pinThreshold;
  const declined = (person: Person, r: PurchaseRefusal, overridable: boolean, pinVerified: boolean) =>
    to({ step: 'declined', reason: r.reason, person, overridable, overrideRefused: false, pinVerified, canSpend: r.canSpend ?? null });

  if (s.step === 'override') {
    if (e.type === 'cancel') return to({ step: 'declined', reason: s.reason, person: s.person, overridable: true, overrideRefused: true });
    if (!(e.type.startsWith('auth.') || isPlacement(e))) return stay(s);
    const a = reduceAuth(s.auth, e as AuthEvent);
    if (a.state.step === 'granted') {
      // Declined before the PIN was asked: the supervisor raised the limit, now the customer confirms with the PIN.
      if (!s.pinVerified && needsPin()) return to({ step: 'pin', person: s.person, wrong: false, attemptsLeft: null, overrideBy: a.state.operator.id });
      return authorize(s.person, a.state.operator.id, s.pinVerified);
    }
    if (a.state.step === 'refused') return to({ step: 'declined', reason: s.reason, person: s.person, overridable: true, overrideRefused: true });
    return to({ step: 'override', person: s.person, reason: s.reason, auth: a.state, pinVerified: s.pinVerified }, {}, ...a.effects);
  }
  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  if (e.type === 'cancel') {
    if (s.step === 'authorizing' || s.step === 'checking-pin' || s.step === 'checking-limits' || s.step === 'approved') return stay(s);
    return to({ step: 'finished' });
  }

  switch (s.step) {
    case 'amount': {
      if (e.type !== 'amount.set') return stay(s);
      if (!Number.isSafeInteger(e.minor) || e.minor <= 0 || e.minor > MAX_AMOUNT_MINOR) return to({ step: 'amount', error: 'amount-invalid' });
      return to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, { amount: { minor: e.minor, currency: ctx.currency } }, { type: 'identifyPalm' });
    }
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, {}, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return to({ step: 'declined', reason: 'ambiguous', person: null, overridable: false, overrideRefused: false });
      if (o.kind === 'no-match') return to({ step: 'declined', reason: 'unknown-palm', person: null, overridable: false, overrideRefused: false });
      return to({ step: 'loading', personId: o.personId }, {}, { type: 'loadCustomer', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'customer.loaded') return stay(s);
      if (!e.person) return to({ step: 'declined', reason: 'unknown-palm', person: null, overridable: false, overrideRefused: false });
      const refusal = customerRefusal(e.person);
      if (refusal) return to({ step: 'declined', reason: refusal, person: e.person, overridable: false, overrideRefused: false });
      if (!needsPin()) return authorize(e.person, null, false); // authorizing checks the limits anyway
      return to({ step: 'checking-limits', person: e.person }, {}, { type: 'checkPurchaseLimits', requestId: ctx.requestId, personId: e.person.id, amount: ctx.amount as Money });
    }
    case 'checking-limits': {
      if (e.type !== 'limits.checked') return stay(s);
      if (!e.result.ok) return declined(s.person, e.result, e.result.overridable, false);
      return to({ step: 'pin', person: s.person, wrong: false, attemptsLeft: null });
    }
    case 'pin':
      if (e.type !== 'pin.submit' || !isPin(e.pin)) return stay(s);
      return to({ step: 'checking-pin', person: s.person, overrideBy: s.overrideBy ?? null }, {}, { type: 'verifyCustomerPin', personId: s.person.id, pin: e.pin });
    case 'checking-pin': {
      if (e.type !== 'pin.result') return stay(s);
      const r = e.result;
      if (r.ok) return authorize(s.person, s.overrideBy ?? null, true);
      if ('locked' in r) return to({ step: 'declined', reason: 'pin-locked', person: s.person, overridable: false, overrideRefused: false });
      return to({ step: 'pin', person: s.person, wrong: true, attemptsLeft: r.attemptsLeft, overrideBy: s.overrideBy ?? null });
    }
    case 'authorizing':
      if (e.type === 'purchase.approved') return to({ step: 'approved', person: s.person, receipt: e.receipt, overrideBy: s.overrideBy });
      if (e.type === 'purchase.declined') {
        // An override is offered once: a decline that comes back after an override is final.
        return declined(s.person, { ok: false, reason: e.reason, overridable: e.overridable, canSpend: e.canSpend ?? null }, e.overridable && s.overrideBy === null, s.pinVerified);
      }
      return stay(s);
    case 'declined':
      if (e.type === 'override.start' && s.overridable && s.person) {
        const a = startAuth('supervisor', ctx.operatorId);
        return to({ step: 'override', person: s.person, reason: s.reason, auth: a.state, pinVerified: s.pinVerified ?? false }, {}, ...a.effects);
      }
      if (e.type === 'retry' && (s.reason === 'unknown-palm' || s.reason === 'ambiguous')) {
        return to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, {}, { type: 'identifyPalm' });
      }
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'approved':
      {
        const printed = printStep(s, e);
        if (printed) return printed;
      }
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'finished':
      return stay(s);
  }
}
