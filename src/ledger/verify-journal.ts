// Verifies a terminal's stored journal: the query columns agree with the signed bodies, and the bodies form
// a valid chain (verifyChain). Names the first bad record. Streams in windows, so memory stays flat for
// journals of millions of records.
import type { Store } from '../store/store.ts';
import type { JournalRow } from '../store/journal.ts';
import { GENESIS_HASH, idempotencyKey, parseBody, type RecordBody } from '../protocol/record.ts';
import { verifyChain, type ChainResult } from '../protocol/chain.ts';

/** The first column that disagrees with the signed body, or null. */
function columnMismatch(row: JournalRow, b: RecordBody): string | null {
  const amount = 'amountMinor' in b ? b.amountMinor : null;
  const currency = 'currency' in b ? b.currency : null;
  if (row.type !== b.type) return `type column says ${row.type}, the signed record ${b.type}`;
  if (row.refId !== idempotencyKey(b)) return `ref_id column says ${row.refId}, the signed record ${idempotencyKey(b)}`;
  if (row.amountMinor !== amount) return `amount_minor column says ${row.amountMinor}, the signed record ${amount}`;
  if (row.currency !== currency) return `currency column says ${row.currency}, the signed record ${currency}`;
  if (row.prevHash !== b.prevHash) return 'prev_hash column differs from the signed record';
  if (row.hlcMs !== b.hlc.ms) return 'hlc_ms column differs from the signed record';
  return null;
}

function toRecord(row: JournalRow): { record: unknown; columnProblem: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.body);
  } catch {
    return { record: { seq: row.seq, unreadable: true }, columnProblem: null };
  }
  const record = typeof parsed === 'object' && parsed !== null ? { ...parsed, hash: row.hash, sig: row.sig } : parsed;
  let columnProblem: string | null = null;
  try {
    columnProblem = columnMismatch(row, parseBody(parsed));
  } catch {
    // an invalid body is reported by verifyChain as malformed
  }
  return { record, columnProblem };
}

/**
 * Checks the whole journal in windows of `window` records (plus one record of look-ahead, which verifyChain
 * needs to tell an edited record from a forged signature).
 */
export function verifyJournal(store: Store, publicKey: Uint8Array, terminalId?: string, opts: { window?: number } = {}): ChainResult {
  const size = Math.max(1, opts.window ?? 10_000);
  let startSeq = 1;
  let prevHash = GENESIS_HASH;
  let offset = 0; // input index of buf[0]
  let firstColumnBad: { index: number; seq: number; message: string } | undefined;
  let buf: unknown[] = [];
  let total = 0;

  const finish = (chain: ChainResult): ChainResult => {
    if (firstColumnBad && (chain.ok || firstColumnBad.index < chain.index)) {
      const { index, seq, message } = firstColumnBad;
      return { ok: false, index, seq, kind: 'edited', message: `record seq ${seq} was edited: ${message}`, verifiedCount: index };
    }
    return chain;
  };
  /** Verifies buf; returns a failure to report, or undefined to go on (keeping the look-ahead record). */
  const check = (final: boolean): ChainResult | undefined => {
    const r = verifyChain(buf, publicKey, { ...(terminalId === undefined ? {} : { terminalId }), startSeq, prevHash });
    const keep = final ? 0 : 1;
    if (!r.ok && r.index < buf.length - keep) return reclassify(store, { ...r, index: r.index + offset, verifiedCount: r.verifiedCount + offset }, startSeq + r.index);
    if (!final) {
      const last = buf[buf.length - 2] as { seq: number; hash: string };
      startSeq = last.seq + 1;
      prevHash = last.hash;
      offset += buf.length - 1;
      buf = [buf[buf.length - 1]];
    }
    return undefined;
  };

  for (const row of store.journal.iterate()) {
    const { record, columnProblem } = toRecord(row);
    if (columnProblem && !firstColumnBad) firstColumnBad = { index: total, seq: row.seq, message: columnProblem };
    buf.push(record);
    total++;
    if (buf.length === size + 1) {
      const bad = check(false);
      if (bad) return finish(bad);
      // A column problem already found is reported once the chain up to it is known good.
      if (firstColumnBad && firstColumnBad.index < offset) return finish({ ok: true, count: offset, lastSeq: startSeq - 1, lastHash: prevHash });
    }
  }
  const bad = check(true);
  if (bad) return finish(bad);
  return finish({ ok: true, count: total, lastSeq: startSeq - 1 + buf.length, lastHash: (buf[buf.length - 1] as { hash?: string } | undefined)?.hash ?? prevHash });
}

/** A gap inside one window may be a record moved far away: look for it in the whole table before saying "deleted". */
function reclassify(store: Store, r: Extract<ChainResult, { ok: false }>, expectedSeq: number): ChainResult {
  if (r.kind !== 'deleted') return r;
  const at = store.db.prepare(`SELECT seq FROM journal WHERE json_extract(body, '$.seq') = ? LIMIT 1`).pluck().get(expectedSeq) as number | undefined;
  if (at === undefined) return r;
  return { ...r, kind: 'reordered', message: `record seq ${r.seq} stands where seq ${expectedSeq} belongs; seq ${expectedSeq} is stored in row ${at}` };
}
