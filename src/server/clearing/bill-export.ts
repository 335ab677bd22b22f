// The payment file each biller receives with a settled day: one line per bill paid (or a payment voided) that
// day, with the bill id, the amount, the counter, the time and the receipt (the purchase id and the signed
// record's hash). Built from the day's postings to `biller:<id>` and the signed records behind them.
import { stringify } from 'csv-stringify/sync';
import type { RecordBody } from '../../protocol/record.ts';
import type { RepoTx } from '../repo.ts';
import type { SettledPosting } from './positions.ts';

export interface BillPaymentLine {
  billerId: string;
  billId: string;
  kind: 'payment' | 'void';
  amount: number;
  currency: string;
  terminal: string;
  seq: number;
  at: number;
  purchaseId: string;
  recordHash: string;
}

export const BILL_EXPORT_HEADER = ['bill', 'kind', 'amount_minor', 'currency', 'terminal', 'seq', 'time_utc', 'receipt', 'record_hash'];

/** The bill behind each posting to a biller (a payment's own record, or the payment a void names). */
export async function billPaymentLines(r: RepoTx, lines: readonly SettledPosting[]): Promise<BillPaymentLine[]> {
  const out: BillPaymentLine[] = [];
  const bodyOf = async (terminal: string, seq: number) => {
    const rec = await r.getRecord(terminal, seq);
    return rec ? (JSON.parse(rec.body) as RecordBody) : undefined;
  };
  for (const l of lines) {
    if (!l.account.startsWith('biller:') || l.terminal === null || l.seq === null) continue;
    const own = await bodyOf(l.terminal, l.seq);
    const paid = own?.type === 'void' ? await bodyOf(own.targetTerminalId, own.targetSeq) : own;
    if (paid?.type !== 'purchase' || !paid.biller) continue;
    out.push({
      billerId: l.account.slice('biller:'.length), billId: paid.biller.billRef, kind: own?.type === 'void' ? 'void' : 'payment', amount: l.amount, currency: l.currency,
      terminal: l.terminal, seq: l.seq, at: l.at, purchaseId: paid.purchaseId, recordHash: l.ref,
    });
  }
  return out;
}

export function billExportCsv(lines: readonly BillPaymentLine[]): string {
  return stringify([BILL_EXPORT_HEADER, ...lines.map((l) => [l.billId, l.kind, l.amount, l.currency, l.terminal, l.seq, new Date(l.at).toISOString(), l.purchaseId, l.recordHash])], { record_delimiter: '\r\n' });
}
