// Printing a receipt, shared by every flow that ends with one: the screen sees "printing", then "printed" (or "a
// copy printed") or why not — paper out, cover open, printer offline or unreachable — as the printer reported it.
// The record is already written whatever happens here: printing never changes money, and the screen keeps
// offering to print again (a second print is marked COPY by the printer adapter).
import { go, stay, type Step } from './machine.ts';
import type { Receipt } from './types.ts';

export type PrintFailure = 'paper-out' | 'cover-open' | 'printer-offline' | 'printer-unreachable' | 'printer-error';

export type PrintStatus = { state: 'printing' } | { state: 'printed'; copy: boolean } | { state: 'failed'; reason: PrintFailure };

export type PrintResult = { type: 'print.result'; ok: true; copy: boolean } | { type: 'print.result'; ok: false; reason: PrintFailure };

export type PrintEffect = { type: 'print'; receipt: Receipt };

/** The step that shows a receipt handles 'print' and its result here; null for any other event. */
export function printStep<S extends { receipt: Receipt; print?: PrintStatus }>(s: S, e: { type: string }): Step<S, PrintEffect> | null {
  if (e.type === 'print') {
    if (s.print?.state === 'printing') return stay(s); // a second tap while the first prints
    return go({ ...s, print: { state: 'printing' } }, { type: 'print', receipt: s.receipt });
  }
  if (e.type === 'print.result') {
    const r = e as PrintResult;
    return go({ ...s, print: r.ok ? { state: 'printed', copy: r.copy } : { state: 'failed', reason: r.reason } });
  }
  return null;
}

/** The screen's reason for a printer's typed error code (drivers/errors.ts PRINTER_*, transport failures). */
export function printFailure(code: unknown): PrintFailure {
  switch (code) {
    case 'PRINTER_PAPER_OUT':
      return 'paper-out';
    case 'PRINTER_COVER_OPEN':
      return 'cover-open';
    case 'PRINTER_OFFLINE':
      return 'printer-offline';
    case 'PRINTER_TIMEOUT':
    case 'TRANSPORT_OPEN_FAILED':
    case 'TRANSPORT_DISCONNECTED':
    case 'TRANSPORT_WRITE_FAILED':
    case 'TRANSPORT_NOT_OPEN':
      return 'printer-unreachable';
    default:
      return 'printer-error';
  }
}
