// The centre's money invariants: the ONE place that says whether a terminal's record may move money. Pure.
// ingest.ts looks the facts up (voucher, person, original purchase, balances) and asks here before it applies
// anything; a refusal sends the record to review with its typed reason and moves no money.
//
//   1. a voucher is paid at most once, by the terminal that holds its lease, for exactly its person/period/amount;
//   2. the reversals of a record never exceed it: only a purchase is reversible, a void cancels the whole of what
//      is left of it, once, on its own terminal; refunds sum to at most the purchase; nothing reverses a reversal;
//   3. an account has exactly one owner: an enrolment naming an account that is already bound is refused, and so is
//      one naming none whose person id is an account already bound (its account is its person id); an account is
//      bound by naming it, or by being the person id of someone enrolled without naming one (looked up under a
//      lock on the account, lock-plan.ts accountsBound, so two batches binding it at once cannot both find it free);
//   4. a balance never goes below its floor (a customer's funds, an employee's unpaid salary: 0);
//   5. every transaction's postings balance per currency;
//   6. a record's customer, account and terminal agree with what the centre knows (a customer is of the terminal's region);
//   7. a record's clocks are plausible and its server time really was signed by the centre;
//   8. a bill is paid once, for exactly its amount, by a payer linked to its subscriber; it is undone only by a void;
//   9. a direct debit pays a bill only under an active mandate, never above its maximum, from its owner's funds,
//      while the signer is still linked to the subscriber;
//  10. a counter's meter reading or mandate names a confirmed person of its region linked to a registered biller's subscriber; a
//      reading below the last one carries a supervisor's approval; a mandate binds that person's own account, a
//      subscriber has one active mandate (looked up under a lock on the subscriber, lock-plan.ts), and only its
//      owner cancels it;
//  11. a supervisor's approval (a limit raised, a refund, a void, a reading below the last) is by an operator the
//      centre granted the supervisor role at the record's terminal, still active, and not the operator who made the record.
//  12. a template update (issue 19) names a confirmed person and one of the templates their enrolment pinned, and a
//      PIN it claims is proven by an earlier record of the same terminal that checked that person's PIN.
//  13. a customer PIN's verifier (a pin_set, or the one chosen at enrolment) is well-formed scrypt, slow enough and
//      not too costly to check (src/protocol/pin-verifier.ts), and an enrolment never replaces anyone's PIN.
//  15. a purchase keeps to the offline limits its terminal could have held when it signed it (the loosest of them, see
//      limitsTerminalCouldHold): the per-transaction cap unless a granted supervisor raised it, and the terminal's
//      stored total, as far as the centre can see it (the money records first uploaded in the same batch before it).
//      The centre decides no purchase online, so a record's `offline: false` waives nothing.
//  14. a palm goes under an operator's id (an id the centre granted a role at any terminal) only by an enrolment naming
//      the one-time operator enrolment code the centre issued and this terminal claimed for that operator, once,
//      signed as the operator themself while their grant there is active (operator-codes.ts).
//  16. a record is made by an operator the centre granted, at the record's terminal, a role that covers its work
//      (src/protocol/operator-roles.ts: money at the till needs cashier, paymaster or supervisor; an enrolment,
//      enroller or supervisor), still active when the record arrives (checkOperator). Only the terminal's own records
//      (a lease given back, signed as SYSTEM_OPERATOR) need no one.
import { featureFormat } from '../../drivers/serial-module/feature-families.ts';
import { SYSTEM_OPERATOR, type EnrolmentBody, type LeaseReleaseBody, type PinSetBody, type TemplateUpdateBody, type MandateBody, type MandateCancelBody, type MeterReadingBody, type PurchaseBody, type RecordBody, type RefundBody, type SalaryPayoutBody, type VoidBody } from '../protocol/record.ts';
import { pinVerifierProblem } from '../protocol/pin-verifier.ts';
import { dutyOfRecord, roleMayDo, type OperatorRole } from '../protocol/operator-roles.ts';
import { amountRefusal, DEFAULT_OFFLINE_LIMITS, loosestLimits, type OfflineLimits } from '../protocol/offline-limits.ts';
import type { OperatorGrantRow, PersonRow, Posting, PurchaseRow, VoucherRow } from './repo.ts';

