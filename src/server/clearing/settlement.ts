// Clearing and settlement of one day: every ledger transaction not yet settled and made before the day's end is
// given to the day, once; each participant's net position comes from those postings; the result is signed with
// the centre's Ed25519 key so a participant can verify it (verifySettlement), with a CSV of its postings, a camt.053
// statement for its bank (and, for a biller, its bill payment file) whose SHA-256 the signed file pins. A settled day is stored: settling it again gives the same files.
import { createHash, sign as edSign } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalJson } from '../../protocol/canonical.ts';
import type { ServerIdentity } from '../../protocol/crypto.ts';
import { verifySignature } from '../sign.ts';
import { PalmPayError } from '../../util/errors.ts';
import { isIsoDate } from '../csv.ts';
import type { Repo } from '../repo.ts';
import { camt053 } from './camt053.ts';
import { fileSafe, netPositions, participantCsv, participantOf, totals, type Position } from './positions.ts';
import { billExportCsv, billPaymentLines } from './bill-export.ts';
import { ClearingStore } from './store.ts';

export class SettlementError extends PalmPayError {}

/** Domain separation: a settlement signature can never pass for a record, a feed page or a certificate. */
const SETTLEMENT_DOMAIN = Buffer.from('palmpay settlement v1\n');
const DAY_MS = 86_400_000;

