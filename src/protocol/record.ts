// The record contract: what a terminal signs and the centre verifies. Types + zod schemas (the trust boundary).
// Pure. Canonical bytes, hash and signature rules are in CANONICAL.md; code in canonical.ts and sign.ts.
import { z } from 'zod';
import { PalmPayError } from '../util/errors.ts';

/** Format version, carried in every record as `v`. A new version is a new literal here, never a silent change. */
export const RECORD_VERSION = 1 as const;

/** prevHash of a terminal's first record (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

/** ISO 4217 codes the terminal handles, with their minor-unit exponent (amounts are always integers in minor units). */
export const CURRENCIES = { SYP: { minorUnits: 2 }, USD: { minorUnits: 2 } } as const;
export type Currency = keyof typeof CURRENCIES;

export const RECORD_TYPES = ['salary_payout', 'purchase', 'refund', 'void', 'enrolment', 'day_close', 'meter_reading', 'mandate', 'mandate_cancel', 'template_update', 'pin_set', 'report_request', 'lease_release'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

// ---- building blocks -------------------------------------------------------------------------------------------
/** Identifiers: 1–64 ASCII letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit (UUIDs fit). */
export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'an id is 1-64 chars of [A-Za-z0-9._:-]');
export const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex chars');
/** A palm module family: the first word of the module's GET_VERSION (the same rule as drivers/serial-module/feature-families.ts familyOfVersion). */
export const ModuleFamily = z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'a module family is 1-32 chars of [A-Za-z0-9._-]');
export const Hex64 = z.string().regex(/^[0-9a-f]{128}$/, 'expected 128 lowercase hex chars');
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A positive amount in minor units. */
export const AmountMinor = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const CurrencyCode = z.enum(['SYP', 'USD']);
/** Free text a person typed (reason, name): 1–200 chars. */
const Text = z.string().min(1).max(200);

/** Hybrid logical clock: wall milliseconds + a logical counter (see hlc.ts). */
export const Hlc = z.strictObject({ ms: Count, c: Count });
/** The last server-signed time the terminal saw: its ms value and a reference to the signed token ('' if none yet). */
export const ServerTime = z.strictObject({ ms: Count, ref: z.string().max(128) });

/** Fields every record carries. The ledger fills all of them except `type` and `operatorId`. */
const header = {
  v: z.literal(RECORD_VERSION),
  terminalId: Id,
  /** Gapless per terminal, from 1. The centre de-duplicates on (terminalId, seq). */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** hash of the record with seq − 1; GENESIS_HASH for seq 1. */
  prevHash: Hex32,
  operatorId: Id,
  hlc: Hlc,
  serverTime: ServerTime,
};

// ---- the record types ------------------------------------------------------------------------------------------
/** An employee collected a salary voucher in cash. voucherId is redeemed once, ever. */
export const SalaryPayoutBody = z.strictObject({
  ...header,
  type: z.literal('salary_payout'),
  voucherId: Id,
  leaseId: Id,
  personId: Id,
  accountId: Id,
  /** pay period, e.g. "2026-11" */
  period: z.string().regex(/^\d{4}-\d{2}$/),
  amountMinor: AmountMinor,
  currency: CurrencyCode,
});

/** A customer paid at a shop; with `biller` it is a bill payment to that biller. purchaseId is unique (UUID). */
export const PurchaseBody = z.strictObject({
  ...header,
  type: z.literal('purchase'),
  purchaseId: Id,
  customerId: Id,
  accountId: Id,
  amountMinor: AmountMinor,
  currency: CurrencyCode,
  /** true when the customer's PIN was checked (above the PIN threshold). */
  pinVerified: z.boolean(),
  /** true when the purchase was accepted under the offline limits (no link at the time). */
  offline: z.boolean(),
  biller: z.strictObject({ billerId: Id, billRef: z.string().min(1).max(64) }).optional(),
  /**
   * A supervisor (operator id; palm + PIN at the counter, never the cashier `operatorId`) approved this
   * offline purchase above `overriddenLimits`. Both present or both absent; absent ⇒ the v1 bytes as before.
   */
  approvedBy: Id.optional(),
  /** Which offline limits the supervisor raised: sorted, no repeats, only those a supervisor may raise. */
  overriddenLimits: z.array(z.enum(['CUSTOMER_ALLOWANCE', 'PER_TRANSACTION_CAP'])).min(1).max(2).optional(),
});

