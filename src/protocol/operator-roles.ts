// Who may do what at a counter: the roles the centre grants an operator, the work each role may do, and the work
// each record is. One table for both sides: the terminal opens its flows by it (host/adapters/sqlite-bank.ts) and
// the centre re-checks every record's operator by it (server/invariants.ts, rule 16).
import type { EnrolmentBody, RecordType } from './record.ts';

/** A role the centre grants an operator at one terminal (protocol/schemas.ts OperatorGrant). */
export const OPERATOR_ROLES = ['cashier', 'paymaster', 'enroller', 'supervisor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** Work at a counter: money at the till, enrolling people, and a supervisor's own (approvals, the scanner check). */
export type Duty = 'cashier' | 'enroller' | 'supervisor';

/** The work each role may do: a paymaster pays salaries as a cashier does; a supervisor may do all of it. */
export const DUTIES_OF_ROLE: Readonly<Record<OperatorRole, readonly Duty[]>> = {
  cashier: ['cashier'],
  paymaster: ['cashier'],
  enroller: ['enroller'],
  supervisor: ['supervisor', 'cashier', 'enroller'],
};

/**
 * The work a record is, as its operator must be granted it. `any`: any role at the terminal (a palm update happens
 * wherever a customer is identified; an operator enrolling their own palm by the centre's code, rule 14). `none`:
 * the terminal signs it on its own (SYSTEM_OPERATOR, a lease given back), with no one at the counter.
 */
export type RecordDuty = Duty | 'any' | 'none';

const DUTY_OF_TYPE: Readonly<Record<RecordType, RecordDuty>> = {
  salary_payout: 'cashier', purchase: 'cashier', refund: 'cashier', void: 'cashier', day_close: 'cashier',
  meter_reading: 'cashier', mandate: 'cashier', mandate_cancel: 'cashier', pin_set: 'cashier', report_request: 'cashier',
  enrolment: 'enroller',
  template_update: 'any',
  lease_release: 'none',
};

export function dutyOfRecord(rec: { type: RecordType } & Partial<Pick<EnrolmentBody, 'enrolCodeId'>>): RecordDuty {
  if (rec.type === 'enrolment' && rec.enrolCodeId !== undefined) return 'any';
  return DUTY_OF_TYPE[rec.type];
}

/** Whether `role` covers `duty`. */
export function roleMayDo(role: OperatorRole, duty: Duty | 'any'): boolean {
  return duty === 'any' || DUTIES_OF_ROLE[role].includes(duty);
}
