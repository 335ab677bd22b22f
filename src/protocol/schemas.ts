// Request and response schemas of the centre's HTTP API (zod: the trust boundary; responses as JSON Schema for Fastify).
import { z } from 'zod';
import { ModuleFamily } from './record.ts';
import { OPERATOR_ROLES } from './operator-roles.ts';

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/);

/** Largest batch a terminal may upload at once; larger bodies are refused before parsing. */
export const MAX_BATCH = 2000;
export const BODY_LIMIT = 8 * 1024 * 1024;

export const RegisterRequest = z.strictObject({
  code: z.string().min(8).max(64),
  publicKey: Hex32,
  encKey: Hex32,
});
export const UploadRequest = z.strictObject({
  /** Each record is validated on its own (so one bad record does not sink the batch). */
  records: z.array(z.unknown()).min(1).max(MAX_BATCH),
});
export const TemplatesRequest = z
  .strictObject({
    /** None only for a template-less enrolment (a palm module that gives no image): its feature below is the palm. */
    templates: z.array(z.string().max(200_000).regex(/^[A-Za-z0-9+/]*={0,2}$/)).max(32),
    /** The palm module's feature blob, when the enrolment record pins one (`moduleFeature`): its family and bytes. */
    moduleFeature: z.strictObject({ family: ModuleFamily, feature: z.string().min(1).max(100_000).regex(/^[A-Za-z0-9+/]*={0,2}$/) }).optional(),
  })
  .refine((b) => b.templates.length > 0 || b.moduleFeature !== undefined, { message: 'neither templates nor a palm module feature' });
/** A counter proves an operator enrolment code (src/server/operator-codes.ts) before it captures that operator's palm. */
export const OperatorCodeClaimRequest = z.strictObject({ code: z.string().min(8).max(64) });
export const OperatorCodeClaimResponse = z.object({ codeId: Id, operatorId: Id, name: z.string(), role: z.string() });
export type OperatorCodeClaimResponse = z.infer<typeof OperatorCodeClaimResponse>;
export const FeedQuery = z.strictObject({
  cursor: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(2000).default(500),
});
export const PersonParams = z.strictObject({ personId: Id });
/** A template update's capture (issue 19): one encoded template of one sub-code, whose SHA-256 the signed record pins. */
export const UpdateParams = z.strictObject({ updateId: Id });
export const CaptureRequest = z.strictObject({ capture: z.string().min(1).max(20_000).regex(/^[A-Za-z0-9+/]*={0,2}$/) });
export const CaptureResponse = z.object({ status: z.enum(['applied', 'refused', 'awaiting-capture']), reason: z.string().optional() });

const SignedTime = z.object({ ms: z.number().int(), sig: z.string() });
/** `attemptsLeft`: with REPORT_PIN_WRONG, how many more tries before the person's PIN locks at the centre. */
export const ErrorResponse = z.object({ error: z.object({ code: z.string(), message: z.string(), attemptsLeft: z.number().int().optional() }) });
export const HealthResponse = z.object({ status: z.literal('ok'), storage: z.string(), serverPublicKey: z.string(), time: SignedTime });
export const RegisterResponse = z.object({
  certificate: z.object({
    body: z.object({
      v: z.literal(1), terminalId: z.string(), name: z.string(), branch: z.string(), region: z.string(),
      publicKey: z.string(), encKey: z.string(), issuedAt: z.number().int(),
    }),
    sig: z.string(),
  }),
  serverPublicKey: z.string(),
  time: SignedTime,
});
const Original = z.object({ status: z.enum(['accepted', 'review']), reason: z.string().optional() });
export const RecordResultSchema = z.object({
  seq: z.number().int().nullable(),
  status: z.enum(['accepted', 'review', 'duplicate', 'conflict', 'gap', 'invalid']),
  reason: z.string().optional(),
  original: Original.optional(),
});
export const UploadResponse = z.object({ results: z.array(RecordResultSchema), time: SignedTime });
export const TemplatesResponse = z.object({ status: z.string(), duplicateOf: z.string().optional() });
/** A terminal's offline limits, as the centre sets them (`terminal_limits` feed event; src/ledger/limits.ts OfflineLimits). */
const MinorPerCurrency = z.strictObject({ SYP: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), USD: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export const TerminalLimits = z.strictObject({
  perTransactionMaxMinor: MinorPerCurrency,
  terminalStoredMaxMinor: MinorPerCurrency,
  maxStoredRecordAgeMs: z.number().int().positive().max(365 * 86_400_000),
  maxSinceLastSyncMs: z.number().int().positive().max(365 * 86_400_000),
});
/**
 * An operator's role at one terminal, as the centre grants it (`operator_grant` feed event, sent only in the page
 * the centre signs for that terminal). `pinHash` (scrypt, src/ledger/pin.ts) when the centre sets the PIN.
 */
export const OperatorGrant = z.strictObject({
  operatorId: Id,
  name: z.string().min(1).max(200),
  role: z.enum(OPERATOR_ROLES),
  active: z.boolean(),
  pinHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/).optional(),
});
export type OperatorGrant = z.infer<typeof OperatorGrant>;
/** The centre's signature over a feed page (src/protocol/feed-page.ts); a terminal applies no page without it. */
export const FeedPageProof = z.object({
  terminalId: z.string(), from: z.number().int(), to: z.number().int(), more: z.boolean(), eventsSha256: z.string(),
  timeMs: z.number().int(), request: z.string(), sig: z.string(),
});
export const FeedResponse = z.object({
  events: z.array(z.object({ seq: z.number().int(), kind: z.string(), key: z.string(), data: z.record(z.string(), z.unknown()) })),
  cursor: z.number().int(),
  more: z.boolean(),
  time: SignedTime,
  proof: FeedPageProof.optional(),
});
/** `GET /v1/time?nonce=…`: the signed time, and the same time signed together with the caller's nonce. */
export const TimeQuery = z.strictObject({ nonce: z.string().regex(/^[0-9a-f]{32,64}$/).optional() });
export const TimeResponse = z.object({ ms: z.number().int(), sig: z.string(), bound: z.object({ ms: z.number().int(), nonce: z.string(), sig: z.string() }).optional() });

