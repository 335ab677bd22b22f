// Receipt wording, as translation keys plus values: each language renders its own text from the same receipt.
import type { DayTotals } from './day-close.ts';
import type { Money, Person, Receipt, ReceiptLine, Voucher } from './types.ts';
import type { CounterReport } from './report.ts';

interface RecordMeta {
  recordId: string;
  seq: number;
  terminalId: string;
  at: string;
  operatorId: string;
}

const names = (p: Person) => ({ ar: p.nameAr, latin: p.nameLatin });

/** An approver as a receipt names them: a person's name in both scripts, never an operator id, which means nothing to the person holding the receipt. */
export interface ApproverName {
  ar: string;
  latin: string;
}

const approved = (by: ApproverName): ReceiptLine => ({ label: 'receipt.approvedBy', params: { supervisor: by.latin, supervisorAr: by.ar } });

export function payoutReceipt(m: RecordMeta, person: Person, vouchers: Voucher[], total: Money[]): Receipt {
  const lines: ReceiptLine[] = vouchers.map((v) => ({ label: 'receipt.salaryFor', params: { period: v.period }, amount: v.amount }));
  return { kind: 'payout', ...m, personName: names(person), lines, ...(total.length === 1 ? { total: total[0] } : {}) };
}

export function purchaseReceipt(m: RecordMeta, person: Person, amount: Money, overrideBy: ApproverName | null): Receipt {
  const lines: ReceiptLine[] = [{ label: 'receipt.purchase', amount }];
  if (overrideBy) lines.push(approved(overrideBy));
  return { kind: 'purchase', ...m, personName: names(person), lines, total: amount };
}

/** A bill payment: the subscriber, each bill paid (biller, bill id, cycle, its exact amount), and the fee, always 0. */
export function billReceipt(m: RecordMeta, person: Person, subscriber: string, bills: Array<{ billerId: string; billId: string; cycle: string; amount: Money }>, total: Money): Receipt {
  const lines: ReceiptLine[] = [
    { label: 'receipt.subscriber', params: { subscriber } },
    ...bills.map((b) => ({ label: 'receipt.billLine', params: { biller: b.billerId, bill: b.billId, cycle: b.cycle }, amount: b.amount })),
    { label: 'receipt.fee', amount: { minor: 0, currency: total.currency } },
  ];
  return { kind: 'bill', ...m, personName: names(person), lines, total };
}

/** A meter reading (issue 17d): the subscriber, the biller, the last reading and the new one, and who approved it when lower. */
export function readingReceipt(m: RecordMeta, person: Person, r: { billerId: string; subscriber: string; reading: number; lastReading: number | null }, approvedBy: ApproverName | null): Receipt {
  const lines: ReceiptLine[] = [
    { label: 'receipt.subscriber', params: { subscriber: r.subscriber } },
    { label: 'receipt.meterReading', params: { biller: r.billerId, reading: String(r.reading), last: r.lastReading === null ? '—' : String(r.lastReading) } },
  ];
  if (approvedBy) lines.push(approved(approvedBy));
  return { kind: 'meter-reading', ...m, personName: names(person), lines };
}

/** A PIN set at a supervised counter (issue 17f): who approved it; never the PIN. */
export function pinSetReceipt(m: RecordMeta, person: Person, approvedBy: ApproverName): Receipt {
  return { kind: 'pin-set', ...m, personName: names(person), lines: [{ label: 'receipt.pinSet' }, approved(approvedBy)] };
}

/** A mandate signed (with its maximum per bill) or cancelled at the counter. */
export function mandateReceipt(m: RecordMeta, person: Person, r: { billerId: string; subscriber: string; max: Money | null }): Receipt {
  const lines: ReceiptLine[] = [{ label: 'receipt.subscriber', params: { subscriber: r.subscriber } }];
  if (r.max) lines.push({ label: 'receipt.mandateMax', params: { biller: r.billerId }, amount: r.max });
  else lines.push({ label: 'receipt.mandateCancelled', params: { biller: r.billerId } });
  return { kind: r.max ? 'mandate' : 'mandate-cancel', ...m, personName: names(person), lines };
}

