// What a screen may send into a flow: clicks and typed values only, never results such as 'payout.recorded' or
// 'palm.identified', which come from the host's own effects. The API (src/api/flows.ts) re-exports these schemas;
// they live here, with the flows they drive, so the API depends on the flows and never the other way round.
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
  // bill: the bills chosen among those shown (biller:bill keys), never an amount
  z.strictObject({ type: z.literal('bills.choose'), billIds: z.array(z.string().min(1).max(130)).min(1).max(50) }),
  // meter reading (issue 17d): the meter chosen among those shown and the reading typed
  z.strictObject({ type: z.literal('reading.set'), billerId: z.string().min(1).max(64), reading: Digits }),
  // mandate (issue 17d): sign or cancel, then the biller and (to sign) the maximum per bill
  z.strictObject({ type: z.literal('mandate.mode'), mode: z.enum(['sign', 'cancel', 'mine']) }),
  // "My mandates": end one of those listed for the person identified
  z.strictObject({ type: z.literal('mandate.end'), billerId: z.string().min(1).max(64), subscriber: Digits }),
  z.strictObject({ type: z.literal('mandate.terms'), billerId: z.string().min(1).max(64), maxMinor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() }),
  // a customer's new PIN and the same again: at a supervised counter (issue 17f) or while enrolling (issue 17)
  z.strictObject({ type: z.literal('pin.new'), pin: Digits, again: Digits }),
  // enrolment: the person sets their PIN later, at a supervised counter
  z.strictObject({ type: z.literal('pin.defer') }),
  // refund, void
  z.strictObject({ type: z.literal('reference.set'), reference: Digits }),
  z.strictObject({ type: z.literal('confirm') }),
  // enrolment
  z.strictObject({ type: z.literal('form.submit'), draft: PersonDraftSchema }),
  z.strictObject({ type: z.literal('consent.given') }),
  z.strictObject({ type: z.literal('consent.refused') }),
  z.strictObject({ type: z.literal('capture.retake'), hand: z.enum(['left', 'right']), sampleId: z.string().max(64) }),
  z.strictObject({ type: z.literal('capture.finish') }),
  // the technician's scanner check: take one test capture
  z.strictObject({ type: z.literal('capture.test') }),
  // the financial report (issue 17): a month the screen offered
  z.strictObject({ type: z.literal('month.choose'), month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/) }),
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

export const FLOW_KINDS = ['payout', 'purchase', 'bill', 'reading', 'mandate', 'refund', 'void', 'enrolment', 'statement', 'dayClose', 'report', 'pinSet', 'scannerCheck'] as const;
export const FlowKind = z.enum(FLOW_KINDS);
export type FlowKind = z.infer<typeof FlowKind>;
