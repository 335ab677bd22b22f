// The kiosk flows over the API: which flow to start, what a person may send into it (UiEvent, defined with the
// flows in src/flows/ui-events.ts), and the views the host pushes back. The state shapes are the flow machines'
// own types (src/flows), imported here as TYPES only, so the renderer shows exactly what the host decided.
import { z } from 'zod';
import { FlowKind, SessionUiEvent, UiEvent } from '../flows/ui-events.ts';
export { FLOW_KINDS, FlowKind, PersonDraftSchema, SessionUiEvent, UiEvent } from '../flows/ui-events.ts';
export type { AnyFlowState } from '../flows/kiosk.ts';
export type { PayoutState, PayoutRefusal, PayoutFailure } from '../flows/payout.ts';
export type { PurchaseState, PurchaseDecline } from '../flows/purchase.ts';
export type { BillState, BillDecline, BillRefusal, DueBill } from '../flows/bill.ts';
export { billKey } from '../flows/bill.ts';
export type { ReversalState, ReversalRefusal } from '../flows/reversal.ts';
export type { ReadingState, ReadingDecline, Meter } from '../flows/meter-reading.ts';
export type { PinSetState, PinSetDecline } from '../flows/pin-set.ts';
export type { NewPinError } from '../flows/pin-policy.ts';
export type { MandateState, MandateDecline, MandateMode } from '../flows/mandate.ts';
export type { EnrolmentState, Captures, DuplicateCandidate } from '../flows/enrolment.ts';
export type { PersonDraft, FormErrors } from '../flows/enrolment-form.ts';
export type { StatementState } from '../flows/statement.ts';
export type { ScannerCheckState, ScannerIdentity, ScannerTest } from '../flows/scanner-check.ts';
export type { ReportState, CounterReport } from '../flows/report.ts';
export type { DayCloseState, DayTotals } from '../flows/day-close.ts';
export type { PrintStatus, PrintFailure } from '../flows/printing.ts';
export type { SessionState } from '../flows/session.ts';
export type { AuthState } from '../flows/auth.ts';
export type { Guidance, Receipt, ReceiptLine, Person } from '../flows/types.ts';

/** On the wire a state is checked loosely (a step name plus its fields); its exact shape is the host's type. */
const State = z.looseObject({ step: z.string().max(64) });

export const FlowView = z.strictObject({ flowId: z.string().max(64), kind: FlowKind, rev: z.number().int().nonnegative(), state: State });
export type FlowView = z.infer<typeof FlowView>;

export const SessionView = z.strictObject({
  rev: z.number().int().nonnegative(),
  state: State,
  pendingDrawer: z.number().int().nonnegative(),
  lockAfterMs: z.number().int().positive(),
  tasks: z.array(z.strictObject({ kind: FlowKind, needs: z.enum(['cashier', 'enroller', 'supervisor']), allowed: z.boolean() })).max(32),
});
export type SessionView = z.infer<typeof SessionView>;

export const FlowStartInput = z.strictObject({ kind: FlowKind });
export const FlowSendInput = z.strictObject({ flowId: z.string().max(64), event: UiEvent });
export const FlowGetInput = z.strictObject({ flowId: z.string().max(64) });
export const SessionSendInput = z.strictObject({ event: SessionUiEvent });
/** An operator enrolment code as the centre issues it (src/server/operator-codes.ts: 9 random bytes, base64url). */
export const OPERATOR_CODE_PATTERN = /^[A-Za-z0-9_-]{12}$/;
export const OperatorEnrolInput = z.strictObject({ code: z.string().regex(OPERATOR_CODE_PATTERN) });

/** Test hooks (only with `palmpay terminal --test-hooks`, never in production): script the simulated scanner. */
export const TestPresentInput = z.strictObject({
  identity: z.string().min(1).max(64),
  sample: z.number().int().min(1).max(99).optional(),
  distanceMm: z.number().int().min(0).max(500).optional(),
  afterMs: z.number().int().min(0).max(60_000).optional(),
});
const Ms = z.number().int().min(0).max(365 * 86_400_000);
const Minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const TestFaultInput = z.strictObject({
  drawerFails: z.boolean().optional(),
  linkUp: z.boolean().optional(),
  limits: z.strictObject({ perTransactionMaxMinor: Minor.optional(), terminalStoredMaxMinor: Minor.optional(), maxStoredRecordAgeMs: Ms.optional(), maxSinceLastSyncMs: Ms.optional() }).optional(),
});