export const REFUSAL_CODES = [
  'VOUCHER_UNKNOWN', 'VOUCHER_NOT_LEASED_HERE', 'VOUCHER_ALREADY_PAID', 'PAYOUT_MISMATCH', 'PERSON_REVOKED',
  'CUSTOMER_UNKNOWN', 'CUSTOMER_NOT_CONFIRMED', 'ACCOUNT_NOT_CUSTOMERS', 'INSUFFICIENT_FUNDS', 'PURCHASE_ID_USED',
  'REFUND_ORIGINAL_UNKNOWN', 'REFUND_OTHER_TERMINAL', 'REFUND_MISMATCH', 'REFUND_EXCEEDS_ORIGINAL',
  'VOID_OTHER_TERMINAL', 'VOID_TARGET_UNKNOWN', 'VOID_TARGET_NOT_PURCHASE', 'VOID_MISMATCH', 'VOID_ALREADY', 'VOID_EXCEEDS_REMAINING',
  'PERSON_EXISTS', 'ACCOUNT_ALREADY_OWNED',
  'POSTINGS_UNBALANCED', 'BALANCE_BELOW_FLOOR',
  'RECORD_TIME_IMPLAUSIBLE', 'SERVER_TIME_FORGED',
  'BILLER_UNKNOWN', 'BILL_UNKNOWN', 'BILL_ALREADY_PAID', 'BILL_AMOUNT_MISMATCH', 'BILL_PAYER_NOT_LINKED', 'REFUND_OF_BILL',
  'MANDATE_INACTIVE', 'MANDATE_MAX_EXCEEDED', 'MANDATE_CURRENCY',
  'READING_BELOW_LAST', 'MANDATE_EXISTS', 'MANDATE_UNKNOWN', 'MANDATE_NOT_OWNER', 'APPROVER_NOT_SUPERVISOR', 'OPERATOR_NOT_GRANTED',
  'TEMPLATE_UPDATE_WRONG_TEMPLATE', 'TEMPLATE_UPDATE_PIN_UNPROVEN', 'TEMPLATE_UPDATE_REPLAYED',
  // when the capture is judged (template-slots.ts): the rule's refusals on the centre's own copies
  'TEMPLATE_UPDATE_WRONG_HAND', 'TEMPLATE_UPDATE_NOT_FRESH', 'TEMPLATE_UPDATE_QUALITY', 'TEMPLATE_UPDATE_NOT_CONFIDENT', 'TEMPLATE_UPDATE_AMBIGUOUS', 'TEMPLATE_UPDATE_FULL', 'TEMPLATE_UPDATE_MALFORMED',
  'PIN_SET_UNAPPROVED',
  'LEASE_RELEASE_REFUSED',
  'PIN_VERIFIER_MALFORMED', 'PIN_VERIFIER_WEAK', 'PIN_VERIFIER_TOO_COSTLY',
  'OPERATOR_ENROLMENT_UNAUTHORISED', 'OPERATOR_CODE_USED',
  'ENROLMENT_WITHOUT_PALM', 'MODULE_FAMILY_UNMATCHED',
  'OFFLINE_LIMIT_EXCEEDED',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** Why a record moves no money: a stable code and one line for the supervisor. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}
const refuse = (code: RefusalCode, message: string): Refusal => ({ code, message });

/** The review reason stored with the record and returned to the terminal: `CODE: message`. */
export function reviewReason(r: Refusal): string {
  return `${r.code}: ${r.message}`;
}
/** The code at the start of a stored review reason (undefined for reasons written before codes existed). */
export function refusalCodeOf(reason: string | null | undefined): RefusalCode | undefined {
  const code = /^([A-Z_]+):/.exec(reason ?? '')?.[1];
  return (REFUSAL_CODES as readonly string[]).includes(code ?? '') ? (code as RefusalCode) : undefined;
}

// ---- facts the centre knows (the few columns each rule reads) ----
export type VoucherFacts = Pick<VoucherRow, 'id' | 'person_id' | 'period' | 'amount' | 'currency' | 'lease_terminal' | 'lease_id' | 'status' | 'redeemed_by'>;
export type PersonFacts = Pick<PersonRow, 'id' | 'status' | 'account_id'> & { region?: string };
/** A purchase as booked (`refunded`: sum already reversed), with the customer (and biller, for a bill) its signed record names. */
export type PurchaseFacts = PurchaseRow & { customerId: string; billerId?: string };
/** A bill as the biller issued it, and whether it is still due. */
export interface BillFacts {
  biller_id: string;
  bill_id: string;
  subscriber: string;
  amount: number;
  currency: string;
  status: 'open' | 'paid';
  paid_by: string | null;
}
/** A stored record a void names. */
export interface StoredRecordFacts {
  terminal_id: string;
  seq: number;
  type: string;
  status: string;
  body: RecordBody;
}

/**
 * A record a supervisor approved (an offline limit raised, a refund, a void): the approver must be an operator the
 * centre granted the supervisor role at this terminal, still active, and not the record's own operator. A role the
 * terminal gave itself (its store edited, its key misused) approves nothing.
 */
export function checkApproval(rec: RecordBody, grant: Pick<OperatorGrantRow, 'role' | 'active'> | undefined): Refusal | undefined {
  const approver = 'approvedBy' in rec ? rec.approvedBy : undefined;
  if (approver === undefined) return undefined;
  if (approver === rec.operatorId) return refuse('APPROVER_NOT_SUPERVISOR', `${approver} approved their own ${rec.type}`);
  if (!grant || grant.role !== 'supervisor' || Number(grant.active) !== 1) {
    return refuse('APPROVER_NOT_SUPERVISOR', `${approver} is not a supervisor the centre granted at terminal ${rec.terminalId}`);
  }
  return undefined;
}

