// The kiosk flows over the API: which flow to start, what a person may send into it (UiEvent: clicks and typed
// values only, never results such as 'payout.recorded' or 'palm.identified', which come from the host's own
// effects), and the views the host pushes back. The state shapes are the host's flow machines
// (src/host/flows), imported here as TYPES only, so the renderer shows exactly what the host decided.
import { z } from 'zod';


const Digits = z.string().max(32);
const Text = z.string().max(200);

export const PersonDraftSchema = z.strictObject({
  nameAr: Text,
  nameLatin: Text,
  idNumber: Digits,
  phone: z.string().max(32),
  employer: Text,
  accountId: Text,
});

export const UiEvent = z.discriminatedUnion('type', [
  // shared
  z.strictObject({ type: z.literal('cancel') }),
  z.strictObject({ type: z.literal('done') }),
  z.strictObject({ type: z.literal('retry') }),
  z.strictObject({ type: z.literal('print') }),
  z.strictObject({ type: z.literal('back') }),
  z.strictObject({ type: z.literal('override.start') }),
  z.strictObject({ type: z.literal('auth.submit'), pin: Digits }),
  // payout
  z.strictObject({ type: z.literal('cash.confirmed') }),
  z.strictObject({ type: z.literal('drawer.open') }),
  z.strictObject({ type: z.literal('confirm.skip') }),
  // purchase, bill
  z.strictObject({ type: z.literal('amount.set'), minor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ type: z.literal('subscriber.set'), subscriber: Digits }),
  z.strictObject({ type: z.literal('pin.submit'), pin: Digits }),
  // refund, void
  z.strictObject({ type: z.literal('reference.set'), reference: Digits }),
  z.strictObject({ type: z.literal('confirm') }),
  // enrolment
  z.strictObject({ type: z.literal('form.submit'), draft: PersonDraftSchema }),
  z.strictObject({ type: z.literal('consent.given') }),
  z.strictObject({ type: z.literal('consent.refused') }),
  z.strictObject({ type: z.literal('capture.retake'), hand: z.enum(['left', 'right']), sampleId: z.string().max(64) }),
  z.strictObject({ type: z.literal('capture.finish') }),
  // day close
  z.strictObject({ type: z.literal('count.set'), currency: z.string().regex(/^[A-Z]{3}$/), value: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), count: z.number().int().min(0).max(1_000_000) }),
  z.strictObject({ type: z.literal('reason.set'), reason: z.string().max(500) }),
  z.strictObject({ type: z.literal('close.confirm') }),
]);
export type UiEvent = z.infer<typeof UiEvent>;

/** The session's own actions (login, lock). */
export const SessionUiEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('login.start') }),
  z.strictObject({ type: z.literal('login.cancel') }),
  z.strictObject({ type: z.literal('auth.submit'), pin: Digits }),
  z.strictObject({ type: z.literal('lock') }),
]);
export type SessionUiEvent = z.infer<typeof SessionUiEvent>;

export const FLOW_KINDS = ['payout', 'purchase', 'bill', 'refund', 'void', 'enrolment', 'statement', 'dayClose'] as const;
export const FlowKind = z.enum(FLOW_KINDS);
export type FlowKind = z.infer<typeof FlowKind>;

export type { AnyFlowState } from '../host/flows/kiosk.ts';
export type { PayoutState, PayoutRefusal, PayoutFailure } from '../host/flows/payout.ts';
export type { PurchaseState, PurchaseDecline } from '../host/flows/purchase.ts';
export type { ReversalState, ReversalRefusal } from '../host/flows/reversal.ts';
export type { EnrolmentState, Captures, DuplicateCandidate } from '../host/flows/enrolment.ts';
export type { PersonDraft, FormErrors } from '../host/flows/enrolment-form.ts';
export type { StatementState } from '../host/flows/statement.ts';
export type { DayCloseState, DayTotals } from '../host/flows/day-close.ts';
export type { SessionState } from '../host/flows/session.ts';
export type { AuthState } from '../host/flows/auth.ts';
export type { Guidance, Receipt, ReceiptLine, Person } from '../host/flows/types.ts';

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
