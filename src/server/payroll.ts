// Payroll CSV: parse and validate every row (pure). The import itself is all-or-nothing (service.ts).
import { PalmPayError } from '../util/errors.ts';
import { CSV_ID, describeLineErrors, parseAmount, readCsv, type LineError } from './csv.ts';

export type { LineError } from './csv.ts';
export interface PayrollRow {
  line: number;
  period: string;
  personId: string;
  amount: number;
  currency: 'SYP' | 'USD';
  branch: string;
}

export class PayrollImportError extends PalmPayError {
  constructor(readonly errors: LineError[]) {
    super('PAYROLL_INVALID', `payroll file refused, nothing imported ${describeLineErrors(errors)}`);
  }
}

const HEADER = ['period', 'person', 'amount', 'currency', 'branch'];

/** Parses the CSV text (see csv.ts). Returns rows and every error found, by the 1-based line a record starts on. */
export function parsePayrollCsv(text: string): { rows: PayrollRow[]; errors: LineError[] } {
  const rows: PayrollRow[] = [];
  const { lines, errors } = readCsv(text, HEADER);
  const seen = new Map<string, number>();
  for (const { line, cells } of lines) {
    const [period, personId, amountText, currency, branch] = cells as [string, string, string, string, string];
    const problems: string[] = [];
    const m = /^(\d{4})-(\d{2})$/.exec(period);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) problems.push(`period "${period}" is not YYYY-MM`);
    if (!CSV_ID.test(personId)) problems.push('person id is not a valid id');
    else if (!CSV_ID.test(voucherIdOf(period, personId))) problems.push(`person id is too long: its voucher id ${voucherIdOf(period, personId)} is over 64 characters, and no payout could name it`);
    const amount = parseAmount(amountText);
    if (Number.isNaN(amount)) problems.push(`amount "${amountText}" is not a positive integer in minor units`);
    if (currency !== 'SYP' && currency !== 'USD') problems.push(`currency "${currency}" is not SYP or USD`);
    if (!CSV_ID.test(branch)) problems.push('branch is not a valid id');
    const key = `${personId}\u0000${period}`;
    if (seen.has(key)) problems.push(`person and period repeat line ${seen.get(key)}`);
    else seen.set(key, line);
    if (problems.length) errors.push({ line, message: problems.join('; ') });
    else rows.push({ line, period, personId, amount, currency: currency as 'SYP' | 'USD', branch });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

/** A salary voucher's id (one per person and period): payouts and lease releases name it, so it is a record id. */
export function voucherIdOf(period: string, personId: string): string {
  return `V-${period}-${personId}`;
}

/** Picks the branch terminal holding the fewest open vouchers (ties by id): spreads the counters' load. Pure. */
export function pickLeaseHolder(terminalIds: string[], openCounts: Map<string, number>): string | undefined {
  return [...terminalIds].sort((a, b) => (openCounts.get(a) ?? 0) - (openCounts.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0))[0];
}

/**
 * What an admin's lease move does (pure). A lease is never granted elsewhere while its holder may still pay it: the
 * move is `pending` (the lease is withdrawn and the holder's signed `lease_release`, which comes after every payout it
 * signed, grants it to the target); moving it back to the holder `cancel`s a pending move; a holder that is no longer
 * active can sign nothing, so its lease moves at once (`now`: revoking it, the admin accepted what it may have paid).
 */
export type LeaseMove = { kind: 'pending' | 'cancel' | 'now' } | { kind: 'refused'; why: string };
export function leaseMove(v: { status: string; branch: string; lease_terminal: string; lease_pending?: string | null }, holder: { status: string } | undefined, target: { id: string; branch: string; status: string } | undefined): LeaseMove {
  const refused = (why: string): LeaseMove => ({ kind: 'refused', why });
  if (v.status !== 'open') return refused('voucher is already redeemed');
  if (!target || target.status !== 'active') return refused('target terminal is not active');
  if (target.branch !== v.branch) return refused('target terminal is in another branch');
  if (target.id === v.lease_terminal) return v.lease_pending ? { kind: 'cancel' } : refused('target terminal already holds the lease');
  return holder?.status === 'active' ? { kind: 'pending' } : { kind: 'now' };
}