/**
 * Rule 16: the record's operator holds, at the record's terminal, an active grant whose role covers the record's work
 * (`grant`: that grant, as the centre holds it now). The terminal opens its flows by the same table, so an honest
 * counter never signs otherwise; a counter whose store was edited gives itself no operator and no role the centre
 * did not grant. The operator id is the terminal's word (only the terminal signs): someone holding its key can still
 * name an operator granted there, which only revoking the terminal stops. A grant withdrawn while a counter was
 * offline sends what that operator signed since to review too: the centre cannot tell when a record was really
 * signed, so a person decides.
 */
export function checkOperator(rec: RecordBody, grant: Pick<OperatorGrantRow, 'role' | 'active'> | undefined): Refusal | undefined {
  const duty = dutyOfRecord(rec);
  if (duty === 'none') return undefined; // it moves nothing, and set aside it could never be signed again (leases.ts)
  if (rec.operatorId === SYSTEM_OPERATOR) return refuse('OPERATOR_NOT_GRANTED', `a ${rec.type} is signed by a person at the counter, not as ${SYSTEM_OPERATOR}`);
  if (!grant || Number(grant.active) !== 1) return refuse('OPERATOR_NOT_GRANTED', `${rec.operatorId} holds no active grant at terminal ${rec.terminalId}`);
  if (!roleMayDo(grant.role as OperatorRole, duty)) return refuse('OPERATOR_NOT_GRANTED', `${rec.operatorId} is granted ${grant.role} at terminal ${rec.terminalId}, which may not sign a ${rec.type} (${duty} work)`);
  return undefined;
}

// ---- per record type ----
export function checkPayout(rec: SalaryPayoutBody, terminalId: string, v: VoucherFacts | undefined, person: PersonFacts | undefined): Refusal | undefined {
  if (!v) return refuse('VOUCHER_UNKNOWN', `voucher ${rec.voucherId} is unknown`);
  if (v.lease_terminal !== terminalId || v.lease_id !== rec.leaseId) return refuse('VOUCHER_NOT_LEASED_HERE', `voucher ${rec.voucherId} is not leased to this terminal (lease ${rec.leaseId})`);
  if (v.status !== 'open') return refuse('VOUCHER_ALREADY_PAID', `voucher ${rec.voucherId} was already redeemed by ${v.redeemed_by}`);
  if (v.person_id !== rec.personId || v.period !== rec.period || Number(v.amount) !== rec.amountMinor || v.currency !== rec.currency) {
    return refuse('PAYOUT_MISMATCH', `payout does not match voucher ${rec.voucherId} (person, period, amount or currency)`);
  }
  if (person?.status === 'revoked') return refuse('PERSON_REVOKED', `person ${rec.personId} is revoked`);
  return undefined;
}

/**
 * A terminal gives a salary lease back (`lease_release`): only the holder, only the lease it holds now, only while
 * unpaid, and not while a payout of it from this terminal awaits a supervisor (put aside, yet its cash may have left
 * the drawer). Anything else would let a terminal hand another a voucher that it may have paid, or may still pay.
 */
export function checkLeaseRelease(rec: LeaseReleaseBody, terminalId: string, v: VoucherFacts | undefined, payoutInReview: boolean): Refusal | undefined {
  if (!v) return refuse('LEASE_RELEASE_REFUSED', `voucher ${rec.voucherId} is unknown`);
  if (v.lease_terminal !== terminalId || v.lease_id !== rec.leaseId) return refuse('LEASE_RELEASE_REFUSED', `lease ${rec.leaseId} of voucher ${rec.voucherId} is not held by this terminal`);
  if (v.status !== 'open') return refuse('LEASE_RELEASE_REFUSED', `voucher ${rec.voucherId} was already redeemed by ${v.redeemed_by}`);
  if (payoutInReview) return refuse('LEASE_RELEASE_REFUSED', `a payout of voucher ${rec.voucherId} from this terminal awaits a supervisor: the lease stays until it is settled, then \`lease move\` again`);
  return undefined;
}

export function checkPurchase(rec: PurchaseBody, customer: PersonFacts | undefined, funds: number, region: string): Refusal | undefined {
  // Only the region's terminals hold the customer's palm: one of another region is refused as if unknown.
  if (!customer || customer.region !== region) return refuse('CUSTOMER_UNKNOWN', `customer ${rec.customerId} is not enrolled in this terminal's region`);
  if (customer.status === 'revoked') return refuse('PERSON_REVOKED', `customer ${rec.customerId} is revoked`);
  if (customer.status !== 'confirmed') return refuse('CUSTOMER_NOT_CONFIRMED', `customer ${rec.customerId} is not confirmed (${customer.status})`);
  if (customer.account_id !== rec.accountId) return refuse('ACCOUNT_NOT_CUSTOMERS', `account ${rec.accountId} does not belong to customer ${rec.customerId}`);
  if (funds < rec.amountMinor) return refuse('INSUFFICIENT_FUNDS', `insufficient funds after the fact: ${funds} < ${rec.amountMinor} ${rec.currency}`);
  return undefined;
}

