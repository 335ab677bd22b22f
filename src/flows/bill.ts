// Bill payment at the counter: subscriber number → the bills due, from the region's signed feed (cycle, readings,
// amount, due date) → pay one or all, always each bill's exact amount (nothing is typed) → the payer's palm → the
// payer's PIN (always: a bill is paid from an account by its owner) → one signed purchase record per bill, naming
// its biller and bill id, all in one store transaction → receipt with the bill ids and "fee: 0". The centre
// re-checks each record (src/server/billing/payments.ts): a bill paid elsewhere meanwhile goes to review there.
import { isPin, type PinResult } from './auth.ts';
import { go, stay, type Step } from './machine.ts';
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { toLatinDigits } from './digits.ts';
import type { LimitReason } from './purchase.ts';
import {
  applyPlacement, isPlacement, NO_GUIDANCE,
  type Guidance, type IdentifyOutcome, type Money, type Person, type PlacementEvent, type Receipt,
} from './types.ts';

/** A bill due, as the screen shows it and the payment names it. */
export interface DueBill {
  billerId: string;
  billId: string;
  cycle: string;
  amount: Money;
  dueDate: string;
  previousReading: number;
  currentReading: number;
}

/** What the terminal's bill cache says about a subscriber number. */
export interface BillLookup {
  /** The feed has named this subscriber number (even if nothing is due now). */
  known: boolean;
  bills: DueBill[];
  /** How old the cache's picture is: time since the last complete feed; null when never pulled. */
  ageMs: number | null;
  /** The feed's age limit: older than this, the bills may have been paid elsewhere. */
  maxAgeMs: number;
}

/** Why no bill can be chosen for this number. */
export type BillRefusal = 'subscriber-unknown' | 'nothing-due' | 'bills-stale';

/** Why a chosen payment was not recorded. */
export type BillDecline =
  | LimitReason
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'no-account'
  | 'not-linked' // the centre has not linked this payer (nor their account) to the subscriber number
  | 'pin-not-set' // the payer has no PIN yet: set at enrolment or at a supervised counter
  | 'pin-locked'
  | 'bills-stale' // the feed grew too old between the lookup and the payment
  | 'bill-changed' // the feed changed or paid a chosen bill meanwhile: look it up again
  | 'duplicate-request'
  | 'store-error';

/** The feed's picture is too old to offer bills from (the same rule at lookup and, again, at payment). */
export function billsStale(ageMs: number | null, maxAgeMs: number): boolean {
  return ageMs === null || ageMs > maxAgeMs;
}

type Body =
  | { step: 'subscriber'; error: 'subscriber-invalid' | null }
  | { step: 'looking-up' }
  | { step: 'refused'; reason: BillRefusal }
  | { step: 'bills'; due: DueBill[]; ageMs: number; error: 'choice-invalid' | null }
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'pin'; person: Person; wrong: boolean; attemptsLeft: number | null }
  | { step: 'checking-pin'; person: Person }
  | { step: 'paying'; person: Person }
  | { step: 'declined'; reason: BillDecline; person: Person | null }
  | { step: 'paid'; person: Person; receipt: Receipt; print?: PrintStatus }
  | { step: 'finished' };

export interface BillContext {
  operatorId: string;
  /** Idempotency key of this attempt: the store decides each request once (a record per bill, keyed from it). */
  requestId: string;
  subscriber: string | null;
  /** The bills chosen to pay, with their exact amounts; their sum is `total`. */
  chosen: DueBill[];
  total: Money | null;
}

export type BillState = Body & BillContext;

export type BillEvent =
  | PlacementEvent
  | { type: 'subscriber.set'; subscriber: string }
  | { type: 'bills.found'; lookup: BillLookup }
  | { type: 'bills.choose'; billIds: string[] }
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  /** linked: the centre's subscriber links (signed feed) let this payer pay every chosen bill's subscriber number. */
  | { type: 'payer.loaded'; person: Person | null; pinSet: boolean; linked: boolean }
  | { type: 'pin.submit'; pin: string }
  | { type: 'pin.result'; result: PinResult }
  | { type: 'bills.paid'; receipt: Receipt }
  | { type: 'bills.declined'; reason: BillDecline }
  | { type: 'print' }
  | PrintResult
  | { type: 'back' }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

/** What the flow asks the bank to record: these bills, at these exact amounts, from this payer's account. */
export interface BillPaymentRequest {
  requestId: string;
  operatorId: string;
  personId: string;
  subscriber: string;
  bills: Array<{ billerId: string; billId: string; amount: Money }>;
}

export type BillEffect =
  | { type: 'lookupBills'; subscriber: string }
  | { type: 'identifyPalm' }
  | { type: 'loadPayer'; personId: string; subscriber: string; billerIds: string[] }
  | { type: 'verifyCustomerPin'; personId: string; pin: string }
  | ({ type: 'payBills' } & BillPaymentRequest)
  | { type: 'print'; receipt: Receipt };

/** Electricity subscriber numbers: 6 to 12 digits (Arabic-Indic digits are accepted and normalised). */
export function normaliseSubscriber(raw: string): string | null {
  const latin = toLatinDigits(raw.trim());
  return /^[0-9]{6,12}$/.test(latin) ? latin : null;
}

export function startBill(ctx: { operatorId: string; requestId: string }): Step<BillState, BillEffect> {
  return go({ step: 'subscriber', error: null, ...ctx, subscriber: null, chosen: [], total: null });
}

function payerRefusal(p: Person, pinSet: boolean, linked: boolean): BillDecline | null {
  if (p.status === 'revoked') return 'person-revoked';
  if (p.status === 'provisional') return 'person-provisional';
  if (!p.accountId) return 'no-account';
  if (!linked) return 'not-linked';
  if (!pinSet) return 'pin-not-set';
  return null;
}

