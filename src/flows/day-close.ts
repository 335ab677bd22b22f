// Day close (Z-report): totals by type and counts since the last close, expected cash in the drawer against
// the cash counted by denomination; a difference needs a written reason. The report is a signed record, then
// shown and printable. Expected cash comes from the store (opening float − salary paid out; palm purchases move
// no cash).
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { go, stay, type Step } from './machine.ts';
import type { Money, Receipt } from './types.ts';

export interface TypeTotal {
  kind: 'payout' | 'purchase' | 'bill' | 'refund' | 'void' | 'enrolment';
  count: number;
  /** Per currency; empty for enrolments. */
  totals: Money[];
}

export interface DayTotals {
  /** Sequence numbers this report covers. */
  fromSeq: number;
  toSeq: number;
  byType: TypeTotal[];
  /** Cash expected in the drawer, per currency. */
  expectedCash: Money[];
}

/** Count of one note or coin, in minor units of its currency. */
export interface DenominationCount {
  currency: string;
  value: number;
  count: number;
}

export type DayCloseFailure = 'store-error' | 'nothing-to-close';

type Body =
  | { step: 'loading' }
  | { step: 'count'; totals: DayTotals; counts: DenominationCount[]; reason: string; error: 'reason-required' | null }
  | { step: 'recording'; totals: DayTotals; counts: DenominationCount[]; reason: string }
  | { step: 'closed'; receipt: Receipt; totals: DayTotals; counted: Money[]; difference: Money[]; reason: string; print?: PrintStatus }
  | { step: 'failed'; reason: DayCloseFailure }
  | { step: 'finished' };

export interface DayCloseContext {
  operatorId: string;
  /** The notes and coins the counter counts, per currency, in minor units (largest first). */
  denominations: Array<{ currency: string; value: number }>;
}

export type DayCloseState = Body & DayCloseContext;

export type DayCloseEvent =
  | { type: 'totals.loaded'; totals: DayTotals }
  | { type: 'totals.failed'; reason: DayCloseFailure }
  | { type: 'count.set'; currency: string; value: number; count: number }
  | { type: 'reason.set'; reason: string }
  | { type: 'close.confirm' }
  | { type: 'dayclose.recorded'; receipt: Receipt }
  | { type: 'dayclose.failed' }
  | { type: 'print' }
  | PrintResult
  | { type: 'cancel' }
  | { type: 'done' };

export type DayCloseEffect =
  | { type: 'loadDayTotals' }
  | { type: 'recordDayClose'; operatorId: string; totals: DayTotals; counted: Money[]; counts: DenominationCount[]; difference: Money[]; reason: string }
  | { type: 'print'; receipt: Receipt };

export const MAX_REASON = 500;

export function startDayClose(ctx: DayCloseContext): Step<DayCloseState, DayCloseEffect> {
  return go({ step: 'loading', ...ctx }, { type: 'loadDayTotals' });
}

/** Cash counted per currency (every currency that is expected or counted appears). */
export function counted(expected: Money[], counts: DenominationCount[]): Money[] {
  const by = new Map<string, number>(expected.map((m) => [m.currency, 0]));
  for (const c of counts) by.set(c.currency, (by.get(c.currency) ?? 0) + c.value * c.count);
  return [...by].map(([currency, minor]) => ({ currency, minor }));
}

/** Counted − expected, per currency: negative is a shortfall. */
export function difference(expected: Money[], count: Money[]): Money[] {
  return count.map((c) => ({ currency: c.currency, minor: c.minor - (expected.find((x) => x.currency === c.currency)?.minor ?? 0) }));
}

export function reduceDayClose(s: DayCloseState, e: DayCloseEvent): Step<DayCloseState, DayCloseEffect> {
  const ctx: DayCloseContext = { operatorId: s.operatorId, denominations: s.denominations };
  const to = (b: Body, ...fx: DayCloseEffect[]): Step<DayCloseState, DayCloseEffect> => go({ ...b, ...ctx }, ...fx);
  if (e.type === 'cancel') return s.step === 'recording' || s.step === 'closed' ? stay(s) : to({ step: 'finished' });
  switch (s.step) {
    case 'loading':
      if (e.type === 'totals.loaded') {
        const counts = ctx.denominations.map((d) => ({ ...d, count: 0 }));
        return to({ step: 'count', totals: e.totals, counts, reason: '', error: null });
      }
      if (e.type === 'totals.failed') return to({ step: 'failed', reason: e.reason });
      return stay(s);
    case 'count': {
      if (e.type === 'count.set') {
        if (!Number.isSafeInteger(e.count) || e.count < 0 || e.count > 1_000_000) return stay(s);
        const counts = s.counts.map((c) => (c.currency === e.currency && c.value === e.value ? { ...c, count: e.count } : c));
        return to({ ...s, counts, error: null });
      }
      if (e.type === 'reason.set') return to({ ...s, reason: e.reason.slice(0, MAX_REASON), error: null });
      if (e.type !== 'close.confirm') return stay(s);
      const count = counted(s.totals.expectedCash, s.counts);
      const diff = difference(s.totals.expectedCash, count);
      const reason = s.reason.trim();
      if (diff.some((d) => d.minor !== 0) && reason.length < 3) return to({ ...s, error: 'reason-required' });
      return to(
        { step: 'recording', totals: s.totals, counts: s.counts, reason },
        { type: 'recordDayClose', operatorId: ctx.operatorId, totals: s.totals, counted: count, counts: s.counts.filter((c) => c.count > 0), difference: diff, reason },
      );
    }
    case 'recording': {
      if (e.type === 'dayclose.failed') return to({ step: 'failed', reason: 'store-error' });
      if (e.type !== 'dayclose.recorded') return stay(s);
      const count = counted(s.totals.expectedCash, s.counts);
      return to({ step: 'closed', receipt: e.receipt, totals: s.totals, counted: count, difference: difference(s.totals.expectedCash, count), reason: s.reason });
    }
    case 'closed':
      {
        const printed = printStep(s, e);
        if (printed) return printed;
      }
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'failed':
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'finished':
      return stay(s);
  }
}