/** Money returned to a customer for an earlier purchase (possibly partial). Needs a supervisor. */
export const RefundBody = z.strictObject({
  ...header,
  type: z.literal('refund'),
  refundId: Id,
  originalPurchaseId: Id,
  originalTerminalId: Id,
  originalSeq: z.number().int().min(1),
  customerId: Id,
  accountId: Id,
  amountMinor: AmountMinor,
  currency: CurrencyCode,
  approvedBy: Id,
  reason: Text,
});

/** Cancels an earlier record of this terminal (same business day). Needs a supervisor. */
export const VoidBody = z.strictObject({
  ...header,
  type: z.literal('void'),
  voidId: Id,
  targetTerminalId: Id,
  targetSeq: z.number().int().min(1),
  targetType: z.enum(['salary_payout', 'purchase', 'refund']),
  /** the voucherId / purchaseId / refundId of the target */
  targetId: Id,
  amountMinor: AmountMinor,
  currency: CurrencyCode,
  approvedBy: Id,
  reason: Text,
});

/** A person was enrolled here (provisional until the centre's duplicate check). Templates travel separately; the record pins their digests. */
export const EnrolmentBody = z.strictObject({
  ...header,
  type: z.literal('enrolment'),
  enrolmentId: Id,
  personId: Id,
  person: z.strictObject({
    name: Text,
    idNumber: z.string().min(1).max(64),
    phone: z.string().min(1).max(32).optional(),
    employerId: Id.optional(),
    accountId: Id.optional(),
  }),
  /**
   * SHA-256 (hex) of each plaintext template, in capture order. Empty only in an enrolment on a palm module that
   * gives no image (`moduleFeature` below is then its palm): the centre refuses an empty list without one
   * (ENROLMENT_WITHOUT_PALM, src/server/invariants.ts checkEnrolment).
   */
  templateDigests: z.array(Hex32).max(32),
  hands: z.array(z.enum(['left', 'right'])).min(1).max(2),
  consent: z.strictObject({ given: z.literal(true), method: z.enum(['signature', 'thumbprint', 'verbal']), textVersion: Id }),
  provisional: z.boolean(),
  /**
   * The PIN the person chose while enrolling: its scrypt verifier only (the PIN never leaves the keypad side), or
   * `pinDeferred` when they chose to set it later at a supervised counter. At most one; neither in older records.
   */
  pinHash: z.lazy(() => PinVerifier).optional(), // the schema pin_set uses, declared with it below
  pinDeferred: z.literal(true).optional(),
  /**
   * An operator's palm enrolled with nobody signed in (the first operator of a counter): the id of the one-time
   * operator enrolment code the centre issued for this terminal and this operator, which the counter proved online
   * before capturing (never the code itself). `personId` and `operatorId` are then the operator's id. Absent in
   * every other enrolment (the v1 bytes as before).
   */
  enrolCodeId: Id.optional(),
  /**
   * Enrolled on a palm module that matches on its own (issue 14 §2): the module family (the first word of its
   * GET_VERSION, drivers/serial-module/feature-families.ts) and the SHA-256 (hex) of the feature blob the module
   * gave. The blob travels with the templates (`PUT /v1/enrolments/:person/templates`); the centre stores it only
   * if it hashes to this digest and is that family's format. Absent in every other enrolment (the v1 bytes as before).
   */
  moduleFeature: z.strictObject({ family: ModuleFamily, digest: Hex32 }).optional(),
});

/** Totals of one currency in a day close (the Z-report). */
export const DayCloseTotal = z.strictObject({
  currency: CurrencyCode,
  purchaseCount: Count,
  purchaseMinor: Count,
  billCount: Count,
  billMinor: Count,
  refundCount: Count,
  refundMinor: Count,
  voidCount: Count,
  voidMinor: Count,
  payoutCount: Count,
  payoutMinor: Count,
});