/** The chosen bills, in the order shown, or null when the choice is not a set of distinct bills shown in one currency. */
function choose(due: DueBill[], ids: string[]): DueBill[] | null {
  const wanted = new Set(ids);
  if (ids.length === 0 || wanted.size !== ids.length) return null;
  const key = (b: DueBill) => `${b.billerId}:${b.billId}`;
  const chosen = due.filter((b) => wanted.has(key(b)));
  if (chosen.length !== ids.length) return null;
  return new Set(chosen.map((b) => b.amount.currency)).size === 1 ? chosen : null;
}

/** The key a screen sends to choose a bill (a bill id is its biller's own). */
export const billKey = (b: Pick<DueBill, 'billerId' | 'billId'>) => `${b.billerId}:${b.billId}`;

export function reduceBill(s: BillState, e: BillEvent): Step<BillState, BillEffect> {
  const ctx: BillContext = { operatorId: s.operatorId, requestId: s.requestId, subscriber: s.subscriber, chosen: s.chosen, total: s.total };
  const to = (b: Body, patch: Partial<BillContext> = {}, ...fx: BillEffect[]): Step<BillState, BillEffect> => go({ ...b, ...ctx, ...patch }, ...fx);
  const decline = (reason: BillDecline, person: Person | null) => to({ step: 'declined', reason, person });
  const toPalm = () => to({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null }, {}, { type: 'identifyPalm' });

  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  if (e.type === 'cancel') {
    // Nothing is cancelled while the store decides, and a recorded payment is shown until done.
    if (s.step === 'paying' || s.step === 'checking-pin' || s.step === 'paid' || s.step === 'looking-up') return stay(s);
    return to({ step: 'finished' });
  }

  switch (s.step) {
    case 'subscriber': {
      if (e.type !== 'subscriber.set') return stay(s);
      const subscriber = normaliseSubscriber(e.subscriber);
      if (!subscriber) return to({ step: 'subscriber', error: 'subscriber-invalid' });
      return to({ step: 'looking-up' }, { subscriber, chosen: [], total: null }, { type: 'lookupBills', subscriber });
    }
    case 'looking-up': {
      if (e.type !== 'bills.found') return stay(s);
      const l = e.lookup;
      if (billsStale(l.ageMs, l.maxAgeMs)) return to({ step: 'refused', reason: 'bills-stale' });
      if (!l.known) return to({ step: 'refused', reason: 'subscriber-unknown' });
      if (l.bills.length === 0) return to({ step: 'refused', reason: 'nothing-due' });
      return to({ step: 'bills', due: l.bills, ageMs: l.ageMs as number, error: null });
    }
    case 'refused':
      if (e.type === 'retry' || e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'bills': {
      if (e.type === 'back') return to({ step: 'subscriber', error: null }, { subscriber: null });
      if (e.type !== 'bills.choose') return stay(s);
      const chosen = choose(s.due, e.billIds);
      if (!chosen) return to({ ...s, error: 'choice-invalid' });
      const total = { minor: chosen.reduce((n, b) => n + b.amount.minor, 0), currency: chosen[0]!.amount.currency };
      return go({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null, ...ctx, chosen, total }, { type: 'identifyPalm' });
    }
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, {}, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return decline('ambiguous', null);
      if (o.kind === 'no-match') return decline('unknown-palm', null);
      const billerIds = [...new Set(ctx.chosen.map((b) => b.billerId))].sort();
      return to({ step: 'loading', personId: o.personId }, {}, { type: 'loadPayer', personId: o.personId, subscriber: ctx.subscriber ?? '', billerIds });
    }
    case 'loading': {
      if (e.type !== 'payer.loaded') return stay(s);
      if (!e.person) return decline('unknown-palm', null);
      const refusal = payerRefusal(e.person, e.pinSet, e.linked);
      if (refusal) return decline(refusal, e.person);
      return to({ step: 'pin', person: e.person, wrong: false, attemptsLeft: null });
    }
    case 'pin':
      if (e.type !== 'pin.submit' || !isPin(e.pin)) return stay(s);
      return to({ step: 'checking-pin', person: s.person }, {}, { type: 'verifyCustomerPin', personId: s.person.id, pin: e.pin });
    case 'checking-pin': {
      if (e.type !== 'pin.result') return stay(s);
      const r = e.result;
      if (r.ok) {
        const bills = ctx.chosen.map((b) => ({ billerId: b.billerId, billId: b.billId, amount: b.amount }));
        return to({ step: 'paying', person: s.person }, {}, {
          type: 'payBills', requestId: ctx.requestId, operatorId: ctx.operatorId, personId: s.person.id, subscriber: ctx.subscriber as string, bills,
        });
      }
      if ('locked' in r) return decline('pin-locked', s.person);
      return to({ step: 'pin', person: s.person, wrong: true, attemptsLeft: r.attemptsLeft });
    }
    case 'paying':
      if (e.type === 'bills.paid') return to({ step: 'paid', person: s.person, receipt: e.receipt });
      if (e.type === 'bills.declined') return decline(e.reason, s.person);
      return stay(s);
    case 'declined':
      if (e.type === 'retry' && (s.reason === 'unknown-palm' || s.reason === 'ambiguous')) return toPalm();
      // The feed changed a chosen bill meanwhile: look the number up again (nothing was recorded).
      if (e.type === 'retry' && s.reason === 'bill-changed' && ctx.subscriber) return to({ step: 'looking-up' }, { chosen: [], total: null }, { type: 'lookupBills', subscriber: ctx.subscriber });
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'paid': {
      const printed = printStep(s, e);
      if (printed) return printed;
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    }
    case 'finished':
      return stay(s);
  }
}
