// Chain verification: signatures, hash links and the gapless sequence of one terminal's records. Pure.
// The terminal (`palmpay journal verify`) and the centre (on every upload batch) run this same function.
import { parseSignedRecord, GENESIS_HASH, type SignedRecord, type RecordBody } from './record.ts';
import { makeVerifier, recordHash } from './sign.ts';

/**
 * What went wrong with the first bad record:
 * - `malformed`: not a valid record at all (schema, types, unknown fields);
 * - `wrong_terminal`: a record of another terminal in this terminal's chain;
 * - `deleted`: a sequence gap: records expectedSeq..seq−1 are missing;
 * - `reordered`: the expected record exists but later in the list;
 * - `duplicate`: a sequence number seen before appears again;
 * - `edited`: the content changed after signing (hash or next record's link no longer matches);
 * - `forged_signature`: the content is intact (its hash still links) but the signature is not the terminal's;
 * - `broken_chain`: validly signed, but prevHash is not the previous record's hash (a fork, or a wrong starting point).
 */
export type TamperKind = 'malformed' | 'wrong_terminal' | 'deleted' | 'reordered' | 'duplicate' | 'edited' | 'forged_signature' | 'broken_chain';

export interface ChainStart {
  /** Every record must carry this terminal id (default: the first record's). */
  terminalId?: string;
  /** Sequence number the first record must have (default 1). */
  startSeq?: number;
  /** Hash of record startSeq − 1 (default: GENESIS_HASH, right for startSeq 1). */
  prevHash?: string;
}

export type ChainResult =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | {
      ok: false;
      /** position in the input list of the first bad record */
      index: number;
      /** its sequence number, if it has a readable one */
      seq: number | null;
      kind: TamperKind;
      /** one line for a person, naming the record */
      message: string;
      /** records before `index`, all verified */
      verifiedCount: number;
    };

/** Verifies `records` (in the order given) as one terminal's chain; names the first bad record and the kind of tampering. */
export function verifyChain(records: readonly unknown[], publicKey: Uint8Array, start: ChainStart = {}): ChainResult {
  const verify = makeVerifier(publicKey);
  let expectedSeq = start.startSeq ?? 1;
  let prevHash = start.prevHash ?? GENESIS_HASH;
  let terminalId = start.terminalId;
  const seqAt = (i: number): number | null => {
    const s = (records[i] as { seq?: unknown } | null)?.seq;
    return typeof s === 'number' ? s : null;
  };
  const fail = (index: number, kind: TamperKind, message: string): ChainResult => ({
    ok: false,
    index,
    seq: seqAt(index),
    kind,
    message,
    verifiedCount: index,
  });

  for (let i = 0; i < records.length; i++) {
    let rec: SignedRecord;
    try {
      rec = parseSignedRecord(records[i]);
    } catch (err) {
      return fail(i, 'malformed', `record #${i + 1} (seq ${seqAt(i) ?? '?'}) is malformed: ${(err as Error).message}`);
    }
    const name = `record seq ${rec.seq}`;
    terminalId ??= rec.terminalId;
    if (rec.terminalId !== terminalId) return fail(i, 'wrong_terminal', `${name} belongs to terminal ${rec.terminalId}, not ${terminalId}`);

    if (rec.seq !== expectedSeq) {
      if (rec.seq < expectedSeq) return fail(i, 'duplicate', `${name} appears again after seq ${expectedSeq - 1}`);
      const laterIndex = findSeq(records, expectedSeq, i + 1);
      if (laterIndex >= 0) return fail(i, 'reordered', `${name} stands where seq ${expectedSeq} belongs; seq ${expectedSeq} comes later, at #${laterIndex + 1}`);
      const missing = rec.seq - expectedSeq === 1 ? `seq ${expectedSeq} is` : `seq ${expectedSeq}..${rec.seq - 1} are`;
      return fail(i, 'deleted', `${name} follows seq ${expectedSeq - 1}: ${missing} missing (deleted)`);
    }

    const { hash: storedHash, sig, ...rest } = rec;
    const body = rest as RecordBody;
    const hash = recordHash(body);
    if (storedHash !== hash) return fail(i, 'edited', `${name} was edited: its content no longer matches its hash`);
    if (!verify(body, sig)) {
      // The hash does not cover the signature: content edited after signing breaks the next record's link,
      // a replaced signature does not.
      const nextPrev = (records[i + 1] as { prevHash?: unknown } | undefined)?.prevHash;
      if (nextPrev !== undefined && nextPrev !== hash) return fail(i, 'edited', `${name} was edited: the next record links to different content`);
      return fail(i, 'forged_signature', `${name} has a signature that is not this terminal's (forged)`);
    }
    if (rec.prevHash !== prevHash) return fail(i, 'broken_chain', `${name} does not link to the record before it (prevHash mismatch)`);
    prevHash = hash;
    expectedSeq++;
  }
  return { ok: true, count: records.length, lastSeq: expectedSeq - 1, lastHash: prevHash };
}

function findSeq(records: readonly unknown[], seq: number, from: number): number {
  for (let j = from; j < records.length; j++) if ((records[j] as { seq?: unknown } | null)?.seq === seq) return j;
  return -1;
}