/** The end of a business day: totals over records firstSeq..lastSeq (inclusive; empty day: firstSeq = lastSeq + 1). */
export const DayCloseBody = z.strictObject({
  ...header,
  type: z.literal('day_close'),
  dayCloseId: Id,
  businessDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  firstSeq: z.number().int().min(1),
  lastSeq: z.number().int().min(0),
  /** one entry per currency seen, sorted by currency code */
  totals: z.array(DayCloseTotal).max(Object.keys(CURRENCIES).length),
  /** cash in the drawer per currency: expected from the records, and counted. */
  cash: z
    .array(z.strictObject({ currency: CurrencyCode, expectedMinor: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER), countedMinor: Count }))
    .max(Object.keys(CURRENCIES).length)
    .optional(),
  /** why the cash counted differs from the cash expected; the day-close flow requires it then. */
  differenceReason: Text.optional(),
});

// ---- issue 17: meter readings and direct-debit mandates signed at the counter (no money moves) ----------------
/** An electricity subscriber's meter reading, typed at the counter after the palm of a payer linked to the subscriber. */
export const MeterReadingBody = z.strictObject({
  ...header,
  type: z.literal('meter_reading'),
  readingId: Id,
  personId: Id,
  billerId: Id,
  subscriber: z.string().regex(/^[0-9]{6,12}$/),
  reading: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The last reading the counter knew (from the feed's bills or its own readings); evidence, the centre uses its own. */
  lastReading: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** A supervisor (palm + PIN, never the cashier) approved a reading below the last one. */
  approvedBy: Id.optional(),
});

/** A person (palm + PIN) lets their account pay a biller's bills for a subscriber, up to maxMinor per bill. */
export const MandateBody = z.strictObject({
  ...header,
  type: z.literal('mandate'),
  /** The mandate's id at the centre, too. */
  mandateId: Id,
  personId: Id,
  accountId: Id,
  billerId: Id,
  subscriber: z.string().regex(/^[0-9]{6,12}$/),
  maxMinor: AmountMinor,
  currency: CurrencyCode,
  pinVerified: z.literal(true),
});

/** The person (palm + PIN) cancels their own active mandate for a subscriber. */
export const MandateCancelBody = z.strictObject({
  ...header,
  type: z.literal('mandate_cancel'),
  cancelId: Id,
  personId: Id,
  billerId: Id,
  subscriber: z.string().regex(/^[0-9]{6,12}$/),
  pinVerified: z.literal(true),
});

/**
 * A fresh capture joined a person's template as an update slot after a confident match (issue 19, the rule in
 * src/biometrics/template-update.ts). No money moves. Like an enrolment, the capture travels separately and the
 * record pins its digest; the centre re-decides with its own copies and may refuse (review, nothing changes).
 */
export const TemplateUpdateBody = z.strictObject({
  ...header,
  type: z.literal('template_update'),
  updateId: Id,
  personId: Id,
  hand: z.enum(['left', 'right']),
  /** SHA-256 (hex) of the enrolled template this update extends (the one the enrolment record pinned). */
  enrolledDigest: Hex32,
  /** SHA-256 (hex) of the plaintext capture (one sub-code). */
  captureDigest: Hex32,
  /** Which existing update slot (0 = oldest) the capture replaced; absent when a slot was free. */
  replaces: z.number().int().min(0).max(31).optional(),
  /** The terminal's distance of the capture to the enrolment captures, in 1/10 000 (the centre recomputes it). */
  anchorScore: z.number().int().min(0).max(10_000),
  /** The customer's PIN was checked for this person: then `pinSeq` names this terminal's record that checked it. */
  pinVerified: z.boolean(),
  pinSeq: z.number().int().min(1).optional(),
});

/** A customer PIN's scrypt verifier (src/ledger/pin.ts hashPin): salt and hash, never the PIN. */
export const PinVerifier = z.string().max(300).regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'expected a scrypt PIN verifier');

/**
 * A supervisor (palm + PIN, never the cashier) set a confirmed person's PIN at the counter, the person's own palm
 * identifying them (issue 17: a payer without a PIN gets one at a supervised counter). Carries the verifier only.
 */
export const PinSetBody = z.strictObject({
  ...header,
  type: z.literal('pin_set'),
  pinSetId: Id,
  personId: Id,
  pinHash: PinVerifier,
  /** Required: a PIN is never set without a supervisor's approval. */
  approvedBy: Id,
});