const Int = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const SettlementBody = z.strictObject({
  v: z.literal(1),
  type: z.literal('palmpay.settlement'),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** The day in UTC: [from_ms, to_ms). */
  from_ms: Int,
  to_ms: Int,
  settled_at_ms: Int,
  centre_key: z.string().regex(/^[0-9a-f]{64}$/),
  txns: Int,
  /** Per participant and currency: opening (all days settled before), the day's credits, debits and net, closing. */
  positions: z.array(z.strictObject({ participant: z.string(), kind: z.string(), currency: z.string(), opening_minor: Int, credit_minor: Int, debit_minor: Int, net_minor: Int, closing_minor: Int, postings: Int })),
  totals: z.array(z.strictObject({ currency: z.string(), credit_minor: Int, debit_minor: Int, net_minor: Int })),
  /** Transactions made on an earlier day that reached the ledger after that day was settled. */
  late: z.array(z.strictObject({ txn: Int, ref: z.string(), recorded_on: z.string(), note: z.string() })),
  files: z.array(z.strictObject({ participant: z.string(), name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export type SettlementBody = z.infer<typeof SettlementBody>;
export const SettlementFile = z.strictObject({ body: SettlementBody, sig: z.string().regex(/^[0-9a-f]{128}$/) });
export type SettlementFile = z.infer<typeof SettlementFile>;

export interface Settlement {
  file: SettlementFile;
  /** One CSV per participant, named as in `file.body.files`. */
  csvs: Array<{ participant: string; name: string; text: string }>;
  /** False when the day had been settled before (the stored settlement, files rebuilt byte for byte). */
  fresh: boolean;
}

export const settlementFileName = (date: string) => `settlement-${date}.json`;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Settles `date` (a UTC day that has ended), or returns its stored settlement. Refuses while an earlier day with
 * unsettled transactions has not been settled (days are settled in order, so nothing is swept into the wrong day).
 */
export async function settleDay(repo: Repo, identity: ServerIdentity, date: string, now: number): Promise<Settlement> {
  if (!isIsoDate(date)) throw new SettlementError('SETTLEMENT_DATE_INVALID', `settlement date ${JSON.stringify(date)} is not YYYY-MM-DD`);
  const from = Date.parse(`${date}T00:00:00Z`);
  const to = from + DAY_MS;
  return repo.tx(async (r) => {
    await r.flush();
    const store = new ClearingStore(r.conn);
    await store.lock();
    const stored = await store.getSettlement(date);
    const branches = await store.terminalBranches();
    const branchOf = (t: string) => branches.get(t);
    const lines = async () => store.postingsOfDay(date);
    /** A CSV of each participant's postings, and each biller's bill payment file. */
    const csvsOf = async (all: Awaited<ReturnType<typeof lines>>, body: Pick<SettlementBody, 'positions' | 'settled_at_ms'>) => {
      const ids = [...new Set(all.map((l) => participantOf(l.account, branchOf).id))].sort();
      const out = ids.map((participant) => ({ participant, name: `${date}-${fileSafe(participant)}.csv`, text: participantCsv(all.filter((l) => participantOf(l.account, branchOf).id === participant)) }));
      const bills = await billPaymentLines(r, all);
      for (const biller of [...new Set(bills.map((b) => b.billerId))].sort()) {
        out.push({ participant: `biller:${biller}`, name: `${date}-${fileSafe(`biller:${biller}`)}-bill-payments.csv`, text: billExportCsv(bills.filter((b) => b.billerId === biller)) });
      }
      // The banks' statements (camt.053) of every participant but the centre itself.
      for (const participant of ids.filter((id) => id !== 'centre')) {
        const mine = body.positions.filter((p) => p.participant === participant) as Array<Position & { opening_minor: number; closing_minor: number }>;
        const text = camt053({ date, fromMs: from, toMs: to, settledAtMs: body.settled_at_ms, participant, positions: mine, lines: all.filter((l) => participantOf(l.account, branchOf).id === participant) });
        out.push({ participant, name: `${date}-${fileSafe(participant)}.camt053.xml`, text });
      }
      return out;
    };
    if (stored) {
      const file: SettlementFile = { body: SettlementBody.parse(JSON.parse(stored.body)), sig: stored.sig };
      const csvs = await csvsOf(await lines(), file.body);
      // The day's postings are immutable once settled; if they differ from what was signed, say so, never re-sign.
      const signed = new Map(file.body.files.map((f) => [f.name, f.sha256]));
      if (csvs.length !== signed.size || csvs.some((c) => signed.get(c.name) !== sha256(c.text))) {
        throw new SettlementError('SETTLEMENT_LEDGER_CHANGED', `the ledger postings of ${date} no longer match its signed settlement`);
      }
      return { file, csvs, fresh: false };
    }
    if (now < to) throw new SettlementError('SETTLEMENT_DAY_OPEN', `${date} has not ended yet (UTC): it can be settled from ${new Date(to).toISOString()}`);
    const earliest = await store.earliestUnsettled(from);
    if (earliest !== undefined && !(await store.getSettlement(isoDay(earliest)))) {
      throw new SettlementError('SETTLEMENT_EARLIER_DAY_OPEN', `${isoDay(earliest)} has transactions and is not settled: settle it first`);
    }
    await store.assignDay(date, to);
    const all = await lines();
    const opening = new Map<string, number>();
    for (const b of await store.settledBefore(date)) {
      const key = `${participantOf(b.account, branchOf).id}\u0000${b.currency}`;
      opening.set(key, (opening.get(key) ?? 0) + b.amount);
    }
    const positions = netPositions(all, branchOf).map((p) => {
      const open = opening.get(`${p.participant}\u0000${p.currency}`) ?? 0;
      return { participant: p.participant, kind: p.kind, currency: p.currency, opening_minor: open, credit_minor: p.credit_minor, debit_minor: p.debit_minor, net_minor: p.net_minor, closing_minor: open + p.net_minor, postings: p.postings };
    });
    const sums = totals(positions);
    const off = sums.find((t) => t.net_minor !== 0);
    if (off) throw new SettlementError('SETTLEMENT_UNBALANCED', `net positions of ${date} sum to ${off.net_minor} ${off.currency}, not 0: the ledger is unbalanced`);
    const late = [...new Map(all.filter((l) => l.at < from).map((l) => [l.txn, l])).values()].map((l) => ({
      txn: l.txn, ref: l.ref, recorded_on: isoDay(l.at), note: `recorded on ${isoDay(l.at)} after that day was settled: settled with ${date}`,
    }));
    const csvs = await csvsOf(all, { positions, settled_at_ms: now });
    const body: SettlementBody = {
      v: 1, type: 'palmpay.settlement', date, from_ms: from, to_ms: to, settled_at_ms: now, centre_key: identity.publicKeyHex,
      txns: new Set(all.map((l) => l.txn)).size, positions, totals: sums, late,
      files: csvs.map((c) => ({ participant: c.participant, name: c.name, sha256: sha256(c.text) })),
    };
    const sig = edSign(null, Buffer.concat([SETTLEMENT_DOMAIN, canonicalBytes(body)]), identity.privateKey).toString('hex');
    await store.insertSettlement(date, canonicalJson(body), sig, now);
    return { file: { body, sig }, csvs, fresh: true };
  });
}

/**
 * What a participant runs on a settlement file it received: the signature is the centre's (the key the participant
 * already trusts, never the one inside the file), and each CSV given is the one the file pins. Throws a typed error.
 */
export function verifySettlement(fileText: string, centreKeyHex: string, csvs: Array<{ name: string; text: string }> = []): SettlementBody {
  let file: SettlementFile;
  try {
    file = SettlementFile.parse(JSON.parse(fileText));
  } catch (err) {
    throw new SettlementError('SETTLEMENT_MALFORMED', `not a PalmPay settlement file: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (!/^[0-9a-f]{64}$/.test(centreKeyHex)) throw new SettlementError('BAD_ARGUMENT', 'the centre key is 64 lowercase hex characters (palmpay server settlement key)');
  const ok = verifySignature(centreKeyHex, Buffer.concat([SETTLEMENT_DOMAIN, canonicalBytes(file.body)]), file.sig);
  if (!ok || file.body.centre_key !== centreKeyHex) throw new SettlementError('SETTLEMENT_FORGED', `the settlement of ${file.body.date} is not signed by centre key ${centreKeyHex.slice(0, 16)}… (edited after signing, or another key)`);
  for (const c of csvs) {
    const pinned = file.body.files.find((f) => f.name === c.name);
    if (!pinned) throw new SettlementError('SETTLEMENT_FILE_UNKNOWN', `${c.name} is not part of the settlement of ${file.body.date}`);
    if (pinned.sha256 !== sha256(c.text)) throw new SettlementError('SETTLEMENT_FILE_MISMATCH', `${c.name} differs from the file the settlement of ${file.body.date} signed`);
  }
  return file.body;
}
