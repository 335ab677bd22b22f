// A person's electronic financial report for one month, from the double-entry ledger: for each of their accounts
// (the salary owed to them, their customer account) and currency, the opening balance, every movement with its
// sign and kind, fees (always 0: the programmes charge none) and the closing balance. Opening + movements =
// closing by construction, and the test checks both ends against the ledger. Times are the centre's booking times.
import { PalmPayError } from '../../util/errors.ts';
import type { RecordBody } from '../../protocol/record.ts';
import { BillingStore } from '../billing/store.ts';
import { account } from '../postings.ts';
import type { Repo, RepoTx } from '../repo.ts';
import { sql } from '../sql.ts';

export type MovementKind = 'salary' | 'salary_paid_out' | 'deposit' | 'purchase' | 'refund' | 'void' | 'bill' | 'direct_debit' | 'other';
export interface Movement {
  at: number;
  kind: MovementKind;
  /** Signed minor units: + money in, − money out. */
  amount_minor: number;
  currency: string;
  memo: string;
  /** The record behind it (`terminal#seq`), the voucher, or the centre's own reference. */
  reference: string;
  /** The pay period of a salary line (YYYY-MM). */
  period?: string;
  balance_after_minor: number;
}
export interface AccountReport {
  account: string;
  /** 'salary': salary owed to the person (credited by payroll, paid out in cash); 'customer': their account. */
  role: 'salary' | 'customer';
  currency: string;
  opening_minor: number;
  movements: Movement[];
  fees_minor: 0;
  closing_minor: number;
}
export interface PersonReport {
  person: string;
  status: string;
  account_id: string | null;
  month: string;
  from_ms: number;
  to_ms: number;
  accounts: AccountReport[];
  /** Direct debits that could not be made this month (the bill stays due), with why. */
  failed_direct_debits: Array<{ at: number; biller: string; bill: string; amount_minor: number; currency: string; reason: string }>;
}

export class ReportError extends PalmPayError {}

/** The month as [from, to) in UTC milliseconds. */
export function monthRange(month: string): { from: number; to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new ReportError('REPORT_MONTH_INVALID', `month ${JSON.stringify(month)} is not YYYY-MM`);
  return { from: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1), to: Date.UTC(Number(m[1]), Number(m[2]), 1) };
}

interface Row {
  txn: number;
  source: string;
  terminal_id: string | null;
  seq: number | null;
  ref: string;
  memo: string;
  at: number;
  currency: string;
  amount: number;
  type: string | null;
  body: string | null;
}

/** What a movement is, from the transaction's source and the signed record behind it. */
function kindOf(row: Row, role: AccountReport['role']): MovementKind {
  if (row.source === 'payroll') return 'salary';
  if (row.source === 'admin') return 'deposit';
  if (row.source === 'mandate') return 'direct_debit';
  if (row.source !== 'record' || !row.body) return 'other';
  const body = JSON.parse(row.body) as RecordBody;
  switch (body.type) {
    case 'salary_payout':
      return role === 'salary' ? 'salary_paid_out' : 'other';
    case 'purchase':
      return body.biller ? 'bill' : 'purchase';
    case 'refund':
      return 'refund';
    case 'void':
      return 'void';
    default:
      return 'other';
  }
}

async function accountReports(r: RepoTx, acct: string, role: AccountReport['role'], from: number, to: number): Promise<AccountReport[]> {
  const opening = await r.conn.all<{ currency: string; amount: number }>(sql`SELECT p.currency, SUM(p.amount) AS amount FROM postings p JOIN txns t ON t.id = p.txn_id
    WHERE p.account = ${acct} AND t.created_at < ${from} GROUP BY p.currency`);
  const rows = await r.conn.all<Row>(sql`SELECT t.id AS txn, t.source, t.terminal_id, t.seq, t.ref, t.memo, t.created_at AS at, p.currency, p.amount, rec.type, rec.body
    FROM postings p JOIN txns t ON t.id = p.txn_id LEFT JOIN records rec ON rec.terminal_id = t.terminal_id AND rec.seq = t.seq
    WHERE p.account = ${acct} AND t.created_at >= ${from} AND t.created_at < ${to} ORDER BY t.created_at, t.id, p.id`);
  const currencies = [...new Set([...opening.map((o) => o.currency), ...rows.map((m) => m.currency)])].sort();
  const out: AccountReport[] = [];
  for (const currency of currencies) {
    const open = Number(opening.find((o) => o.currency === currency)?.amount ?? 0);
    let balance = open;
    const movements: Movement[] = [];
    for (const row of rows.filter((m) => m.currency === currency)) {
      const amount = Number(row.amount);
      balance += amount;
      const kind = kindOf(row, role);
      const period = kind === 'salary' ? (await r.conn.get<{ period: string }>(sql`SELECT period FROM vouchers WHERE id = ${row.ref}`))?.period : kind === 'salary_paid_out' ? (JSON.parse(row.body!) as { period: string }).period : undefined;
      movements.push({
        at: Number(row.at), kind, amount_minor: amount, currency, memo: row.memo,
        reference: row.terminal_id !== null && row.seq !== null ? `${row.terminal_id}#${Number(row.seq)}` : row.ref,
        ...(period ? { period } : {}), balance_after_minor: balance,
      });
    }
    out.push({ account: acct, role, currency, opening_minor: open, movements, fees_minor: 0, closing_minor: balance });
  }
  return out;
}

/** The report of `personId` for `month` (YYYY-MM). An unknown person is a typed error. */
export async function personReport(repo: Repo, personId: string, month: string): Promise<PersonReport> {
  const { from, to } = monthRange(month);
  return repo.tx(async (r) => {
    await r.flush();
    const p = await r.getPerson(personId);
    const hasSalary = Boolean(await r.conn.get(sql`SELECT 1 AS x FROM vouchers WHERE person_id = ${personId} LIMIT 1`));
    if (!p && !hasSalary) throw new ReportError('REPORT_PERSON_UNKNOWN', `person ${personId} is neither enrolled nor on a payroll`);
    const accounts = [
      ...(await accountReports(r, account.salary(personId), 'salary', from, to)),
      ...(p?.account_id ? await accountReports(r, account.customer(p.account_id), 'customer', from, to) : []),
    ];
    const failed = p?.account_id ? (await new BillingStore(r.conn).listDebits({ accountId: p.account_id, fromMs: from, toMs: to })).filter((d) => d.status === 'failed') : [];
    return {
      person: personId, status: p?.status ?? 'payroll only', account_id: p?.account_id ?? null, month, from_ms: from, to_ms: to, accounts,
      failed_direct_debits: failed.map((d) => ({ at: d.created_at, biller: d.biller_id, bill: d.bill_id, amount_minor: d.amount, currency: d.currency, reason: d.reason ?? '' })),
    };
  });
}