/**
 * The counter asks the centre for a person's monthly report (issue 17): signed into the journal and sent with the
 * request, so the centre re-checks who asked (terminal, operator), for whom and which month, and the request id
 * is used once. The person's PIN travels beside it sealed to the centre (report-pin.ts); `sealedPinDigest` (SHA-256
 * hex of the sealed box) binds that very box to this record. No money moves.
 */
export const ReportRequestBody = z.strictObject({
  ...header,
  type: z.literal('report_request'),
  requestId: Id,
  personId: Id,
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
  sealedPinDigest: Hex32,
});

/**
 * The terminal gives back a salary voucher's lease the centre withdrew (a lease move, DESIGN.md §5), having not
 * paid it: signed in the same transaction that drops the lease here, so every payout this terminal signed before
 * comes earlier in its chain, and the centre grants the lease elsewhere only when this record arrives. No money
 * moves, and no one at the counter acts: `operatorId` is SYSTEM_OPERATOR.
 */
export const LeaseReleaseBody = z.strictObject({
  ...header,
  type: z.literal('lease_release'),
  voucherId: Id,
  /** The lease given back (the one the centre withdrew): unique, so a release is signed once per lease. */
  leaseId: Id,
});

/** The operator of records the terminal signs on its own (a lease release), no person at the counter acting. */
export const SYSTEM_OPERATOR = 'system';

export const RecordBody = z.discriminatedUnion('type', [
  SalaryPayoutBody, PurchaseBody, RefundBody, VoidBody, EnrolmentBody, DayCloseBody, MeterReadingBody, MandateBody, MandateCancelBody, TemplateUpdateBody, PinSetBody,
  ReportRequestBody, LeaseReleaseBody,
]);
export type LeaseReleaseBody = z.infer<typeof LeaseReleaseBody>;
export type ReportRequestBody = z.infer<typeof ReportRequestBody>;
export type PinSetBody = z.infer<typeof PinSetBody>;
export type MeterReadingBody = z.infer<typeof MeterReadingBody>;
export type MandateBody = z.infer<typeof MandateBody>;
export type MandateCancelBody = z.infer<typeof MandateCancelBody>;
export type TemplateUpdateBody = z.infer<typeof TemplateUpdateBody>;
export type RecordBody = z.infer<typeof RecordBody>;
export type SalaryPayoutBody = z.infer<typeof SalaryPayoutBody>;
export type PurchaseBody = z.infer<typeof PurchaseBody>;
export type RefundBody = z.infer<typeof RefundBody>;
export type VoidBody = z.infer<typeof VoidBody>;
export type EnrolmentBody = z.infer<typeof EnrolmentBody>;
export type DayCloseBody = z.infer<typeof DayCloseBody>;
export type DayCloseTotal = z.infer<typeof DayCloseTotal>;
export type Hlc = z.infer<typeof Hlc>;
export type ServerTime = z.infer<typeof ServerTime>;

/** A body plus `hash` (SHA-256 of the canonical body) and `sig` (Ed25519 over the signing message). Both hex. */
export type SignedRecord = RecordBody & { hash: string; sig: string };

/** The header fields the ledger assigns at append time. */
export type AssignedField = 'v' | 'terminalId' | 'seq' | 'prevHash' | 'hlc' | 'serverTime';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a flow hands to `Ledger.append`: the type-specific fields and the operator. */
export type RecordDraft = DistributiveOmit<RecordBody, AssignedField>;

export class MalformedRecordError extends PalmPayError {
  constructor(message: string) {
    super('RECORD_MALFORMED', message);
  }
}

/** Validates an untrusted body (strict: unknown fields are refused, since they would be signed yet ignored). */
export function parseBody(input: unknown): RecordBody {
  const r = RecordBody.safeParse(input);
  if (!r.success) throw new MalformedRecordError(`malformed record: ${describeIssues(r.error)}`);
  return checkInvariants(dropUndefined(r.data));
}

/** `{biller: undefined}` means the field is absent: remove such keys so the canonical form has one spelling. */
function dropUndefined<T>(v: T): T {
  if (Array.isArray(v)) return v.map(dropUndefined) as T;
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x);
  return out as T;
}