/**
 * A purchase naming a biller pays one bill the biller issued (`billRef` = its bill id): the biller is registered,
 * the bill is still due, the amount and currency are exactly the bill's (never a typed amount), and the payer —
 * the person or the account — is linked to the bill's subscriber. Checked after checkPurchase (funds, owner).
 */
export function checkBillPayment(rec: PurchaseBody, billerKnown: boolean, bill: BillFacts | undefined, payerLinked: boolean): Refusal | undefined {
  if (!rec.biller) return undefined;
  const { billerId, billRef } = rec.biller;
  if (!billerKnown) return refuse('BILLER_UNKNOWN', `biller ${billerId} is not registered`);
  if (!bill) return refuse('BILL_UNKNOWN', `bill ${billRef} was not issued by ${billerId}`);
  if (bill.status !== 'open') return refuse('BILL_ALREADY_PAID', `bill ${billRef} of ${billerId} was already paid by ${bill.paid_by}`);
  if (Number(bill.amount) !== rec.amountMinor || bill.currency !== rec.currency) {
    return refuse('BILL_AMOUNT_MISMATCH', `bill ${billRef} is ${bill.amount} ${bill.currency}, the payment ${rec.amountMinor} ${rec.currency}`);
  }
  if (!payerLinked) return refuse('BILL_PAYER_NOT_LINKED', `customer ${rec.customerId} (account ${rec.accountId}) is not linked to subscriber ${bill.subscriber} of ${billerId}`);
  return undefined;
}

/** A direct-debit mandate as the centre holds it. */
export interface MandateFacts {
  id: string;
  person_id: string;
  account_id: string;
  max_minor: number;
  currency: string;
  status: 'active' | 'cancelled';
}

/**
 * A bill paid automatically under a mandate: the mandate is active and in the bill's currency, the bill is open and
 * not above the mandate's maximum, the account still belongs to the person who signed it, the signer (or the account) is
 * still linked to the bill's subscriber — a signer who moved out and was unlinked never pays the next occupant's
 * bills — and its funds cover it.
 */
export function checkDirectDebit(m: MandateFacts, bill: BillFacts, owner: PersonFacts | undefined, linked: boolean, funds: number): Refusal | undefined {
  if (m.status !== 'active') return refuse('MANDATE_INACTIVE', `mandate ${m.id} is ${m.status}`);
  if (bill.status !== 'open') return refuse('BILL_ALREADY_PAID', `bill ${bill.bill_id} of ${bill.biller_id} was already paid by ${bill.paid_by}`);
  if (bill.currency !== m.currency) return refuse('MANDATE_CURRENCY', `bill ${bill.bill_id} is in ${bill.currency}, mandate ${m.id} in ${m.currency}`);
  if (Number(bill.amount) > Number(m.max_minor)) return refuse('MANDATE_MAX_EXCEEDED', `bill ${bill.bill_id} of ${bill.amount} ${bill.currency} is above the mandate's maximum ${m.max_minor}`);
  if (!owner || owner.id !== m.person_id || owner.status === 'revoked') return refuse('ACCOUNT_NOT_CUSTOMERS', `account ${m.account_id} no longer belongs to ${m.person_id}`);
  if (!linked) return refuse('BILL_PAYER_NOT_LINKED', `${m.person_id} (account ${m.account_id}) is no longer linked to subscriber ${bill.subscriber} of ${bill.biller_id}`);
  if (funds < Number(bill.amount)) return refuse('INSUFFICIENT_FUNDS', `account ${m.account_id} holds ${funds} ${bill.currency}, the bill is ${bill.amount}`);
  return undefined;
}

export function checkRefund(rec: RefundBody, terminalId: string, orig: PurchaseFacts | undefined): Refusal | undefined {
  if (!orig) return refuse('REFUND_ORIGINAL_UNKNOWN', `refund of unknown purchase ${rec.originalPurchaseId}`);
  // The money went to the biller, not to this shop: a bill payment is undone whole by a void, which reopens the bill.
  if (orig.billerId !== undefined) return refuse('REFUND_OF_BILL', `purchase ${orig.purchase_id} paid a bill of ${orig.billerId}: only a void undoes it`);
  if (rec.originalTerminalId !== orig.terminal_id || rec.originalSeq !== Number(orig.seq)) {
    return refuse('REFUND_MISMATCH', `refund names ${rec.originalTerminalId}#${rec.originalSeq}, but purchase ${orig.purchase_id} is ${orig.terminal_id}#${orig.seq}`);
  }
  // The counter refunds only purchases in its own journal (a supervisor approves each one there).
  if (orig.terminal_id !== terminalId) return refuse('REFUND_OTHER_TERMINAL', `purchase ${orig.purchase_id} was made at ${orig.terminal_id}, not at this terminal`);
  if (orig.customerId !== rec.customerId || orig.account !== rec.accountId || orig.currency !== rec.currency) {
    return refuse('REFUND_MISMATCH', 'refund customer, account or currency differs from the purchase');
  }
  if (Number(orig.refunded) + rec.amountMinor > Number(orig.amount)) {
    return refuse('REFUND_EXCEEDS_ORIGINAL', `refund of ${rec.amountMinor} exceeds what remains of purchase ${orig.purchase_id} (${Number(orig.amount) - Number(orig.refunded)})`);
  }
  return undefined;
}

