// The journal's head, anchored OUTSIDE the database: after each append the ledger writes the new head (seq and
// hash), signed with the terminal key, to a small file next to the store. Deleting the newest records from the
// database then no longer goes unnoticed: start-up and `palmpay journal verify` compare the journal with the
// anchor, and the ledger refuses to sign onto a truncated chain (an offline payout cannot silently vanish).
// The anchor also holds a digest of the sealed local state (offline limits, operators; local-trust.ts): a sealed
// row deleted, or put back from an older copy, verifies on its own but no longer matches the anchor. A journal
// with records and no anchor at all is refused too (deleting the file must not reset the anchor to a short chain).
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
const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);
const AnchorFile = z.strictObject({
  terminalId: z.string(), seq: z.number().int().min(0), hash: HEX64, state: HEX64.optional(), nextState: HEX64.optional(), sig: z.string().regex(/^[0-9a-f]{128}$/),
});

export interface Head {
  seq: number;
  hash: string;
}
/** The head, and the digest of the sealed local state; `nextState` while a change of it is being committed. */
export interface Anchor extends Head {
  state?: string;
  nextState?: string;
}

// Anchors from before the state digest have neither field and keep verifying.
const message = (terminalId: string, a: Anchor) =>
  Buffer.concat([DOMAIN, canonicalBytes({ terminalId, seq: a.seq, hash: a.hash, ...(a.state ? { state: a.state } : {}), ...(a.nextState ? { nextState: a.nextState } : {}) })]);

/** Writes the anchor (temp file + rename: a crash leaves the old or the new one, never half). */
export function writeAnchor(dir: string, terminalId: string, signer: Signer, a: Anchor): void {
  const sig = Buffer.from(signer.sign(message(terminalId, a))).toString('hex');
  const file = join(dir, ANCHOR_FILE);
  const body = { terminalId, seq: a.seq, hash: a.hash, ...(a.state ? { state: a.state } : {}), ...(a.nextState ? { nextState: a.nextState } : {}), sig };
  writeFileSync(`${file}.part`, JSON.stringify(body), { mode: 0o600 });
  renameSync(`${file}.part`, file);
}

/** The anchor, or undefined when there is no anchor file. A forged or unreadable anchor is a typed error. */
export function readAnchor(dir: string, terminalId: string, publicKey: Uint8Array): Anchor | undefined {
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
  return { seq: a.seq, hash: a.hash, ...(a.state ? { state: a.state } : {}), ...(a.nextState ? { nextState: a.nextState } : {}) };
}

/** Why a journal with records but no anchor file is refused. */
export const ANCHOR_MISSING = `the journal has records but its signed head anchor (${ANCHOR_FILE}) is gone: the newest records may have been deleted with it`;

/** Whether the sealed local state matches the anchor: its state, or the change being committed when it was written. */
export function stateMatches(anchor: Anchor, digest: string): boolean {
  return anchor.state === undefined || anchor.state === digest || anchor.nextState === digest;
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
