// The payment file each biller receives with a settled day: one line per bill paid (or a payment voided) that
// day, with the bill id, the amount, the counter, the time and the receipt (the purchase id and the signed
// record's hash, or the mandate of a direct debit). Built from the day's postings to `biller:<id>` and the signed
// records (or direct debits) behind them.
import { stringify } from 'csv-stringify/sync';
import type { RecordBody } from '../../protocol/record.ts';
import type { RepoTx } from '../repo.ts';
import { BillingStore } from '../billing/store.ts';
import type { SettledPosting } from './positions.ts';

export interface BillPaymentLine {
  billerId: string;
  billId: string;
  /** Paid at a counter, a counter's payment voided, or paid by direct debit under a mandate. */
  kind: 'payment' | 'void' | 'direct_debit';
  amount: number;
  currency: string;
  /** The counter (empty for a direct debit). */
  terminal: string;
  seq: number | null;
  at: number;
  /** The receipt: the purchase id, or the mandate. */
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
  const billing = new BillingStore(r.conn);
  for (const l of lines) {
    if (!l.account.startsWith('biller:')) continue;
    if (l.source === 'mandate') {
      const d = await billing.debitOfTxn(l.txn);
      if (d) out.push({ billerId: d.biller_id, billId: d.bill_id, kind: 'direct_debit', amount: l.amount, currency: l.currency, terminal: '', seq: null, at: l.at, purchaseId: `mandate:${d.mandate_id}`, recordHash: '' });
      continue;
    }
    if (l.terminal === null || l.seq === null) continue;
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
  return stringify([BILL_EXPORT_HEADER, ...lines.map((l) => [l.billId, l.kind, l.amount, l.currency, l.terminal, l.seq ?? '', new Date(l.at).toISOString(), l.purchaseId, l.recordHash])], { record_delimiter: '\r\n' });
}