/** A person's financial report for a month (src/server/report/report.ts), as a counter receives it. */
export const ReportMovementKind = z.enum(['salary', 'salary_paid_out', 'deposit', 'purchase', 'refund', 'void', 'bill', 'direct_debit', 'other']);
export const ReportBody = z.object({
  person: z.string(),
  status: z.string(),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  accounts: z.array(z.object({
    account: z.string(),
    role: z.enum(['salary', 'customer']),
    currency: z.string(),
    opening_minor: z.number().int(),
    movements: z.array(z.object({ at: z.number().int(), kind: ReportMovementKind, amount_minor: z.number().int(), currency: z.string(), reference: z.string(), period: z.string().optional(), balance_after_minor: z.number().int() })),
    fees_minor: z.number().int(),
    closing_minor: z.number().int(),
  })),
  failed_direct_debits: z.array(z.object({ at: z.number().int(), biller: z.string(), bill: z.string(), amount_minor: z.number().int(), currency: z.string(), reason: z.string() })),
  /** The centre's time when it made the report. */
  asOfMs: z.number().int(),
});
/** The report with the centre's signature over it and the request it answers (protocol/feed-page.ts verifyReport). */
export const ReportResponse = ReportBody.extend({
  proof: z.object({ terminalId: z.string(), reportSha256: z.string(), request: z.string(), sig: z.string() }),
});
/**
 * `POST /v1/reports/:personId` (issue 17): the signed `report_request` journal record (record.ts) and the person's
 * PIN sealed to the centre for that very request (report-pin.ts). The centre checks both before it answers.
 */
export const ReportRequest = z.strictObject({
  record: z.record(z.string(), z.unknown()),
  sealedPin: z.string().min(80).max(1024).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64'),
});
export type ReportRequest = z.infer<typeof ReportRequest>;
export type ReportResponse = z.infer<typeof ReportResponse>;
export type ReportBody = z.infer<typeof ReportBody>;

export type UploadResponse = z.infer<typeof UploadResponse>;
export type FeedResponse = z.infer<typeof FeedResponse>;
export type RegisterResponse = z.infer<typeof RegisterResponse>;
export type RecordResultWire = z.infer<typeof RecordResultSchema>;

/** JSON Schema for Fastify's response serialiser. */
export function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { target: 'draft-7', io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * Per-record outcome.
 * - accepted / review: stored now (review = stored and in the supervisor's queue, no money moved);
 * - duplicate: stored earlier; `original` is the result it got then (a retry, even a year later);
 * - conflict: a DIFFERENT record under an already stored (terminal, seq): refused;
 * - gap: earlier sequence numbers are missing: retry after them;
 * - invalid: malformed, edited, wrongly signed, or breaking the chain: refused.
 */
export type RecordStatus = 'accepted' | 'review' | 'duplicate' | 'conflict' | 'gap' | 'invalid';
export interface RecordResult {
  seq: number | null;
  status: RecordStatus;
  reason?: string;
  original?: { status: 'accepted' | 'review'; reason?: string };
}
/** Outcomes after which the terminal may drop the record from its outbox. */
export const FINAL_STATUSES: ReadonlySet<RecordStatus> = new Set(['accepted', 'review', 'duplicate']);