/**
 * A void cancels a purchase of the same terminal, whole and once: the counter allows nothing else (a payout is
 * never voided, nor is a refund or a void), so a void-of-void chain that would reopen a voucher cannot exist.
 */
export function checkVoid(rec: VoidBody, terminalId: string, target: StoredRecordFacts | undefined, purchase: PurchaseFacts | undefined, alreadyVoidedBy: string | null): Refusal | undefined {
  const at = `${rec.targetTerminalId}#${rec.targetSeq}`;
  if (rec.targetTerminalId !== terminalId) return refuse('VOID_OTHER_TERMINAL', 'a void may only cancel a record of the same terminal');
  if (!target || target.status !== 'accepted') return refuse('VOID_TARGET_UNKNOWN', `void target ${at} is not an accepted record`);
  if (target.type !== 'purchase' || target.body.type !== 'purchase' || rec.targetType !== 'purchase') return refuse('VOID_TARGET_NOT_PURCHASE', `void target ${at} is a ${target.type}: only a purchase can be voided`);
  const b = target.body;
  if (rec.targetId !== b.purchaseId || rec.amountMinor !== b.amountMinor || rec.currency !== b.currency) {
    return refuse('VOID_MISMATCH', `void does not match ${at} (id, amount or currency)`);
  }
  if (alreadyVoidedBy) return refuse('VOID_ALREADY', `void target ${at} was already voided by ${alreadyVoidedBy}`);
  if (!purchase) return refuse('VOID_TARGET_UNKNOWN', `purchase ${b.purchaseId} is not on the centre's books`);
  if (Number(purchase.refunded) > 0) return refuse('VOID_EXCEEDS_REMAINING', `purchase ${b.purchaseId} was already refunded ${purchase.refunded}: a void would pay back more than is left`);
  return undefined;
}

/**
 * The account an enrolment binds: the one it names, else the one named by the person id (a person enrolled without
 * an account is sent the allowance of, and owns, that account: repo.ownersAndRegionsByAccount).
 */
export function enrolmentAccount(rec: Pick<EnrolmentBody, 'personId' | 'person'>): string {
  return rec.person.accountId ?? rec.personId;
}

/**
 * One owner per account: `accountOwner` is whoever the centre has bound `enrolmentAccount(rec)` to, by naming it or
 * by a person id with no account named (any status but revoked).
 */
export function checkEnrolment(rec: EnrolmentBody, existing: PersonFacts | undefined, accountOwner: PersonFacts | undefined): Refusal | undefined {
  if (existing) return refuse('PERSON_EXISTS', `person ${rec.personId} is already registered`);
  // Template-less (a palm module that gives no image, issue 14 §2): its feature is the only palm the duplicate check
  // can see, so the family must have a host matcher; a record with no palm at all is never registered.
  if (rec.templateDigests.length === 0) {
    if (!rec.moduleFeature) return refuse('ENROLMENT_WITHOUT_PALM', `enrolment of ${rec.personId} pins neither templates nor a palm module feature`);
    if (!featureFormat(rec.moduleFeature.family)?.match) {
      return refuse('MODULE_FAMILY_UNMATCHED', `enrolment of ${rec.personId} pins only a feature of the ${rec.moduleFeature.family} family, which the centre has no matcher for: no duplicate check could be run on it`);
    }
  }
  const weak = rec.pinHash !== undefined ? pinVerifierProblem(rec.pinHash) : null;
  if (weak) return refuse(weak.code, weak.message);
  if (accountOwner && accountOwner.id !== rec.personId && accountOwner.status !== 'revoked') {
    return refuse('ACCOUNT_ALREADY_OWNED', `account ${enrolmentAccount(rec)} already belongs to person ${accountOwner.id}`);
  }
  return undefined;
}

// ---- rule 15: offline limits (src/protocol/offline-limits.ts is the rule; this says which limits) ----
/** A version of a terminal's offline limits and when the centre set it (repo terminal_limits, oldest first). */
export interface LimitsVersion {
  setAt: number;
  limits: OfflineLimits;
}

/**
 * The loosest limits the terminal could have held when it signed a record that carries the centre time
 * `serverTimeMs` (verified by checkRecordTime; undefined when it carries none). Before the first version the
 * terminal held the defaults. A terminal takes its limits and the centre time from its feed pages; the time it
 * carries comes at the end of a pull (sync/index.ts), so it may hold a version newer than that time (applied by a
 * page of a pull still running): every version set since counts. It held the version in force at its last complete
 * pull, and may not decide offline longer than maxSinceLastSyncMs after it: so no version replaced before the time
 * it carries minus the longest maxSinceLastSyncMs it was ever given (and a day of clock drift). A limit lowered after
 * the terminal's last sync thus never sends its honest records to review. Without a centre time, any version it was
 * ever given.
 */
