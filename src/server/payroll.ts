// Payroll CSV: parse and validate every row (pure). The import itself is all-or-nothing (service.ts).
import { parse } from 'csv-parse/sync';
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

/** Amounts as spreadsheets write them: plain digits, or digits grouped in threes by commas ("1,500,000"). */
const AMOUNT = /^(\d{1,15}|\d{1,3}(,\d{3}){1,4})$/;

/**
 * Parses the CSV text (RFC 4180, as Excel and LibreOffice save it: quoted cells may hold commas, quotes and line
 * breaks; a byte-order mark is dropped). Returns rows and every error found (by 1-based line number, the line on
 * which a record starts).
 */
export function parsePayrollCsv(text: string): { rows: PayrollRow[]; errors: LineError[] } {
  const rows: PayrollRow[] = [];
  const errors: LineError[] = [];
  type CsvRecord = { record: string[]; info: { lines: number }; raw: string };
  let records: CsvRecord[];
  try {
    // With info and raw, csv-parse returns { record, info, raw } per record (its typings model only string[][]).
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, info: true, raw: true }) as unknown as CsvRecord[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    return { rows, errors: [{ line: e.lines ?? 1, message: `not a CSV file: ${e.message ?? String(err)}` }] };
  }
  // info.lines is the line a record ENDS on; a quoted cell with line breaks starts earlier.
  const startLine = (r: CsvRecord) => r.info.lines - (r.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
  const [first, ...body] = records;
  const header = (first?.record ?? []).map((h) => h.toLowerCase());
  if (!first || startLine(first) !== 1 || header.join(',') !== HEADER.join(',')) {
    return { rows, errors: [{ line: 1, message: `header must be "${HEADER.join(',')}"` }] };
  }
  const seen = new Map<string, number>();
  for (const r of body) {
    const line = startLine(r);
    const cells = r.record;
    if (cells.length !== HEADER.length) {
      errors.push({ line, message: `expected ${HEADER.length} fields, found ${cells.length}` });
      continue;
    }
    const [period, personId, amountText, currency, branch] = cells as [string, string, string, string, string];
    const problems: string[] = [];
    const m = /^(\d{4})-(\d{2})$/.exec(period);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) problems.push(`period "${period}" is not YYYY-MM`);
    if (!ID.test(personId)) problems.push('person id is not a valid id');
    const amount = AMOUNT.test(amountText) ? Number(amountText.replaceAll(',', '')) : NaN;
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
