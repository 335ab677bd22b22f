// Clearing: who each ledger account belongs to, and each participant's net position over a set of postings. Pure.
// Sign convention as postings.ts: credit positive, so a participant's net is what the centre owes it for the day
// (a biller's bills collected, a merchant's takings) and a negative net is what it owes the centre (a branch's cash
// paid out is positive: the drawer handed it over on the centre's behalf; a payroll fund's salaries are negative).
import { stringify } from 'csv-stringify/sync';

/** One posting of a settled transaction, with the transaction it belongs to. */
export interface SettledPosting {
  txn: number;
  source: string;
  terminal: string | null;
  seq: number | null;
  ref: string;
  memo: string;
  at: number;
  account: string;
  currency: string;
  amount: number;
}

export type ParticipantKind = 'biller' | 'branch_cash' | 'merchant' | 'employer_payroll' | 'centre_accounts';
export interface Participant {
  id: string;
  kind: ParticipantKind;
}

/**
 * The participant an account belongs to: a biller, a branch (the cash its counters paid out), a merchant (one
 * counter's takings), an employer's payroll fund (per branch), or the centre itself, which holds the customer
 * accounts, the salaries owed and the deposits: the clearing hub every other position is against.
 */
export function participantOf(account: string, branchOf: (terminalId: string) => string | undefined): Participant {
  const [prefix, ...rest] = account.split(':');
  const id = rest.join(':');
  switch (prefix) {
    case 'biller':
      return { id: `biller:${id}`, kind: 'biller' };
    case 'cash':
      return { id: `branch:${branchOf(id) ?? `unknown-terminal-${id}`}`, kind: 'branch_cash' };
    case 'merchant':
      return { id: `merchant:${id}`, kind: 'merchant' };
    case 'payroll':
      return { id: `payroll:${id}`, kind: 'employer_payroll' };
    default:
      return { id: 'centre', kind: 'centre_accounts' };
  }
}

export interface Position {
  participant: string;
  kind: ParticipantKind;
  currency: string;
  credit_minor: number;
  debit_minor: number;
  /** credit − debit: positive = the centre owes the participant. */
  net_minor: number;
  postings: number;
}

/** Net positions per participant and currency, sorted by participant then currency. */
export function netPositions(lines: readonly SettledPosting[], branchOf: (terminalId: string) => string | undefined): Position[] {
  const by = new Map<string, Position>();
  for (const l of lines) {
    const p = participantOf(l.account, branchOf);
    const key = `${p.id}\u0000${l.currency}`;
    let pos = by.get(key);
    if (!pos) by.set(key, (pos = { participant: p.id, kind: p.kind, currency: l.currency, credit_minor: 0, debit_minor: 0, net_minor: 0, postings: 0 }));
    if (l.amount >= 0) pos.credit_minor += l.amount;
    else pos.debit_minor -= l.amount;
    pos.net_minor += l.amount;
    pos.postings++;
  }
  return [...by.values()].sort((a, b) => cmp(a.participant, b.participant) || cmp(a.currency, b.currency));
}

/** Per currency: the sum of every participant's net (zero when the ledger balances). */
export function totals(positions: readonly Position[]): Array<{ currency: string; credit_minor: number; debit_minor: number; net_minor: number }> {
  const by = new Map<string, { currency: string; credit_minor: number; debit_minor: number; net_minor: number }>();
  for (const p of positions) {
    const t = by.get(p.currency) ?? { currency: p.currency, credit_minor: 0, debit_minor: 0, net_minor: 0 };
    t.credit_minor += p.credit_minor;
    t.debit_minor += p.debit_minor;
    t.net_minor += p.net_minor;
    by.set(p.currency, t);
  }
  return [...by.values()].sort((a, b) => cmp(a.currency, b.currency));
}

export const PARTICIPANT_CSV_HEADER = ['txn', 'time_utc', 'terminal', 'seq', 'record_hash', 'account', 'memo', 'currency', 'amount_minor'];

/** A participant's postings of the day as CSV (RFC 4180, CRLF), in transaction order. */
export function participantCsv(lines: readonly SettledPosting[]): string {
  return stringify([PARTICIPANT_CSV_HEADER, ...lines.map((l) => [l.txn, new Date(l.at).toISOString(), l.terminal ?? '', l.seq ?? '', l.ref, l.account, l.memo, l.currency, l.amount])], { record_delimiter: '\r\n' });
}

/** A file name for a participant id (`biller:elec-x` → `biller_elec-x`). */
export const fileSafe = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
