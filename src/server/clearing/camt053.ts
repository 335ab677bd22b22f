// ISO 20022 camt.053.001.08 (BankToCustomerStatementV08): a participant's settled day as the bank statement its
// bank reads: one statement per currency, opening and closing booked balances, one entry per posting. Built with
// xmlbuilder2 (escaping, namespaces); the tests validate it against the published schema. Pure.
import { create } from 'xmlbuilder2';
import { CURRENCIES } from '../../protocol/record.ts';
import type { Position, SettledPosting } from './positions.ts';

export const CAMT053_NS = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';

/** Minor units as the schema's decimal amount (no floats: digits placed by the currency's exponent). */
export function decimalAmount(minor: number, currency: string): string {
  const exp: number = CURRENCIES[currency as keyof typeof CURRENCIES]?.minorUnits ?? 2;
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  return exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

const sign = (minor: number) => (minor < 0 ? 'DBIT' : 'CRDT');
const max = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n));

/**
 * The statement of one participant for a settled day. `positions` are the participant's (one per currency, with
 * opening and closing), `lines` its postings of the day; the centre services the account (credit = owed to it).
 */
export function camt053(p: { date: string; fromMs: number; toMs: number; settledAtMs: number; participant: string; positions: ReadonlyArray<Position & { opening_minor: number; closing_minor: number }>; lines: readonly SettledPosting[] }): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).ele(CAMT053_NS, 'Document').ele('BkToCstmrStmt');
  const created = new Date(p.settledAtMs).toISOString();
  doc.ele('GrpHdr').ele('MsgId').txt(max(`PP-${p.date}-${p.participant}`, 35)).up().ele('CreDtTm').txt(created).up().ele('AddtlInf').txt(`PalmPay settlement of ${p.date} (UTC)`);
  for (const pos of p.positions) {
    const stmt = doc.ele('Stmt');
    stmt.ele('Id').txt(max(`${p.date}-${pos.currency}-${p.participant}`, 35));
    stmt.ele('CreDtTm').txt(created);
    stmt.ele('FrToDt').ele('FrDtTm').txt(new Date(p.fromMs).toISOString()).up().ele('ToDtTm').txt(new Date(p.toMs - 1).toISOString());
    const acct = stmt.ele('Acct');
    acct.ele('Id').ele('Othr').ele('Id').txt(max(p.participant, 34)).up().ele('Issr').txt('PalmPay');
    acct.ele('Ccy').txt(pos.currency);
    const balance = (code: 'OPBD' | 'CLBD', minor: number) => {
      const b = stmt.ele('Bal');
      b.ele('Tp').ele('CdOrPrtry').ele('Cd').txt(code);
      b.ele('Amt', { Ccy: pos.currency }).txt(decimalAmount(minor, pos.currency));
      b.ele('CdtDbtInd').txt(sign(minor));
      b.ele('Dt').ele('Dt').txt(p.date);
    };
    balance('OPBD', pos.opening_minor);
    balance('CLBD', pos.closing_minor);
    const sum = stmt.ele('TxsSummry');
    sum.ele('TtlNtries').ele('NbOfNtries').txt(String(pos.postings)).up().ele('TtlNetNtry').ele('Amt').txt(decimalAmount(pos.net_minor, pos.currency)).up().ele('CdtDbtInd').txt(sign(pos.net_minor));
    for (const l of p.lines.filter((x) => x.currency === pos.currency)) {
      const e = stmt.ele('Ntry');
      e.ele('NtryRef').txt(`txn-${l.txn}`);
      e.ele('Amt', { Ccy: l.currency }).txt(decimalAmount(l.amount, l.currency));
      e.ele('CdtDbtInd').txt(sign(l.amount));
      e.ele('Sts').ele('Cd').txt('BOOK');
      e.ele('BookgDt').ele('DtTm').txt(new Date(l.at).toISOString());
      e.ele('ValDt').ele('Dt').txt(p.date);
      e.ele('AcctSvcrRef').txt(max(l.terminal !== null && l.seq !== null ? `${l.terminal}#${l.seq}` : l.ref, 35));
      e.ele('BkTxCd').ele('Prtry').ele('Cd').txt(max(l.source, 35)).up().ele('Issr').txt('PalmPay');
      e.ele('AddtlNtryInf').txt(max(`${l.memo} (${l.account}; record ${l.ref})`, 500));
    }
  }
  return doc.end({ prettyPrint: true });
}
