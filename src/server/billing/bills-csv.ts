// The biller's bill file: parse and validate every row (pure). The import itself is all-or-nothing (billing.ts).
import { PalmPayError } from '../../util/errors.ts';
import { CSV_ID, describeLineErrors, isIsoDate, parseAmount, readCsv, type LineError } from '../csv.ts';

export const BILLS_HEADER = ['biller', 'subscriber', 'bill', 'cycle', 'amount', 'currency', 'due', 'previous_reading', 'current_reading'] as const;

export interface BillRow {
  line: number;
  billerId: string;
  subscriber: string;
  billId: string;
  /** The billing cycle the biller names (e.g. "2026-11" or "2026-C6"). */
  cycle: string;
  amount: number;
  currency: 'SYP' | 'USD';
  /** YYYY-MM-DD */
  due: string;
  previousReading: number;
  currentReading: number;
}

/** A refused billing request (registry, links, mandates): `code` says which rule. */
export class BillingError extends PalmPayError {}

export class BillImportError extends PalmPayError {
  constructor(readonly errors: LineError[]) {
    super('BILLS_INVALID', `bill file refused, nothing imported ${describeLineErrors(errors)}`);
  }
}

/** A subscriber number as billers print them: 1–32 letters, digits, `-` or `/` (leading zeros kept). */
export const SUBSCRIBER = /^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/;
/** A meter reading: a whole number of units (kWh), at most 12 digits. */
const READING = /^\d{1,12}$/;

/** Parses the bill CSV. Returns rows and every error found, by the 1-based line a record starts on. */
export function parseBillsCsv(text: string): { rows: BillRow[]; errors: LineError[] } {
  const rows: BillRow[] = [];
  const { lines, errors } = readCsv(text, BILLS_HEADER);
  const seen = new Map<string, number>();
  for (const { line, cells } of lines) {
    const [billerId, subscriber, billId, cycle, amountText, currency, due, prevText, curText] = cells as [string, string, string, string, string, string, string, string, string];
    const problems: string[] = [];
    if (!CSV_ID.test(billerId)) problems.push('biller is not a valid id');
    if (!SUBSCRIBER.test(subscriber)) problems.push(`subscriber "${subscriber}" is not a subscriber number`);
    if (!CSV_ID.test(billId)) problems.push('bill is not a valid id');
    if (!CSV_ID.test(cycle)) problems.push('cycle is not a valid id');
    const amount = parseAmount(amountText);
    if (Number.isNaN(amount)) problems.push(`amount "${amountText}" is not a positive integer in minor units`);
    if (currency !== 'SYP' && currency !== 'USD') problems.push(`currency "${currency}" is not SYP or USD`);
    if (!isIsoDate(due)) problems.push(`due date "${due}" is not YYYY-MM-DD`);
    const previousReading = READING.test(prevText) ? Number(prevText) : NaN;
    const currentReading = READING.test(curText) ? Number(curText) : NaN;
    if (Number.isNaN(previousReading)) problems.push(`previous reading "${prevText}" is not a whole number`);
    if (Number.isNaN(currentReading)) problems.push(`current reading "${curText}" is not a whole number`);
    else if (currentReading < previousReading) problems.push(`current reading ${currentReading} is below the previous reading ${previousReading}`);
    const key = `${billerId}\u0000${billId}`;
    if (seen.has(key)) problems.push(`bill ${billId} of ${billerId} repeats line ${seen.get(key)}`);
    else seen.set(key, line);
    if (problems.length) errors.push({ line, message: problems.join('; ') });
    else rows.push({ line, billerId, subscriber, billId, cycle, amount, currency: currency as 'SYP' | 'USD', due, previousReading, currentReading });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}
