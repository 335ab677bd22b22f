// The journal's head, anchored OUTSIDE the database: after each append the ledger writes the new head (seq and
// hash), signed with the terminal key, to a small file next to the store. Deleting the newest records from the
// database then no longer goes unnoticed: start-up and `palmpay journal verify` compare the journal with the
// anchor, and the ledger refuses to sign onto a truncated chain (an offline payout cannot silently vanish).
// Limit: someone who can write the data folder and kept an OLD anchor file can roll both back together; the
// centre then sees the re-used sequence numbers as conflicts (its stored records are the external anchor).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalBytes } from '../protocol/canonical.ts';
import { verify as edVerify } from 'node:crypto';
import { publicKeyObject, type Signer } from '../protocol/sign.ts';
import { PalmPayError } from '../util/errors.ts';

export const ANCHOR_FILE = 'journal-head.json';
const DOMAIN = Buffer.from('PalmPay journal head v1\n');
const AnchorFile = z.strictObject({ terminalId: z.string(), seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/), sig: z.string().regex(/^[0-9a-f]{128}$/) });

export interface Head {
  seq: number;
  hash: string;
}

const message = (terminalId: string, h: Head) => Buffer.concat([DOMAIN, canonicalBytes({ terminalId, seq: h.seq, hash: h.hash })]);

/** Writes the anchor (temp file + rename: a crash leaves the old or the new one, never half). */
export function writeAnchor(dir: string, terminalId: string, signer: Signer, head: Head): void {
  const sig = Buffer.from(signer.sign(message(terminalId, head))).toString('hex');
  const file = join(dir, ANCHOR_FILE);
  writeFileSync(`${file}.part`, JSON.stringify({ terminalId, seq: head.seq, hash: head.hash, sig }), { mode: 0o600 });
  renameSync(`${file}.part`, file);
}

/** The anchored head, or undefined when there is no anchor yet. A forged or unreadable anchor is a typed error. */
export function readAnchor(dir: string, terminalId: string, publicKey: Uint8Array): Head | undefined {
  const file = join(dir, ANCHOR_FILE);
  if (!existsSync(file)) return undefined;
  let a: z.infer<typeof AnchorFile>;
  try {
    a = AnchorFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    throw new PalmPayError('JOURNAL_ANCHOR_BAD', `${file} is not a journal head anchor`);
  }
  const ok = a.terminalId === terminalId && edVerify(null, message(terminalId, a), publicKeyObject(Buffer.from(publicKey)), Buffer.from(a.sig, 'hex'));
  if (!ok) throw new PalmPayError('JOURNAL_ANCHOR_BAD', `${file} is not signed by terminal ${terminalId}'s key`);
  return { seq: a.seq, hash: a.hash };
}

/**
 * Why the journal does not reach its anchor (undefined when it does). The journal may be AHEAD of the anchor
 * (a crash between commit and anchor write); it may never be behind it, nor differ at the anchored seq.
 */
export function anchorProblem(anchor: Head, journalHead: Head, hashAt: (seq: number) => string | undefined): string | undefined {
  if (journalHead.seq < anchor.seq) return `the journal ends at seq ${journalHead.seq}, but seq ${anchor.seq} was written: ${anchor.seq - journalHead.seq} newest record(s) were deleted`;
  if (anchor.seq > 0 && hashAt(anchor.seq) !== anchor.hash) return `record seq ${anchor.seq} is not the one that was written (hash differs from the anchor)`;
  return undefined;
}
