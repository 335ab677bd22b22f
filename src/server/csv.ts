// Reading the CSV files the centre imports (payroll, bills): one parser, one way of numbering lines, one way of
// reading amounts, so every import reports its errors the same way. Pure.
import { parse } from 'csv-parse/sync';

export interface LineError {
  line: number;
  message: string;
}
/** One data record: the 1-based line it starts on, and its cells (trimmed). */
export interface CsvLine {
  line: number;
  cells: string[];
}

/** Identifiers in imported files: as the record contract's `Id`. */
export const CSV_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** Amounts as spreadsheets write them: plain digits, or digits grouped in threes by commas ("1,500,000"). */
const AMOUNT = /^(\d{1,15}|\d{1,3}(,\d{3}){1,4})$/;

/** A positive whole number of minor units, or NaN. */
export function parseAmount(text: string): number {
  const n = AMOUNT.test(text) ? Number(text.replaceAll(',', '')) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : NaN;
}

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

/**
 * Parses the CSV text (RFC 4180, as Excel and LibreOffice save it: quoted cells may hold commas, quotes and line
 * breaks; a byte-order mark is dropped; blank lines skipped) and checks the header (case-insensitive). Returns the
 * data lines with the line each starts on, or the one error that makes the file unreadable.
 */
export function readCsv(text: string, header: readonly string[]): { lines: CsvLine[]; errors: LineError[] } {
  type CsvRecord = { record: string[]; info: { lines: number }; raw: string };
  let records: CsvRecord[];
  try {
    // With info and raw, csv-parse returns { record, info, raw } per record (its typings model only string[][]).
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, info: true, raw: true }) as unknown as CsvRecord[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    return { lines: [], errors: [{ line: e.lines ?? 1, message: `not a CSV file: ${e.message ?? String(err)}` }] };
  }
  // info.lines is the line a record ENDS on; a quoted cell with line breaks starts earlier.
  const startLine = (r: CsvRecord) => r.info.lines - (r.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
  const [first, ...body] = records;
  const got = (first?.record ?? []).map((h) => h.toLowerCase());
  if (!first || startLine(first) !== 1 || got.join(',') !== header.join(',')) {
    return { lines: [], errors: [{ line: 1, message: `header must be "${header.join(',')}"` }] };
  }
  const lines: CsvLine[] = [];
  const errors: LineError[] = [];
  for (const r of body) {
    const line = startLine(r);
    if (r.record.length !== header.length) errors.push({ line, message: `expected ${header.length} fields, found ${r.record.length}` });
    else lines.push({ line, cells: r.record });
  }
  if (lines.length === 0 && errors.length === 0) errors.push({ line: 2, message: 'no rows' });
  return { lines, errors };
}

/** "(N errors): line 3: …; line 7: …" (the first five), for an import refused whole. */
export function describeLineErrors(errors: readonly LineError[]): string {
  return `(${errors.length} error${errors.length === 1 ? '' : 's'}): ${errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`).join('; ')}${errors.length > 5 ? '; …' : ''}`;
}
