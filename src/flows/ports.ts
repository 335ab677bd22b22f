// What the flows need from the outside world, as small interfaces. The runtime plugs in the real scanner
// client + biometrics (src/host/adapters/palm.ts), the SQLite store + signed ledger (adapters/sqlite-bank.ts), a cash drawer and a printer;
// tests plug in the same real parts or the simulator. Nothing here knows about React or WebSockets.
import type { Original, ReversalKind, ReversalRefusal } from './reversal.ts';
import type { DayTotals, DenominationCount } from './day-close.ts';
import type { DuplicateCandidate, EnrolAs, EnrolHand } from './enrolment.ts';
import type { PersonDraft } from './enrolment-form.ts';
import type { PayoutFailure } from './payout.ts';
import type { PurchaseRefusal, PurchaseRequest } from './purchase.ts';
import type { BillDecline, BillLookup, BillPaymentRequest } from './bill.ts';
import type { ReportFetch } from './report.ts';
import type { PinResult } from './auth.ts';
import type { MeterLookup, ReadingDecline, ReadingRequest } from './meter-reading.ts';
import type { PinSetDecline, PinSetRequest } from './pin-set.ts';
import type { HeldMandate, MandateDecline, MandateRequest } from './mandate.ts';
import type { AllowanceLeft, IdentifyOutcome, Money, Operator, Person, PlacementEvent, Receipt, StatementEntry, Voucher } from './types.ts';
import type { ScannerIdentity, ScannerTest } from './scanner-check.ts';

/** A palm read: waits for a hand, captures, extracts. `T` is the biometric template (opaque to the flows). */
export type PalmRead<T> = { ok: true; template: T; quality: number } | { ok: false; reason: string; quality: number | null };

export interface PalmReader<T> {
  read(opts: { purpose: 'identify' | 'verify' | 'enrol'; hand?: EnrolHand; signal: AbortSignal }): Promise<PalmRead<T>>;
  /** Live placement guidance (presence, distance, quality); returns an unsubscribe function. */
  onPlacement(listener: (e: PlacementEvent) => void): () => void;
}

export interface Identifier<T> {
  /** 1:N over everyone enrolled here (people and operators alike). */
  identify(probe: T): Promise<IdentifyOutcome> | IdentifyOutcome;
  /** 1:1 against one person's enrolled templates. */
  verify(personId: string, probe: T): Promise<boolean> | boolean;
  /** Enrolled people whose palms likely match any of these captures (the local duplicate check). */
  duplicates(samples: T[]): Promise<string[]> | string[];
  /** A person was just enrolled here: make them identifiable at once (provisional people are refused payment by status, not by palm). */
  add?(personId: string, templates: T[]): void;
}

export type Result<T, R> = ({ ok: true } & T) | { ok: false; reason: R };

export interface EnrolmentRequest<T> {
  draft: PersonDraft;
  templates: Record<EnrolHand, T[]>;
  operatorId: string;
  overrideBy: string | null;
  /** The PIN the person chose (hashed by the bank: only its scrypt verifier is stored and signed), or null: deferred. */
  pin: string | null;
  /** An operator's bootstrap enrolment: stored and signed under the operator's id, naming the centre's code (enrolment.ts). */
  enrolAs?: EnrolAs;
}

export interface DayCloseRequest {
  operatorId: string;
  totals: DayTotals;
  counted: Money[];
  counts: DenominationCount[];
  difference: Money[];
  reason: string;
}

/**
 * The store and the signed ledger, as the flows need them. Every method that writes money appends ONE signed
 * record in ONE SQLite transaction together with the state it changes, and is idempotent:
 * - recordPayout: the voucher redemptions and the payout record commit together; a voucher already redeemed
 *   refuses the whole payout ('already-paid'), whoever asks (double click, restart, second tab, other flow).
 * - authorizePurchase: limits are checked and the record appended in the same transaction; a request id is
 *   decided once. checkPurchase is the same decision without the record (before the customer's PIN is asked).
 *   A limit decline says what the customer can still pay offline here (`canSpend`).
 * - recordReversal: one reversal per original record.
 * - payBills: every chosen bill, at its cached exact amount, or none; a request id is decided once, and a bill
 *   paid here is never offered again.
 */
export interface Bank<T> {
  terminalId(): string;
  person(personId: string): Person | null;
  vouchers(personId: string): Voucher[];
  operatorForPerson(personId: string): Operator | null;
  verifyOperatorPin(operatorId: string, pin: string): Promise<PinResult> | PinResult;
  verifyCustomerPin(personId: string, pin: string): Promise<PinResult> | PinResult;

