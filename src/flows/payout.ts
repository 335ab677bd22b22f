// Salary payout at a branch counter: palm → person, periods owed and amount → the cashier confirms the cash is
// counted → the record is written (BEFORE the drawer opens) → drawer → the person confirms with the palm again →
// receipt. Refusals say exactly why. Paying twice is impossible in the store: the Bank port's `recordPayout`
// (src/host/adapters/sqlite-bank.ts) appends through the ledger, whose voucher rule (src/ledger/voucher-rule.ts)
// decides once; the guards here only keep the screen honest (a double click in 'recording' does nothing).
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { markUnconfirmed } from './receipts.ts';
import { go, stay, type Step } from './machine.ts';
import {
  applyPlacement, isPlacement, NO_GUIDANCE,
  type Guidance, type IdentifyOutcome, type Money, type Person, type PlacementEvent, type Receipt, type Voucher,
} from './types.ts';

export type PayoutRefusal =
  | 'unknown-palm' // no one enrolled with this palm: enrol first, or check the hand
  | 'ambiguous' // two people are too close: lay the palm again, or check the ID card
  | 'person-provisional' // enrolment not yet confirmed by the centre: not payable yet
  | 'person-revoked' // blocked by the centre: send to the branch office
  | 'nothing-owed' // no voucher for this person
  | 'already-paid' // every voucher is redeemed
  | 'voucher-not-leased-here'; // owed, but the voucher is leased to another counter: go there, or move the lease online

/** Why recording failed although the screen showed a payable voucher (another tab or counter was faster, ...). */
export type PayoutFailure = 'already-paid' | 'voucher-not-leased-here' | 'person-revoked' | 'store-error';

type Body =
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'refused'; reason: PayoutRefusal; person: Person | null }
  | { step: 'review'; person: Person; vouchers: Voucher[]; totals: Money[]; elsewhere: number }
  | { step: 'recording'; person: Person; vouchers: Voucher[]; totals: Money[] }
  | { step: 'failed'; reason: PayoutFailure; person: Person }
  /** Recorded; the drawer is being opened. `recovered`: found after a restart, waiting for the cashier. */
  | { step: 'drawer'; person: Person; receipt: Receipt; opening: boolean; drawerError: boolean; recovered: boolean }
  /** `skippable`: the cashier may finish without the payee's palm, only after CONFIRM_ATTEMPTS failed palms. */
  | { step: 'confirm'; person: Person; receipt: Receipt; guidance: Guidance; attempts: number; skippable?: boolean }
  | { step: 'receipt'; person: Person; receipt: Receipt; confirmed: boolean; print?: PrintStatus }
  | { step: 'finished' };

export type PayoutState = Body & { operatorId: string };

export type PayoutEvent =
  | PlacementEvent
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'payee.loaded'; person: Person | null; vouchers: Voucher[] }
  | { type: 'cash.confirmed' }
  | { type: 'payout.recorded'; receipt: Receipt }
  | { type: 'payout.failed'; reason: PayoutFailure }
  | { type: 'drawer.open' }
  | { type: 'drawer.opened' }
  | { type: 'drawer.failed' }
  | { type: 'palm.verified'; ok: boolean }
  | { type: 'confirm.skip' }
  | { type: 'print' }
  | PrintResult
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export type PayoutEffect =
  | { type: 'identifyPalm' }
  | { type: 'loadPayee'; personId: string }
  | { type: 'recordPayout'; personId: string; voucherIds: string[]; operatorId: string }
  | { type: 'openDrawer'; recordId: string }
  | { type: 'verifyPalm'; personId: string }
  | { type: 'print'; receipt: Receipt };

/** After this many failed confirmations the screen offers only "continue without confirmation". */
export const CONFIRM_ATTEMPTS = 3;

export function startPayout(operatorId: string): Step<PayoutState, PayoutEffect> {
  return go({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null, operatorId }, { type: 'identifyPalm' });
}

/** After a restart: a payout was recorded but its drawer never opened. The cashier opens it now. */
export function recoverPayout(operatorId: string, person: Person, receipt: Receipt): PayoutState {
  return { step: 'drawer', person, receipt, opening: false, drawerError: false, recovered: true, operatorId };
}