/** Validates an untrusted signed record (body + hash + sig). Does not check the signature: see sign.ts / chain.ts. */
export function parseSignedRecord(input: unknown): SignedRecord {
  if (typeof input !== 'object' || input === null) throw new MalformedRecordError('malformed record: not an object');
  const { hash, sig, ...body } = input as Record<string, unknown>;
  if (!Hex32.safeParse(hash).success) throw new MalformedRecordError('malformed record: hash must be 64 lowercase hex chars');
  if (!Hex64.safeParse(sig).success) throw new MalformedRecordError('malformed record: sig must be 128 lowercase hex chars');
  return { ...parseBody(body), hash: hash as string, sig: sig as string };
}

/** The body of a signed record (what the hash and signature cover). */
export function bodyOf(rec: SignedRecord): RecordBody {
  const { hash: _h, sig: _s, ...body } = rec;
  return body as RecordBody;
}

/** The id that makes a record unique within its type on one terminal (a voucher is paid once, a purchase recorded once). */
export function idempotencyKey(b: RecordBody): string {
  switch (b.type) {
    case 'salary_payout':
      return b.voucherId;
    case 'purchase':
      return b.purchaseId;
    case 'refund':
      return b.refundId;
    case 'void':
      return b.voidId;
    case 'enrolment':
      return b.enrolmentId;
    case 'day_close':
      return b.dayCloseId;
    case 'meter_reading':
      return b.readingId;
    case 'mandate':
      return b.mandateId;
    case 'mandate_cancel':
      return b.cancelId;
    case 'template_update':
      return b.updateId;
    case 'pin_set':
      return b.pinSetId;
    case 'report_request':
      return b.requestId;
    case 'lease_release':
      return b.leaseId;
  }
}

/** Cross-field rules zod cannot say on one field. */
function checkInvariants(b: RecordBody): RecordBody {
  if (b.seq === 1 && b.prevHash !== GENESIS_HASH) throw new MalformedRecordError('malformed record: seq 1 must carry the genesis prevHash');
  if (b.type === 'day_close') {
    if (b.firstSeq > b.lastSeq + 1 || b.lastSeq >= b.seq) throw new MalformedRecordError('malformed record: day_close seq range is invalid');
    const codes = b.totals.map((t) => t.currency);
    if (codes.some((c, i) => i > 0 && c <= codes[i - 1]!)) throw new MalformedRecordError('malformed record: day_close totals must be sorted by currency, one per currency');
  }
  if (b.type === 'purchase' && (b.approvedBy !== undefined || b.overriddenLimits !== undefined)) {
    const bad = (why: string) => new MalformedRecordError(`malformed record: purchase override ${why}`);
    if (b.approvedBy === undefined || b.overriddenLimits === undefined) throw bad('needs both approvedBy and overriddenLimits');
    if (b.approvedBy === b.operatorId) throw bad('approver must not be the cashier');
    if (!b.offline) throw bad('only raises offline limits');
    const l = b.overriddenLimits;
    if (l.some((x, i) => i > 0 && x <= l[i - 1]!)) throw bad('limits must be sorted, without repeats');
  }
  if (b.type === 'meter_reading' && b.approvedBy !== undefined && b.approvedBy === b.operatorId) {
    throw new MalformedRecordError('malformed record: meter_reading approver must not be the cashier');
  }
  if (b.type === 'template_update' && (b.pinVerified !== (b.pinSeq !== undefined) || (b.pinSeq !== undefined && b.pinSeq >= b.seq))) {
    throw new MalformedRecordError('malformed record: template_update pinSeq names an earlier record exactly when pinVerified');
  }
  if (b.type === 'pin_set' && b.approvedBy === b.operatorId) throw new MalformedRecordError('malformed record: pin_set approver must not be the cashier');
  if (b.type === 'enrolment' && new Set(b.hands).size !== b.hands.length) throw new MalformedRecordError('malformed record: enrolment hands repeat');
  if (b.type === 'enrolment' && b.pinHash !== undefined && b.pinDeferred !== undefined) throw new MalformedRecordError('malformed record: enrolment carries a PIN verifier or defers the PIN, not both');
  return b;
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
