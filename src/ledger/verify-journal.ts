// Verifies a terminal's stored journal: the query columns agree with the signed bodies, and the bodies form
// a valid chain (verifyChain). Names the first bad record.
import type { Store } from '../store/store.ts';
import type { JournalRow } from '../store/journal.ts';
import { idempotencyKey, parseBody, type RecordBody } from './record.ts';
import { verifyChain, type ChainResult } from './chain.ts';

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

export function verifyJournal(store: Store, publicKey: Uint8Array, terminalId?: string): ChainResult {
  const records: unknown[] = [];
  let firstColumnBad: { index: number; seq: number; message: string } | undefined;
  for (const row of store.journal.iterate()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.body);
    } catch {
      parsed = { seq: row.seq, unreadable: true };
    }
    records.push(typeof parsed === 'object' && parsed !== null ? { ...parsed, hash: row.hash, sig: row.sig } : parsed);
    if (firstColumnBad === undefined) {
      try {
        const m = columnMismatch(row, parseBody(parsed));
        if (m) firstColumnBad = { index: records.length - 1, seq: row.seq, message: m };
      } catch {
        // unreadable bodies are reported by verifyChain as malformed
      }
    }
  }
  const chain = verifyChain(records, publicKey, terminalId === undefined ? {} : { terminalId });
  if (firstColumnBad && (chain.ok || firstColumnBad.index < chain.index)) {
    const { index, seq, message } = firstColumnBad;
    return { ok: false, index, seq, kind: 'edited', message: `record seq ${seq} was edited: ${message}`, verifiedCount: index };
  }
  return chain;
}