/** Which vouchers this counter may pay now, or why none. Pure: the store re-checks inside its transaction. */
export function payable(person: Person, vouchers: Voucher[]): { ok: true; vouchers: Voucher[]; elsewhere: number } | { ok: false; reason: PayoutRefusal } {
  if (person.status === 'revoked') return { ok: false, reason: 'person-revoked' };
  if (person.status === 'provisional') return { ok: false, reason: 'person-provisional' };
  if (vouchers.length === 0) return { ok: false, reason: 'nothing-owed' };
  const open = vouchers.filter((v) => !v.redeemed);
  if (open.length === 0) return { ok: false, reason: 'already-paid' };
  const here = open.filter((v) => v.leasedHere);
  if (here.length === 0) return { ok: false, reason: 'voucher-not-leased-here' };
  return { ok: true, vouchers: here, elsewhere: open.length - here.length };
}

/** Sum per currency (a person may be owed in SYP and USD); integers only. */
export function totals(amounts: Money[]): Money[] {
  const by = new Map<string, number>();
  for (const a of amounts) by.set(a.currency, (by.get(a.currency) ?? 0) + a.minor);
  return [...by].map(([currency, minor]) => ({ currency, minor }));
}

export function reducePayout(s: PayoutState, e: PayoutEvent): Step<PayoutState, PayoutEffect> {
  const op = s.operatorId;
  const to = (b: Body, ...fx: PayoutEffect[]): Step<PayoutState, PayoutEffect> => go({ ...b, operatorId: op }, ...fx);

  if (isPlacement(e)) {
    if (s.step === 'palm' || s.step === 'confirm') return stay({ ...s, guidance: applyPlacement(s.guidance, e) });
    return stay(s);
  }
  if (e.type === 'cancel') {
    // Before anything is written the cashier may walk away; after, the flow must reach the receipt.
    if (s.step === 'palm' || s.step === 'refused' || s.step === 'review' || s.step === 'loading' || s.step === 'failed') return to({ step: 'finished' });
    return stay(s);
  }

  switch (s.step) {
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return to({ step: 'refused', reason: 'ambiguous', person: null });
      if (o.kind === 'no-match') return to({ step: 'refused', reason: 'unknown-palm', person: null });
      return to({ step: 'loading', personId: o.personId }, { type: 'loadPayee', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'payee.loaded') return stay(s);
      if (!e.person) return to({ step: 'refused', reason: 'unknown-palm', person: null });
      const p = payable(e.person, e.vouchers);
      if (!p.ok) return to({ step: 'refused', reason: p.reason, person: e.person });
      return to({ step: 'review', person: e.person, vouchers: p.vouchers, totals: totals(p.vouchers.map((v) => v.amount)), elsewhere: p.elsewhere });
    }
    case 'refused':
      if (e.type === 'retry') return startPayout(op);
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'review': {
      if (e.type !== 'cash.confirmed') return stay(s);
      return to(
        { step: 'recording', person: s.person, vouchers: s.vouchers, totals: s.totals },
        { type: 'recordPayout', personId: s.person.id, voucherIds: s.vouchers.map((v) => v.id), operatorId: op },
      );
    }
    case 'recording':
      // A second "cash counted" click lands here and is ignored: one record, one drawer.
      if (e.type === 'payout.recorded') {
        return to({ step: 'drawer', person: s.person, receipt: e.receipt, opening: true, drawerError: false, recovered: false }, { type: 'openDrawer', recordId: e.receipt.recordId });
      }
      if (e.type === 'payout.failed') return to({ step: 'failed', reason: e.reason, person: s.person });
      return stay(s);
    case 'failed':
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'drawer':
      if (e.type === 'drawer.open' && !s.opening) return to({ ...s, opening: true, drawerError: false }, { type: 'openDrawer', recordId: s.receipt.recordId });
      if (e.type === 'drawer.failed') return to({ ...s, opening: false, drawerError: true });
      if (e.type === 'drawer.opened') {
        return to({ step: 'confirm', person: s.person, receipt: s.receipt, guidance: NO_GUIDANCE, attempts: 0 }, { type: 'verifyPalm', personId: s.person.id });
      }
      return stay(s);
    case 'confirm':
      if (e.type === 'palm.verified') {
        if (e.ok) return to({ step: 'receipt', person: s.person, receipt: s.receipt, confirmed: true });
        const attempts = s.attempts + 1;
        if (attempts >= CONFIRM_ATTEMPTS) return to({ ...s, attempts, skippable: true });
        return to({ ...s, attempts, guidance: NO_GUIDANCE }, { type: 'verifyPalm', personId: s.person.id });
      }
      // Skipping the payee's confirmation is allowed only once their palm has failed CONFIRM_ATTEMPTS times.
      if (e.type === 'confirm.skip' && s.attempts >= CONFIRM_ATTEMPTS) return to({ step: 'receipt', person: s.person, receipt: markUnconfirmed(s.receipt), confirmed: false });
      return stay(s);
    case 'receipt':
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