export function limitsTerminalCouldHold(history: readonly LimitsVersion[], serverTimeMs: number | undefined): OfflineLimits {
  const versions = [{ setAt: Number.NEGATIVE_INFINITY, limits: DEFAULT_OFFLINE_LIMITS }, ...history];
  if (serverTimeMs === undefined) return loosestLimits(versions.map((v) => v.limits));
  const from = serverTimeMs - Math.max(...versions.map((v) => v.limits.maxSinceLastSyncMs)) - MAX_CLOCK_AHEAD_MS;
  const held = versions.filter((_, i) => (versions[i + 1]?.setAt ?? Number.POSITIVE_INFINITY) > from);
  return loosestLimits(held.map((v) => v.limits));
}

/**
 * A purchase within the offline limits the terminal could have held (`held`), with what the terminal must have held
 * unsynced beside it (`storedBeforeMinor`, this currency): the terminal's own rule (amountRefusal), waiving only what
 * the record says a supervisor raised (checkApproval has checked that supervisor first).
 */
export function checkOfflineLimits(rec: Pick<PurchaseBody, 'amountMinor' | 'currency' | 'overriddenLimits'>, held: OfflineLimits, storedBeforeMinor: number): Refusal | undefined {
  const no = amountRefusal({ amountMinor: rec.amountMinor, currency: rec.currency }, held, storedBeforeMinor, rec.overriddenLimits ?? []);
  if (!no) return undefined;
  const limit = no.reason === 'PER_TRANSACTION_CAP' ? `the cap is ${held.perTransactionMaxMinor[rec.currency]}` : `${storedBeforeMinor} was already stored unsynced, the most is ${held.terminalStoredMaxMinor[rec.currency]}`;
  return refuse('OFFLINE_LIMIT_EXCEEDED', `${no.reason}: a purchase of ${rec.amountMinor} ${rec.currency} past the terminal's offline limits (${limit}, at the loosest the terminal could have held)`);
}

// ---- rule 14: an operator's palm (operator-codes.ts) ----
/** What the centre knows for an enrolment that may put a palm under an operator's id. */
export interface OperatorEnrolmentFacts {
  /** The person id is an operator id the centre granted a role at some terminal. */
  isOperator: boolean;
  /** The code the record names (its row), if it names one the centre knows. */
  code: { terminal_id: string; operator_id: string; status: string; used_by: string | null } | undefined;
  /** The person's grant at the record's terminal. */
  grantHere: Pick<OperatorGrantRow, 'active'> | undefined;
}

export function checkOperatorEnrolment(rec: Pick<EnrolmentBody, 'personId' | 'operatorId' | 'enrolCodeId'>, terminalId: string, f: OperatorEnrolmentFacts): Refusal | undefined {
  const unauthorised = (why: string) => refuse('OPERATOR_ENROLMENT_UNAUTHORISED', `palm of ${rec.personId}: ${why}`);
  if (rec.enrolCodeId === undefined) {
    // A terminal's key alone never puts a palm behind an operator's role, whoever it says is signed in.
    return f.isOperator ? unauthorised(`an operator's palm is enrolled only with the operator enrolment code the centre issued for terminal ${terminalId}`) : undefined;
  }
  const c = f.code;
  if (!c) return unauthorised(`operator enrolment code ${rec.enrolCodeId} is unknown`);
  if (c.terminal_id !== terminalId) return unauthorised(`operator enrolment code ${rec.enrolCodeId} was issued for another terminal`);
  if (c.operator_id !== rec.personId) return unauthorised(`operator enrolment code ${rec.enrolCodeId} was issued for another operator`);
  if (c.status === 'used') return refuse('OPERATOR_CODE_USED', `operator enrolment code ${rec.enrolCodeId} was already used by ${c.used_by}`);
  if (c.status !== 'claimed') return unauthorised(`operator enrolment code ${rec.enrolCodeId} is ${c.status}, not claimed by this terminal`);
  if (rec.operatorId !== rec.personId) return unauthorised(`an enrolment by code is signed as the operator it enrols, not ${rec.operatorId}`);
  if (!f.grantHere || Number(f.grantHere.active) !== 1) return unauthorised(`${rec.personId} has no active grant at terminal ${terminalId}`);
  return undefined;
}

// ---- rule 10: meter readings and mandates signed at a counter (no money moves) ----
/**
 * A person a counter names is one of its region's (`region`: the counter's; undefined at the centre itself): only the
 * region's terminals hold that palm, so no honest counter names anyone else. Refused as if unknown.
 */
function unknownHere(personId: string, person: PersonFacts | undefined, region: string | undefined): Refusal | undefined {
  if (!person || (region !== undefined && person.region !== region)) return refuse('CUSTOMER_UNKNOWN', `person ${personId} is not enrolled in this terminal's region`);
  return undefined;
}

