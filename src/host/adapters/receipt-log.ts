// The stand-in receipt printer (`--printer none`, the default until a real one is wired): one JSON line per print
// in <data>/receipts.log. A receipt printed before (same record, this process or an earlier one, read back from
// the log) is printed again marked as a copy, so a reprint can never pass for a second original.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Printer } from '../../flows/ports.ts';
import type { Receipt } from '../../flows/types.ts';

export function receiptLogPrinter(dataDir: string): Printer & { printed(recordId: string): boolean } {
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
    async print(receipt: Receipt) {
      const ids = printedIds();
      const copy = ids.has(receipt.recordId);
      appendFileSync(file, `${JSON.stringify({ ...receipt, ...(copy ? { copy: true } : {}) })}\n`);
      ids.add(receipt.recordId);
    },
  };
}
