// Payroll CSV: parse and validate every row (pure). The import itself is all-or-nothing (service.ts).
import { PalmPayError } from '../util/errors.ts';

export interface PayrollRow {
  line: number;
  period: string;
  personId: string;
  amount: number;
  currency: 'SYP' | 'USD';
  branch: string;
}
export interface LineError {
  line: number;
  message: string;
}

export class PayrollImportError extends PalmPayError {
  constructor(readonly errors: LineError[]) {
    super('PAYROLL_INVALID', `payroll file refused, nothing imported (${errors.length} error${errors.length === 1 ? '' : 's'}): ${errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`).join('; ')}${errors.length > 5 ? '; …' : ''}`);
  }
}

const HEADER = ['period', 'person', 'amount', 'currency', 'branch'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Parses the CSV text. Returns rows and every error found (by 1-based line number). */
export function parsePayrollCsv(text: string): { rows: PayrollRow[]; errors: LineError[] } {
  const rows: PayrollRow[] = [];
  const errors: LineError[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  if (header.join(',') !== HEADER.join(',')) {
    return { rows, errors: [{ line: 1, message: `header must be "${HEADER.join(',')}"` }] };
  }
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === '') continue;
    const cells = raw.split(',').map((c) => c.trim());
    if (cells.length !== HEADER.length) {
      errors.push({ line, message: `expected ${HEADER.length} fields, found ${cells.length}` });
      continue;
    }
    const [period, personId, amountText, currency, branch] = cells as [string, string, string, string, string];
    const problems: string[] = [];
    const m = /^(\d{4})-(\d{2})$/.exec(period);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) problems.push(`period "${period}" is not YYYY-MM`);
    if (!ID.test(personId)) problems.push('person id is not a valid id');
    const amount = /^\d{1,15}$/.test(amountText) ? Number(amountText) : NaN;
    if (!Number.isSafeInteger(amount) || amount <= 0) problems.push(`amount "${amountText}" is not a positive integer in minor units`);
    if (currency !== 'SYP' && currency !== 'USD') problems.push(`currency "${currency}" is not SYP or USD`);
    if (!ID.test(branch)) problems.push('branch is not a valid id');
    const key = `${personId}\u0000${period}`;
    if (seen.has(key)) problems.push(`person and period repeat line ${seen.get(key)}`);
    else seen.set(key, line);
    if (problems.length) errors.push({ line, message: problems.join('; ') });
    else rows.push({ line, period, personId, amount, currency: currency as 'SYP' | 'USD', branch });
  }
  if (rows.length === 0 && errors.length === 0) errors.push({ line: 2, message: 'no rows' });
  return { rows, errors };
}

/** Picks the branch terminal holding the fewest open vouchers (ties by id): spreads the counters' load. Pure. */
export function pickLeaseHolder(terminalIds: string[], openCounts: Map<string, number>): string | undefined {
  return [...terminalIds].sort((a, b) => (openCounts.get(a) ?? 0) - (openCounts.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0))[0];
}

/** A lease may move only while the holder is online (it hears of the move at once) and only to an active terminal of the same branch. Pure. */
export function leaseMoveRefusal(v: { status: string; branch: string; lease_terminal: string }, holder: { last_seen: number | null; status: string } | undefined, target: { id: string; branch: string; status: string } | undefined, now: number, onlineWindowMs: number): string | undefined {
  if (v.status !== 'open') return 'voucher is already redeemed';
  if (!target || target.status !== 'active') return 'target terminal is not active';
  if (target.branch !== v.branch) return 'target terminal is in another branch';
  if (target.id === v.lease_terminal) return 'target terminal already holds the lease';
  if (holder && holder.status === 'active' && (holder.last_seen === null || now - Number(holder.last_seen) > onlineWindowMs)) {
    return `holder ${v.lease_terminal} is offline: a lease moves only while its holder is online`;
  }
  return undefined;
}