/** The person a counter's reading or mandate names: of its region, confirmed, linked to the subscriber of a registered biller. */
function checkLinkedPerson(rec: { personId: string; billerId: string; subscriber: string }, billerKnown: boolean, person: PersonFacts | undefined, linked: boolean, region: string | undefined): Refusal | undefined {
  if (!billerKnown) return refuse('BILLER_UNKNOWN', `biller ${rec.billerId} is not registered`);
  const unknown = unknownHere(rec.personId, person, region);
  if (unknown || !person) return unknown;
  if (person.status === 'revoked') return refuse('PERSON_REVOKED', `person ${rec.personId} is revoked`);
  if (person.status !== 'confirmed') return refuse('CUSTOMER_NOT_CONFIRMED', `person ${rec.personId} is not confirmed`);
  if (!linked) return refuse('BILL_PAYER_NOT_LINKED', `${rec.personId} is not linked to subscriber ${rec.subscriber} of ${rec.billerId}`);
  return undefined;
}

/**
 * A meter reading: by a linked person, never below the centre's last reading of the meter (`last`: the newer of
 * the last bill's reading and the last accepted reading) unless a supervisor approved it at the counter.
 */
export function checkMeterReading(rec: MeterReadingBody, billerKnown: boolean, person: PersonFacts | undefined, linked: boolean, last: number | undefined, region: string): Refusal | undefined {
  const who = checkLinkedPerson(rec, billerKnown, person, linked, region);
  if (who) return who;
  // The approver is never the cashier (record.ts refuses that shape); the counter's ledger checked the supervisor.
  if (last !== undefined && rec.reading < last && rec.approvedBy === undefined) {
    return refuse('READING_BELOW_LAST', `reading ${rec.reading} of subscriber ${rec.subscriber} is below the last reading ${last} and no supervisor approved it`);
  }
  return undefined;
}

/**
 * A customer's PIN set at a supervised counter: always approved (the approver, a supervisor granted at that
 * terminal and not the cashier, is checked by checkApproval before this), for a confirmed person.
 */
export function checkPinSet(rec: Pick<PinSetBody, 'personId' | 'approvedBy' | 'pinHash'>, person: PersonFacts | undefined, region: string): Refusal | undefined {
  // The record shape requires the approver; this guards a body that reached here without one.
  if (!rec.approvedBy) return refuse('PIN_SET_UNAPPROVED', `the PIN of ${rec.personId} was set without a supervisor's approval`);
  const weak = pinVerifierProblem(rec.pinHash);
  if (weak) return refuse(weak.code, weak.message);
  // A counter can only have identified a person whose palm it holds: one of its own region.
  const unknown = unknownHere(rec.personId, person, region);
  if (unknown || !person) return unknown;
  if (person.status === 'revoked') return refuse('PERSON_REVOKED', `person ${rec.personId} is revoked`);
  if (person.status !== 'confirmed') return refuse('CUSTOMER_NOT_CONFIRMED', `person ${rec.personId} is not confirmed`);
  return undefined;
}

/** A mandate signed at a counter: the person's own account, a positive maximum, no other active mandate for the subscriber. */
export function checkMandateSigned(rec: Pick<MandateBody, 'personId' | 'accountId' | 'billerId' | 'subscriber' | 'maxMinor'>, billerKnown: boolean, person: PersonFacts | undefined, linked: boolean, active: MandateFacts | undefined, idTaken: boolean, region: string | undefined): Refusal | undefined {
  const who = checkLinkedPerson(rec, billerKnown, person, linked, region);
  if (who) return who;
  if (person!.account_id !== rec.accountId) return refuse('ACCOUNT_NOT_CUSTOMERS', `account ${rec.accountId} is not the account of ${rec.personId}`);
  if (!Number.isSafeInteger(rec.maxMinor) || rec.maxMinor <= 0) return refuse('MANDATE_MAX_EXCEEDED', `a mandate's maximum is a positive whole number of minor units, got ${rec.maxMinor}`);
  if (idTaken) return refuse('MANDATE_EXISTS', 'this mandate id is already used');
  if (active) return refuse('MANDATE_EXISTS', `subscriber ${rec.subscriber} of ${rec.billerId} already has an active mandate`);
  return undefined;
}

/** A cancellation at a counter: only the person who owns the subscriber's active mandate. */
export function checkMandateCancel(rec: MandateCancelBody, person: PersonFacts | undefined, active: MandateFacts | undefined, region: string): Refusal | undefined {
  const unknown = unknownHere(rec.personId, person, region);
  if (unknown) return unknown;
  if (!active) return refuse('MANDATE_UNKNOWN', `subscriber ${rec.subscriber} of ${rec.billerId} has no active mandate`);
  if (active.person_id !== rec.personId) return refuse('MANDATE_NOT_OWNER', `the active mandate of subscriber ${rec.subscriber} belongs to another person`);
  return undefined;
}

// ---- every transaction ----
/** The lowest balance an account may reach; undefined = no floor (the centre's own books: cash, payroll, funding, merchant). */
export function balanceFloor(account: string): number | undefined {
  return account.startsWith('acct:') || account.startsWith('salary:') ? 0 : undefined;
}

