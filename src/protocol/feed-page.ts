// Signed feed pages and signed, request-bound time: what lets a terminal believe what the centre tells it.
// Pure. The centre signs each page over the terminal it is for, the cursor range, a digest of the events, the
// time, and the signature of the request it answers, so a page cannot be forged, sent to another terminal,
// replayed later, or cut; the terminal checks it against the centre key pinned at registration before applying.
import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical.ts';
import { publicKeyObject } from './sign.ts';
import { PalmPayError } from '../util/errors.ts';

const PAGE_DOMAIN = Buffer.from('PalmPay feed page v1\n');
const TIME_DOMAIN = Buffer.from('PalmPay bound time v1\n');

/** What the centre signs about one feed page. */
export interface FeedPageProof {
  terminalId: string;
  /** The cursor the terminal asked from, and the cursor after this page. */
  from: number;
  to: number;
  more: boolean;
  /** SHA-256 (hex) of the events in stable JSON (stableJson). */
  eventsSha256: string;
  /** The centre's time when it signed (equal to the page's signed time). */
  timeMs: number;
  /** The Ed25519 signature (hex) of the terminal's request this page answers. */
  request: string;
  /** The centre's Ed25519 signature (hex) over all of the above. */
  sig: string;
}

export class FeedPageError extends PalmPayError {}

/** JSON with object keys sorted at every level (null allowed): one spelling for a value, whatever the serialiser. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function eventsDigest(events: unknown[]): string {
  return createHash('sha256').update(stableJson(events)).digest('hex');
}

function pageMessage(p: Omit<FeedPageProof, 'sig'>): Buffer {
  const { terminalId, from, to, more, eventsSha256, timeMs, request } = p;
  return Buffer.concat([PAGE_DOMAIN, canonicalBytes({ terminalId, from, to, more, eventsSha256, timeMs, request })]);
}

export function signFeedPage(privateKey: KeyObject, p: Omit<FeedPageProof, 'sig'>): FeedPageProof {
  return { ...p, sig: edSign(null, pageMessage(p), privateKey).toString('hex') };
}

/**
 * Checks a page before anything in it is applied; throws a typed FeedPageError otherwise:
 * FEED_UNSIGNED (no proof, or no centre key pinned), FEED_FORGED (signature or digest wrong), FEED_NOT_OURS
 * (another terminal's page), FEED_REPLAYED (answers another request), FEED_NOT_CONTINUING (does not start at our
 * cursor, or goes backwards), FEED_TIME_MISMATCH (the page's time is not the signed one).
 */
export function verifyFeedPage(
  serverPublicKeyHex: string | undefined,
  page: { events: unknown[]; cursor: number; more: boolean; time: { ms: number }; proof?: FeedPageProof },
  expected: { terminalId: string; cursor: number; request: string },
): FeedPageProof {
  const p = page.proof;
  if (!serverPublicKeyHex) throw new FeedPageError('FEED_UNSIGNED', 'no centre key is pinned on this terminal: register it before pulling the feed');
  if (!p || typeof p.sig !== 'string') throw new FeedPageError('FEED_UNSIGNED', 'the feed page carries no centre signature');
  let ok = false;
  try {
    ok = edVerify(null, pageMessage(p), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(p.sig, 'hex'));
  } catch {
    ok = false;
  }
  if (!ok) throw new FeedPageError('FEED_FORGED', 'the feed page’s signature does not verify with the centre key pinned at registration');
  if (p.eventsSha256 !== eventsDigest(page.events) || p.to !== page.cursor || p.more !== page.more) throw new FeedPageError('FEED_FORGED', 'the feed page’s events, cursor or more-flag differ from what the centre signed');
  if (p.terminalId !== expected.terminalId) throw new FeedPageError('FEED_NOT_OURS', `the feed page was signed for terminal ${p.terminalId}`);
  if (p.request !== expected.request) throw new FeedPageError('FEED_REPLAYED', 'the feed page answers another request (a replay)');
  if (p.from !== expected.cursor || p.to < p.from) throw new FeedPageError('FEED_NOT_CONTINUING', `the feed page covers ${p.from}..${p.to}, not a continuation of cursor ${expected.cursor}`);
  if (p.timeMs !== page.time.ms) throw new FeedPageError('FEED_TIME_MISMATCH', 'the feed page’s time is not the time the centre signed');
  return p;
}

// ---- a person's report, bound to the request it answers ----
const REPORT_DOMAIN = Buffer.from('PalmPay report v1\n');

/**
 * What the centre signs about a report it answers (POST /v1/reports): the terminal, a digest of the report as it
 * goes on the wire, and the terminal's request signature (which covers the person and the month in its path).
 * TLS alone is not enough: the terminal trusts the system's CAs, and `--insecure-http` exists; the printed report
 * is a financial document.
 */
export interface ReportProof {
  terminalId: string;
  reportSha256: string;
  request: string;
  sig: string;
}

function reportMessage(p: Omit<ReportProof, 'sig'>): Buffer {
  const { terminalId, reportSha256, request } = p;
  return Buffer.concat([REPORT_DOMAIN, canonicalBytes({ terminalId, reportSha256, request })]);
}

export function signReport(privateKey: KeyObject, terminalId: string, report: unknown, request: string): ReportProof {
  const p = { terminalId, reportSha256: eventsDigest([report]), request };
  return { ...p, sig: edSign(null, reportMessage(p), privateKey).toString('hex') };
}

/** Throws REPORT_UNSIGNED, REPORT_FORGED (signature or digest), REPORT_NOT_OURS or REPORT_REPLAYED (another request). */
export function verifyReport(serverPublicKeyHex: string | undefined, report: unknown, proof: ReportProof | undefined, expected: { terminalId: string; request: string }): void {
  if (!serverPublicKeyHex || !proof || typeof proof.sig !== 'string') throw new FeedPageError('REPORT_UNSIGNED', 'the report carries no centre signature (or no centre key is pinned here)');
  let ok = false;
  try {
    ok = edVerify(null, reportMessage(proof), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(proof.sig, 'hex'));
  } catch {
    ok = false;
  }
  if (!ok || proof.reportSha256 !== eventsDigest([report])) throw new FeedPageError('REPORT_FORGED', 'the report is not what the centre key pinned at registration signed');
  if (proof.terminalId !== expected.terminalId) throw new FeedPageError('REPORT_NOT_OURS', `the report was signed for terminal ${proof.terminalId}`);
  if (proof.request !== expected.request) throw new FeedPageError('REPORT_REPLAYED', 'the report answers another request (a replay)');
}

// ---- time bound to a request ----
/** The centre's time for a terminal that must correct its clock: signed together with the terminal's nonce. */
export interface BoundTime {
  ms: number;
  nonce: string;
  sig: string;
}
function timeMessage(ms: number, nonce: string): Buffer {
  return Buffer.concat([TIME_DOMAIN, canonicalBytes({ ms, nonce })]);
}
export function signBoundTime(privateKey: KeyObject, ms: number, nonce: string): BoundTime {
  return { ms, nonce, sig: edSign(null, timeMessage(ms, nonce), privateKey).toString('hex') };
}
export function verifyBoundTime(serverPublicKeyHex: string, t: BoundTime, nonce: string): boolean {
  if (t.nonce !== nonce || !Number.isSafeInteger(t.ms)) return false;
  try {
    return edVerify(null, timeMessage(t.ms, nonce), publicKeyObject(Buffer.from(serverPublicKeyHex, 'hex')), Buffer.from(t.sig, 'hex'));
  } catch {
    return false;
  }
}
