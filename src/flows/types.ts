// Data the flows work on. Plain, serialisable objects (no templates, no keys): the state of a flow is what the
// screen shows, and it crosses to the renderer as it is.
import type { Duty } from '../protocol/operator-roles.ts';

/** Integer minor units plus an ISO 4217 code. Never a float (DESIGN §5). */
export interface Money {
  minor: number;
  currency: string;
}

/** The work an operator may do at a counter (protocol/operator-roles.ts: what each granted role covers). */
export type Role = Duty;

export interface Operator {
  id: string;
  /** Name in Latin script; `nameAr` in Arabic script, when the store has it (screens greet in their own script). */
  name: string;
  nameAr?: string;
  roles: Role[];
}

export type PersonStatus = 'active' | 'provisional' | 'revoked';

export interface Person {
  id: string;
  /** Name in Arabic script, and in Latin script (both are on the ID and on the receipt). */
  nameAr: string;
  nameLatin: string;
  status: PersonStatus;
  /** Account purchases and bills are paid from; absent for salary-only people. */
  accountId?: string;
  hasPhoto?: boolean;
}

export interface Voucher {
  id: string;
  /** Pay period, e.g. "2026-10". */
  period: string;
  amount: Money;
  /** Leased to this terminal: only the lease holder may redeem offline (DESIGN §5). */
  leasedHere: boolean;
  redeemed: boolean;
}

/** Live placement guidance from the scanner's presence and distance events, plus the last quality seen. */
export interface Guidance {
  present: boolean;
  distance: 'unknown' | 'closer' | 'farther' | 'ok';
  /** 0..1, the last capture's quality; null before the first capture. */
  quality: number | null;
  /** Why the last capture failed (failure to acquire), for the hint line. */
  hint: string | null;
}

export const NO_GUIDANCE: Guidance = { present: false, distance: 'unknown', quality: null, hint: null };

/** What 1:N identification decided: never a guess when the margin is thin. */
export type IdentifyOutcome =
  | { kind: 'match'; personId: string }
  | { kind: 'ambiguous' }
  | { kind: 'no-match' }
  /** Failure to acquire: no usable capture; `reason` is the biometrics' FTA reason ("too-far", ...). */
  | { kind: 'fta'; reason: string };

/** Events every palm-reading state accepts while it waits (from the scanner's presence and distance events). */
export type PlacementEvent =
  | { type: 'scanner.presence'; present: boolean }
  | { type: 'scanner.distance'; distance: Guidance['distance'] }
  | { type: 'scanner.quality'; quality: number; hint: string | null };

export function applyPlacement(g: Guidance, e: PlacementEvent): Guidance {
  switch (e.type) {
    case 'scanner.presence':
      return { ...g, present: e.present, distance: e.present ? g.distance : 'unknown' };
    case 'scanner.distance':
      return { ...g, distance: e.distance };
    case 'scanner.quality':
      return { ...g, quality: e.quality, hint: e.hint };
  }
}

export function isPlacement(e: { type: string }): e is PlacementEvent {
  return e.type === 'scanner.presence' || e.type === 'scanner.distance' || e.type === 'scanner.quality';
}

/** One line of a receipt or statement. */
export interface ReceiptLine {
  /** Translation key of the label (the UI translates), plus parameters. */
  label: string;
  params?: Record<string, string>;
  amount?: Money;
}

/** What a receipt shows and a printer prints. The wording is keyed so each language renders its own. */
export interface Receipt {
  /** 'report': a person's financial report printed at the counter (no record: seq 0, recordId names person and month). */
  kind: 'payout' | 'purchase' | 'bill' | 'refund' | 'void' | 'enrolment' | 'day-close' | 'meter-reading' | 'mandate' | 'mandate-cancel' | 'pin-set' | 'report';
  recordId: string;
  /** The terminal's gapless sequence number of the record. */
  seq: number;
  terminalId: string;
  at: string;
  operatorId: string;
  personName?: { ar: string; latin: string };
  lines: ReceiptLine[];
  total?: Money;
}

/** Recent activity of one person, newest first. `ref` is the receipt number the person was given (the record's seq). */
export interface StatementEntry {
  kind: 'payout' | 'purchase' | 'bill' | 'refund' | 'void';
  at: string;
  amount: Money;
  ref: string;
  /** +1: money to the person (salary, a refund, a void that gives a purchase back); -1: money from them. */
  sign: 1 | -1;
  /** A salary's pay period ("2026-09"). */
  period?: string;
  /** Voided later (the void is its own row). */
  voided?: boolean;
  /** A void: the receipt number of the record it undoes. */
  voidOf?: string;
}

/** What is left of a customer's offline allowance on this terminal (null: none granted). */
export interface AllowanceLeft {
  left: Money;
  expiresAt: string;
  expired: boolean;
  /**
   * The account's balance as the centre last sent it (at `asOf`), and what was paid here since that the centre had
   * not yet counted: the statement shows both, so an old balance is never shown as today's. Null: none was sent.
   */
  balance?: { amount: Money; asOf: string; unsentHere: Money } | null;
}