/** Postings balance per currency, and no account they touch ends below its floor. `balanceOf` = balance before. */
export function checkPostings(postings: readonly Posting[], balanceOf: (account: string, currency: string) => number): Refusal | undefined {
  const sums = new Map<string, number>();
  const moves = new Map<string, { account: string; currency: string; delta: number }>();
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount)) return refuse('POSTINGS_UNBALANCED', `posting of ${p.amount} is not a safe integer`);
    sums.set(p.currency, (sums.get(p.currency) ?? 0) + p.amount);
    const k = `${p.account}\u0000${p.currency}`;
    const m = moves.get(k) ?? { account: p.account, currency: p.currency, delta: 0 };
    m.delta += p.amount;
    moves.set(k, m);
  }
  for (const [currency, s] of sums) if (s !== 0) return refuse('POSTINGS_UNBALANCED', `postings in ${currency} sum to ${s}, not 0`);
  for (const m of moves.values()) {
    const floor = balanceFloor(m.account);
    if (floor === undefined || m.delta >= 0) continue;
    const after = balanceOf(m.account, m.currency) + m.delta;
    if (after < floor) return refuse('BALANCE_BELOW_FLOOR', `${m.account} would end at ${after} ${m.currency}, below its floor ${floor}`);
  }
  return undefined;
}

// ---- template update (rule 12) ----
/**
 * The terminal's claims in a template_update record the centre can check without the capture: the person, the
 * template it extends, and the PIN (`pinRecord`: the body of this terminal's record at `pinSeq`). A PIN claim
 * matters because it loosens the admission score (template-update.ts pinScore), so it must be backed by a record
 * in which the PIN was checked for this person. The person must be of the terminal's `region`; `prior` says whether
 * the update id or the capture's digest was recorded before (a replay). The capture itself is judged later, when it
 * arrives (src/server/template-slots.ts: the rule re-run on the centre's own copies).
 */
export function checkTemplateUpdate(
  rec: TemplateUpdateBody,
  person: PersonRow | undefined,
  pinRecord: RecordBody | undefined,
  region: string,
  prior: { updateIdTaken: boolean; captureUsed: boolean },
): Refusal | undefined {
  // A counter holds only its own region's palms: another region's person reads as unknown (nothing revealed).
  const unknown = unknownHere(rec.personId, person, region);
  if (unknown || !person) return unknown;
  // Each update and each capture once: an old capture re-signed under a new id would re-add a slot the rule replaced.
  if (prior.updateIdTaken) return refuse('TEMPLATE_UPDATE_REPLAYED', `template update ${rec.updateId} was already recorded`);
  if (prior.captureUsed) return refuse('TEMPLATE_UPDATE_REPLAYED', `the capture ${rec.captureDigest.slice(0, 12)}… was already offered as a template update`);
  if (person.status === 'revoked') return refuse('PERSON_REVOKED', `person ${rec.personId} is revoked`);
  if (person.status !== 'confirmed') return refuse('CUSTOMER_NOT_CONFIRMED', `person ${rec.personId} is ${person.status}`);
  if (!(JSON.parse(person.digests) as string[]).includes(rec.enrolledDigest)) {
    return refuse('TEMPLATE_UPDATE_WRONG_TEMPLATE', `template ${rec.enrolledDigest.slice(0, 12)}… is not one ${rec.personId}'s enrolment pinned`);
  }
  if (rec.pinVerified) {
    const p = pinRecord;
    const checked = p !== undefined && ((p.type === 'purchase' && p.pinVerified && p.customerId === rec.personId) || ((p.type === 'mandate' || p.type === 'mandate_cancel') && p.personId === rec.personId));
    if (!checked) return refuse('TEMPLATE_UPDATE_PIN_UNPROVEN', `record ${rec.pinSeq} of this terminal did not check ${rec.personId}'s PIN`);
  }
  return undefined;
}

// ---- clocks ----
/** No PalmPay record predates this (2024-01-01T00:00:00Z). */
export const EARLIEST_RECORD_MS = Date.UTC(2024, 0, 1);
/** How far ahead of the centre a terminal's clock may be. */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600_000;

/**
 * The record's HLC is within [2024, now + a day], and its serverTime is either "none yet" ({ms: 0, ref: ''}) or a
 * time the centre really signed (`verifyTime`), not later than the HLC.
 */
export function checkRecordTime(rec: RecordBody, nowMs: number, verifyTime: (t: { ms: number; sig: string }) => boolean): Refusal | undefined {
  const ms = rec.hlc.ms;
  if (ms < EARLIEST_RECORD_MS || ms > nowMs + MAX_CLOCK_AHEAD_MS) {
    return refuse('RECORD_TIME_IMPLAUSIBLE', `record time ${ms} is outside [${EARLIEST_RECORD_MS}, centre time + ${MAX_CLOCK_AHEAD_MS / 3600_000} h]`);
  }
  const st = rec.serverTime;
  if (st.ms === 0 && st.ref === '') return undefined;
  if (!/^[0-9a-f]{128}$/.test(st.ref) || !verifyTime({ ms: st.ms, sig: st.ref })) return refuse('SERVER_TIME_FORGED', 'serverTime.ref is not the centre’s signature of serverTime.ms');
  if (st.ms > nowMs + MAX_CLOCK_AHEAD_MS) return refuse('RECORD_TIME_IMPLAUSIBLE', `serverTime ${st.ms} is in the future`);
  return undefined;
}
