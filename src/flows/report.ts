// The person's electronic financial report at the counter: the person present lays their palm, chooses a month
// and types their own PIN (never a typed person id: the report is of whoever the palm and PIN prove), and the
// counter asks the centre for it now. The report is the centre's ledger, so it is shown only as the centre answers
// it, stamped with the centre's time; with the link down the person is told so (no copy is kept at the counter:
// a shared counter does not hold people's financial history, and an old copy would read as today's). Printing it
// on the receipt printer is offered, and printing again marks a copy.
// The PIN is checked here first (a typo costs no round trip) and then again by the centre, which alone decides:
// the request carries it sealed to the centre (host/adapters/centre-reports.ts). The month is chosen before the PIN
// so that the PIN is in the state only while it is checked here (`checking-pin`, the one step whose type holds it):
// the step that sends the request drops it, and so do cancel and every answer; another month asks for it again.
import { go, stay, type Step } from './machine.ts';
import { isPin, type PinResult } from './auth.ts';
import { printStep, type PrintEffect, type PrintResult, type PrintStatus } from './printing.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type IdentifyOutcome, type Person, type PlacementEvent, type Receipt } from './types.ts';
import type { ReportBody } from '../protocol/schemas.ts';

/** The report as the centre answers it (src/server/report/report.ts), with the centre's time. */
export type CounterReport = ReportBody;

export type ReportRefusal =
  | 'unknown-palm'
  | 'ambiguous'
  | 'person-provisional'
  | 'person-revoked'
  | 'pin-not-set' // no PIN yet: one is set at a supervised counter
  | 'pin-locked'
  | 'centre-unreachable' // the link is down: the report comes from the centre only
  | 'report-not-found' // the centre has no such person in this counter's region
  | 'rate-limited' // this counter asked for more reports than the centre allows a minute or a day
  | 'request-refused'; // the centre did not accept this counter's signed request (replayed, forged or unbound PIN)

/** Why the centre gave no report (REPORT_PIN_WRONG comes back as the PIN step, with the tries it left). */
export type ReportFetchRefusal = 'centre-unreachable' | 'report-not-found' | 'pin-locked' | 'pin-not-set' | 'rate-limited' | 'request-refused';

/** What the centre said: the report (and its printable receipt), a wrong PIN, or why there is none. */
export type ReportFetch =
  | { ok: true; report: CounterReport; receipt: Receipt }
  | { ok: false; reason: 'pin-wrong'; attemptsLeft: number }
  | { ok: false; reason: ReportFetchRefusal };

type Body =
  | { step: 'palm'; guidance: Guidance; ftaReason: string | null }
  | { step: 'loading'; personId: string }
  | { step: 'month'; person: Person; months: string[] }
  // `wrong`: asked again after a wrong PIN (here, or at the centre), with the tries it left.
  | { step: 'pin'; person: Person; month: string; wrong: boolean; attemptsLeft: number | null }
  // `pin`: what the person typed, while the counter checks it; sent (to be sealed) with the request, then forgotten.
  | { step: 'checking-pin'; person: Person; month: string; pin: string }
  | { step: 'fetching'; person: Person; month: string }
  | { step: 'shown'; person: Person; report: CounterReport; receipt: Receipt; print?: PrintStatus }
  | { step: 'refused'; reason: ReportRefusal; person: Person | null }
  | { step: 'finished' };

export type ReportState = Body & { operatorId: string; thisMonth: string };

export type ReportEvent =
  | PlacementEvent
  | { type: 'palm.identified'; outcome: IdentifyOutcome }
  | { type: 'person.loaded'; person: Person | null; pinSet: boolean }
  | { type: 'pin.submit'; pin: string }
  | { type: 'pin.result'; result: PinResult }
  | { type: 'month.choose'; month: string }
  | { type: 'report.fetched'; result: ReportFetch }
  | { type: 'print' }
  | PrintResult
  | { type: 'back' }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export type ReportEffect =
  | { type: 'identifyPalm' }
  | { type: 'loadPerson'; personId: string }
  | { type: 'verifyCustomerPin'; personId: string; pin: string }
  | { type: 'fetchReport'; personId: string; month: string; person: Person; operatorId: string; pin: string }
  | PrintEffect;

/** How many months back a person may ask for at the counter (this month included). */
export const REPORT_MONTHS = 12;

