// Which receipts were printed, kept in <data>/receipts.log (one JSON line per print), and the stand-in printer
// (`--printer none`) that prints only there. A receipt printed before (same record, this process or an earlier one,
// read back from the log) is printed again marked as a copy, so a reprint can never pass for a second original:
// the ESC/POS printer (escpos-printer.ts) keeps the same log for the same reason.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Printer } from '../../flows/ports.ts';
import type { Receipt } from '../../flows/types.ts';

export interface PrintLog {
  printed(recordId: string): boolean;
  /** Notes a print (appended before the next print is decided). */
  note(receipt: Receipt, extra: { copy: boolean; printer?: string; outcome?: string }): void;
}

export function printLog(dataDir: string): PrintLog {
  const file = join(dataDir, 'receipts.log');
  let seen: Set<string> | null = null;
  const printedIds = (): Set<string> => {
    if (seen) return seen;
    seen = new Set();
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        try {
          const id = (JSON.parse(line) as { recordId?: unknown }).recordId;
          if (typeof id === 'string') seen.add(id);
        } catch {
          // a torn last line (power cut while printing) names no record
        }
      }
    }
    return seen;
  };
  return {
    printed: (recordId) => printedIds().has(recordId),
    note(receipt, extra) {
      const ids = printedIds();
      appendFileSync(file, `${JSON.stringify({ ...receipt, ...(extra.copy ? { copy: true } : {}), ...(extra.printer ? { printer: extra.printer } : {}), ...(extra.outcome ? { outcome: extra.outcome } : {}) })}\n`);
      ids.add(receipt.recordId);
    },
  };
}

export function receiptLogPrinter(dataDir: string): Printer & { printed(recordId: string): boolean } {
  const log = printLog(dataDir);
  return {
    printed: (recordId) => log.printed(recordId),
    async print(receipt: Receipt) {
      const copy = log.printed(receipt.recordId);
      log.note(receipt, { copy });
      return { copy };
    },
  };
}