export function reversalReceipt(m: RecordMeta, kind: 'refund' | 'void', originalSeq: number, amount: Money, supervisor: ApproverName, person: Person | null): Receipt {
  return {
    kind,
    ...m,
    ...(person ? { personName: names(person) } : {}),
    lines: [
      { label: kind === 'refund' ? 'receipt.refundOf' : 'receipt.voidOf', params: { seq: String(originalSeq) }, amount },
      approved(supervisor),
    ],
    total: amount,
  };
}

/** `pinChosen`: the person chose their PIN while enrolling (never printed); false: to be set at a supervised counter. */
export function enrolmentReceipt(m: RecordMeta, person: Person, captures: { left: number; right: number }, pinChosen: boolean): Receipt {
  return {
    kind: 'enrolment',
    ...m,
    personName: names(person),
    lines: [
      { label: 'receipt.enrolled', params: { left: String(captures.left), right: String(captures.right) } },
      { label: 'receipt.provisional' },
      { label: pinChosen ? 'receipt.enrolPinChosen' : 'receipt.enrolPinDeferred' },
    ],
  };
}

/** The Z-report: counts and totals by type, cash expected, counted and the difference, and the reason given. */
export function dayCloseReceipt(m: RecordMeta, z: { totals: DayTotals; counted: Money[]; difference: Money[]; reason: string }): Receipt {
  const lines: ReceiptLine[] = [
    ...z.totals.byType.map((t) => ({ label: `receipt.z.${t.kind}`, params: { count: String(t.count) }, ...(t.totals[0] ? { amount: t.totals[0] } : {}) })),
    ...z.totals.expectedCash.map((amount) => ({ label: 'receipt.z.expected', amount })),
    ...z.counted.map((amount) => ({ label: 'receipt.z.counted', amount })),
    ...z.difference.map((amount) => ({ label: 'receipt.z.difference', amount })),
    ...(z.reason ? [{ label: 'receipt.z.reason', params: { reason: z.reason } }] : []),
  ];
  return { kind: 'day-close', ...m, lines };
}

/** A payout the employee did not confirm by palm: the receipt says so, on screen and on paper. */
export function markUnconfirmed(receipt: Receipt): Receipt {
  if (receipt.lines.some((l) => l.label === 'receipt.unconfirmed')) return receipt;
  return { ...receipt, lines: [...receipt.lines, { label: 'receipt.unconfirmed' }] };
}

/**
 * A person's monthly financial report as the receipt printer prints it: per account the opening balance, each
 * movement signed (+ in, − out) with its date, fees (always 0) and the closing balance, and the centre's time.
 */
export function reportReceipt(m: { terminalId: string; operatorId: string; at: string }, person: Person, rep: CounterReport): Receipt {
  const lines: ReceiptLine[] = [{ label: 'receipt.report.month', params: { month: rep.month, asOf: new Date(rep.asOfMs).toISOString().slice(0, 16).replace('T', ' ') } }];
  for (const a of rep.accounts) {
    const money = (minor: number) => ({ minor, currency: a.currency as Money['currency'] });
    lines.push({ label: a.role === 'salary' ? 'receipt.report.salaryAccount' : 'receipt.report.account', params: { account: a.account } });
    lines.push({ label: 'receipt.report.opening', amount: money(a.opening_minor) });
    for (const x of a.movements) {
      lines.push({ label: `receipt.report.kind.${x.kind}`, params: { date: new Date(x.at).toISOString().slice(0, 10), ...(x.period ? { period: x.period } : {}) }, amount: money(x.amount_minor) });
    }
    lines.push({ label: 'receipt.fee', amount: money(a.fees_minor) });
    lines.push({ label: 'receipt.report.closing', amount: money(a.closing_minor) });
  }
  return { kind: 'report', recordId: `report:${rep.person}:${rep.month}`, seq: 0, ...m, personName: names(person), lines };
}