/** This month and the ones before it, newest first ("2026-12", "2026-11", …). Pure. */
export function reportMonths(thisMonth: string, n = REPORT_MONTHS): string[] {
  const [y, m] = thisMonth.split('-').map(Number) as [number, number];
  return Array.from({ length: n }, (_, i) => {
    const k = y * 12 + (m - 1) - i;
    return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`;
  });
}

export function startReport(ctx: { operatorId: string; thisMonth: string }): Step<ReportState, ReportEffect> {
  return go({ step: 'palm', guidance: NO_GUIDANCE, ftaReason: null, ...ctx }, { type: 'identifyPalm' });
}

export function reduceReport(s: ReportState, e: ReportEvent): Step<ReportState, ReportEffect> {
  const ctx = { operatorId: s.operatorId, thisMonth: s.thisMonth };
  const to = (b: Body, ...fx: ReportEffect[]): Step<ReportState, ReportEffect> => go({ ...b, ...ctx }, ...fx);
  const refuse = (reason: ReportRefusal, person: Person | null) => to({ step: 'refused', reason, person });
  const toMonth = (person: Person) => to({ step: 'month', person, months: reportMonths(s.thisMonth) });
  const askPin = (person: Person, month: string, wrong: { attemptsLeft: number } | null) =>
    to({ step: 'pin', person, month, wrong: wrong !== null, attemptsLeft: wrong?.attemptsLeft ?? null });

  if (isPlacement(e)) return s.step === 'palm' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);
  // Also while the PIN is checked: the flow ends and forgets it; the check's late answer finds it finished.
  if (e.type === 'cancel') return s.step === 'finished' ? stay(s) : to({ step: 'finished' });

  switch (s.step) {
    case 'palm': {
      if (e.type !== 'palm.identified') return stay(s);
      const o = e.outcome;
      if (o.kind === 'fta') return to({ step: 'palm', guidance: { ...s.guidance, hint: o.reason }, ftaReason: o.reason }, { type: 'identifyPalm' });
      if (o.kind === 'ambiguous') return refuse('ambiguous', null);
      if (o.kind === 'no-match') return refuse('unknown-palm', null);
      return to({ step: 'loading', personId: o.personId }, { type: 'loadPerson', personId: o.personId });
    }
    case 'loading': {
      if (e.type !== 'person.loaded') return stay(s);
      if (!e.person) return refuse('unknown-palm', null);
      if (e.person.status === 'revoked') return refuse('person-revoked', e.person);
      if (e.person.status === 'provisional') return refuse('person-provisional', e.person);
      if (!e.pinSet) return refuse('pin-not-set', e.person);
      return toMonth(e.person);
    }
    case 'month':
      if (e.type !== 'month.choose' || !s.months.includes(e.month)) return stay(s);
      return askPin(s.person, e.month, null);
    case 'pin':
      if (e.type !== 'pin.submit' || !isPin(e.pin)) return stay(s);
      return to({ step: 'checking-pin', person: s.person, month: s.month, pin: e.pin }, { type: 'verifyCustomerPin', personId: s.person.id, pin: e.pin });
    case 'checking-pin': {
      if (e.type !== 'pin.result') return stay(s);
      const r = e.result;
      // The request goes with the PIN (the host seals it to the centre at once); the state keeps none of it.
      if (r.ok) return to({ step: 'fetching', person: s.person, month: s.month }, { type: 'fetchReport', personId: s.person.id, month: s.month, person: s.person, operatorId: s.operatorId, pin: s.pin });
      if ('locked' in r) return refuse('pin-locked', s.person);
      return askPin(s.person, s.month, r);
    }
    case 'fetching': {
      if (e.type !== 'report.fetched') return stay(s);
      const r = e.result;
      if (r.ok) return to({ step: 'shown', person: s.person, report: r.report, receipt: r.receipt });
      // The centre checked the PIN and found it wrong: asked again, then this month at once.
      if (r.reason === 'pin-wrong') return askPin(s.person, s.month, r);
      return refuse(r.reason, s.person);
    }
    case 'shown': {
      const printed = printStep(s, e);
      if (printed) return printed as Step<ReportState, ReportEffect>;
      if (e.type === 'back') return toMonth(s.person); // another month, without the palm again (the PIN is asked again)
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    }
    case 'refused':
      if (e.type === 'retry' && (s.reason === 'unknown-palm' || s.reason === 'ambiguous')) return startReport(ctx);
      if (e.type === 'retry' && s.reason === 'centre-unreachable' && s.person) return toMonth(s.person); // palm and PIN were checked here
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'finished':
      return stay(s);
  }
}