  recordPayout(req: { personId: string; voucherIds: string[]; operatorId: string }): Result<{ receipt: Receipt }, PayoutFailure>;
  /** The cash drawer opened for this payout (after the record); until then a restart offers to open it. */
  markDrawerOpened(recordId: string): void;
  /** Payouts recorded whose drawer never opened (power cut in between), oldest first. */
  pendingDrawer(): Array<{ person: Person; receipt: Receipt; operatorId: string }>;

  /** The bills due for a subscriber number from the feed's cache, and how old that picture is. */
  lookupBills(subscriber: string): BillLookup;
  /** Whether the person has a PIN (a bill is always paid with the payer's PIN). */
  hasPin(personId: string): boolean;
  /** Whether the centre's subscriber links (cached from the signed feed) let this person pay the number for each biller. */
  mayPayBills(personId: string, subscriber: string, billerIds: readonly string[]): boolean;
  payBills(req: BillPaymentRequest): { ok: true; receipt: Receipt } | { ok: false; reason: BillDecline };

  // ---- issue 17d: meter readings and mandates (signed records that move no money) ----
  /** The meters the feed named for a subscriber number and their last readings. */
  lookupMeters(subscriber: string): MeterLookup;
  /** One signed meter_reading; a reading below the meter's last one only with a supervisor's approval (re-checked). */
  recordReading(req: ReadingRequest): { ok: true; receipt: Receipt } | { ok: false; reason: ReadingDecline };
  /**
   * Issue 17f: one signed pin_set for the person identified, approved by a supervisor (re-checked by the ledger).
   * The PIN is hashed here (scrypt) and only its verifier is stored and signed.
   */
  setCustomerPin(req: PinSetRequest): Promise<{ ok: true; receipt: Receipt } | { ok: false; reason: PinSetDecline }>;
  /** One signed mandate or mandate_cancel for the person identified, naming their own account. */
  recordMandate(req: MandateRequest): { ok: true; receipt: Receipt } | { ok: false; reason: MandateDecline };
  /** The person's mandates this counter signed and has not seen ended (its journal), oldest first. */
  mandatesOf(personId: string): HeldMandate[];

  /** Would this purchase pass now (customer, account, offline limits)? Writes nothing; authorizePurchase decides. */
  checkPurchase(req: { requestId: string; personId: string; amount: Money }): { ok: true } | PurchaseRefusal;
  authorizePurchase(req: PurchaseRequest): { ok: true; receipt: Receipt } | PurchaseRefusal;
  findRecord(seq: number): Original | null;
  recordReversal(req: { kind: ReversalKind; originalId: string; operatorId: string; supervisorId: string }): Result<{ receipt: Receipt }, ReversalRefusal>;

  saveEnrolment(req: EnrolmentRequest<T>): Promise<{ personId: string; receipt: Receipt }>;
  duplicateCandidates(personIds: string[]): DuplicateCandidate[];

  statement(personId: string, limit: number): StatementEntry[];
  /** What is left of the person's offline allowance here (null: none granted). */
  allowanceLeft(personId: string): AllowanceLeft | null;
  dayTotals(): DayTotals;
  recordDayClose(req: DayCloseRequest): Receipt;
}

export interface Drawer {
  /** Kicks the cash drawer open; rejects when the drawer does not answer. */
  open(signal: AbortSignal): Promise<void>;
}

export interface Printer {
  /**
   * Prints the receipt; `copy`: it had been printed before, so this one says COPY. Rejects with the printer's typed
   * error (a `code` such as PRINTER_PAPER_OUT, PRINTER_COVER_OPEN, PRINTER_TIMEOUT) when it could not.
   */
  print(receipt: Receipt, signal: AbortSignal): Promise<{ copy: boolean } | void>;
}

/** What the counter asks the centre while the person waits (issue 17: the financial report). */
export interface CentreReports {
  /**
   * The person's report for the month as the centre answers it now, with its printable receipt; why not otherwise.
   * `pin`: what the person typed, sent sealed to the centre, which checks it (never kept).
   */
  report(req: { personId: string; month: string; person: Person; operatorId: string; pin: string }, signal: AbortSignal): Promise<ReportFetch>;
}

/** The technician's scanner check (scanner-check.ts): what is plugged in, and one capture judged, nothing kept. */
export interface ScannerCheckPort {
  identify(signal: AbortSignal): Promise<ScannerIdentity>;
  testCapture(signal: AbortSignal): Promise<ScannerTest>;
}

export interface FlowPorts<T> {
  palm: PalmReader<T>;
  identifier: Identifier<T>;
  bank: Bank<T>;
  drawer: Drawer;
  printer: Printer;
  /** Absent without a centre link: the report then says the centre cannot be reached. */
  centre?: CentreReports;
  /** Absent: the scanner check says it is not available on this counter. */
  scanner?: ScannerCheckPort;
}
