// The terminal's link to the centre: `registerWithCentre` once, then `createSync` runs the uploader and the
// feed puller and reports status (link up/down, queue length, progress, feed age) for the status bar.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Sealer } from '../ledger/sealer.ts';
import type { OfflineLimits } from '../ledger/limits.ts';
import type { OperatorGrant } from '../protocol/schemas.ts';
import type { Signer } from '../protocol/sign.ts';
import type { Store } from '../store/store.ts';
import { uploadEnrolmentTemplates } from './templates.ts';
import { newEncKeyPair, verifyCertificate, type Certificate } from '../protocol/crypto.ts';
import { PalmPayError } from '../util/errors.ts';
import { ReportResponse, type OperatorCodeClaimResponse, type ReportBody } from '../protocol/schemas.ts';
import { verifyReport } from '../protocol/feed-page.ts';
import { sealedPinDigest, sealReportPin, verifyReportPinKey } from '../protocol/report-pin.ts';
import type { SignedRecord } from '../protocol/record.ts';
import { SETTING as LEDGER_SETTING } from '../ledger/ledger.ts';
import type { BackoffPolicy, LinkState } from './backoff.ts';
import { CentreClient } from './client.ts';
import { feedFreshness, pullFeed, SETTINGS, type FeedFreshness, type PalmChanges } from './feed.ts';
import { Uploader, type UploadProgress } from './uploader.ts';
import { pendingCaptures, sendCaptures } from './captures.ts';
import type { PinVersion } from '../protocol/pin-verifier.ts';

export { SETTINGS, feedFreshness, tightenLimit, type PalmChanges } from './feed.ts';
export { Uploader } from './uploader.ts';
export { queueCapture, pendingCaptures, sendCaptures, type PendingCapture } from './captures.ts';
export { CentreClient, LinkError, CentreRefusal } from './client.ts';

/** Trades a one-time code for a certificate; keeps the certificate, the centre's key and the X25519 key (sealed when a sealer is given) in settings. */
export async function registerWithCentre(o: { store: Store; serverUrl: string; code: string; signer: Signer; sealer?: Sealer; expectTerminalId?: string; insecureHttp?: boolean }): Promise<Certificate> {
  const enc = newEncKeyPair();
  const res = await new CentreClient({ baseUrl: o.serverUrl, insecureHttp: o.insecureHttp }).register(o.code, Buffer.from(o.signer.publicKey).toString('hex'), enc.publicHex);
  if (!verifyCertificate(res.serverPublicKey, res.certificate) || res.certificate.body.publicKey !== Buffer.from(o.signer.publicKey).toString('hex')) {
    throw new PalmPayError('SYNC_CERT_INVALID', 'the certificate from the centre does not verify or is not for this terminal’s key');
  }
  // A centre key pinned by an earlier registration is never silently replaced (lose nothing, change nothing).
  const pinned = o.store.settings.get<string>(SETTINGS.serverPublicKey);
  if (pinned !== undefined && pinned !== res.serverPublicKey) {
    throw new PalmPayError('CENTRE_KEY_CHANGED', `the centre at ${o.serverUrl} signs with another key (${res.serverPublicKey.slice(0, 16)}…) than the one pinned here (${pinned.slice(0, 16)}…): refused. If the region really moved to a new centre, start from a fresh data folder after every record is uploaded or exported.`);
  }
  if (o.expectTerminalId !== undefined && res.certificate.body.terminalId !== o.expectTerminalId) {
    throw new PalmPayError('TERMINAL_ID_MISMATCH', `that code registers terminal ${res.certificate.body.terminalId} at the centre, but this counter is ${o.expectTerminalId}: use the code printed for ${o.expectTerminalId}`);
  }
  o.store.transaction(() => {
    o.store.settings.set(SETTINGS.terminalId, res.certificate.body.terminalId);
    o.store.settings.set(SETTINGS.certificate, res.certificate);
    o.store.settings.set(SETTINGS.serverPublicKey, res.serverPublicKey);
    // The X25519 key opens templates from the feed: sealed under the terminal's data key when one is given.
    o.store.settings.set(SETTINGS.encKey, o.sealer ? { sealed: Buffer.from(o.sealer.seal(Buffer.from(enc.privatePkcs8b64, 'base64'), SETTINGS.encKey)).toString('base64') } : enc.privatePkcs8b64);
    o.store.settings.set(SETTINGS.serverTime, res.time);
  });
  return res.certificate;
}

export interface SyncOptions {
  store: Store;
  serverUrl: string;
  /** The terminal's key store (src/ledger/keystore.ts): gives the signer, the sealer and the terminal id. */
  keys?: { terminalId: string; signer: Signer; sealer: Sealer };
  /** Or the signer alone (with terminalId or a registration saved in settings). */
  signer?: Signer;
  /** Defaults to the id in the certificate saved by registerWithCentre (or the ledger's terminal id). */
  terminalId?: string;
  /** The running ledger, told of each server-signed time so the next record carries it, and of the offline limits the centre set (src/ledger/ledger.ts). */
  ledger?: { noteServerTime(st: { ms: number; ref: string }): void; setLimits?(limits: OfflineLimits): void; applyOperatorGrant?(grant: OperatorGrant): void; applyCustomerPin?(personId: string, pinHash: string, version: PinVersion | null): void; releaseLease?(voucherId: string, leaseId: string): unknown };
  sealer?: Sealer;
  batchSize?: number;
  /** How often the feed is pulled while the link is up. Default 60 s. */
  feedIntervalMs?: number;
  /** Feed older than this tightens the offline limits. Default 24 h. */
  maxFeedAgeMs?: number;
  requestTimeoutMs?: number;
  /** Plain http to a centre off this machine (`--insecure-http`). */
  insecureHttp?: boolean;
  backoff?: BackoffPolicy;
  now?: () => number;
  random?: () => number;
}

export interface SyncStatus {
  link: LinkState;
  pending: number;
  inFlight: number;
  sent: number;
  lastError: string | null;
  feed: FeedFreshness;
}

export interface SyncEvents {
  status: [s: SyncStatus];
  link: [state: LinkState, detail: string];
  progress: [p: UploadProgress];
  rejected: [items: Array<{ seq: number; status: string; reason: string }>];
  feed: [f: { events: number; cursor: number }];
  /** A committed feed page added enrolled templates or revoked people's templates (the kiosk's 1:N index follows). */
  palms: [c: PalmChanges];
  /** A palm module feature in a feed page was refused (digest, family or format) and not kept: for the log. */
  moduleFeatureRefused: [r: { personId: string; code: string; message: string }];
}

export interface Sync extends EventEmitter<SyncEvents> {
  start(): void;
  stop(): Promise<void>;
  /** A record was appended: upload it now. */
  kick(): void;
  status(): SyncStatus;
  /** Pulls the feed now (also done periodically while running). */
  pullFeed(): Promise<{ events: number }>;
  /** Resolves when the outbox is empty. */
  drained(timeoutMs?: number): Promise<void>;
  /**
   * A person's financial report for a month, from the centre now (LinkError when it cannot be reached;
   * CentreRefusal with the centre's code when it refuses). The PIN is sealed to the centre for this request only;
   * `sign` appends the signed `report_request` record to the journal (the caller's ledger) and returns it.
   */
  report(req: ReportAsk): Promise<ReportBody>;
  /** Proves a one-time operator enrolment code to the centre now (issue 14; LinkError / CentreRefusal as `report`). */
  claimOperatorCode(code: string): Promise<OperatorCodeClaimResponse>;
  /** Sends the templates of enrolments whose records the centre has, now (after `drained`): the centre then decides them. */
  templatesSent(): Promise<void>;
}

/** What the counter asks the centre for: whose report, which month, the PIN the person typed, and the record signer. */
export interface ReportAsk {
  personId: string;
  month: string;
  pin: string;
  sign: (r: { requestId: string; sealedPinDigest: string }) => SignedRecord;
}

export function createSync(opts: SyncOptions): Sync {
  const o = { ...opts, signer: opts.signer ?? opts.keys?.signer, sealer: opts.sealer ?? opts.keys?.sealer, terminalId: opts.terminalId ?? opts.keys?.terminalId };
  const signer = o.signer;
  if (!signer) throw new PalmPayError('SYNC_NO_KEY', 'createSync needs the terminal key (keys or signer)');
  const terminalId = o.terminalId ?? o.store.settings.get<string>(SETTINGS.terminalId) ?? o.store.settings.get<string>(LEDGER_SETTING.terminalId);
  if (!terminalId) throw new PalmPayError('SYNC_NOT_REGISTERED', 'this terminal is not registered with the centre: register it with a one-time code from `palmpay server terminal add`');
  const now = o.now ?? Date.now;
  // Sign requests with the centre's clock when known: an offline terminal's clock may be far off.
  let skew = 0;
  const serverNow = () => now() + skew;
  const serverPublicKey = o.store.settings.get<string>(SETTINGS.serverPublicKey);
  const client = new CentreClient({ baseUrl: o.serverUrl, credentials: { terminalId, sign: (m) => signer.sign(m) }, now: serverNow, timeoutMs: o.requestTimeoutMs, serverPublicKey, insecureHttp: o.insecureHttp });
  const uploader = new Uploader({ outbox: o.store.outbox, client, batchSize: o.batchSize, backoff: o.backoff, now, random: o.random });
  const em = new EventEmitter<SyncEvents>() as Sync;
  let sent = 0;
  let lastError: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let pulling: Promise<{ events: number }> | undefined;
  let sendingTemplates: Promise<void> | undefined;
  // Enrolments' templates follow their records (templates.ts): then the centre confirms, and the feed brings the person.
  const sendTemplates = () =>
    o.sealer
      ? (sendingTemplates ??= uploadEnrolmentTemplates({ store: o.store, client, sealer: o.sealer })
          .then((n) => (n > 0 ? em.pullFeed().then(() => undefined) : undefined))
          .catch((err: Error) => void (lastError = err.message))
          .finally(() => (sendingTemplates = undefined)))
      : undefined;

  const status = (): SyncStatus => {
    const s = uploader.stats();
    return { link: uploader.linkState, pending: s.pending, inFlight: s.inFlight, sent, lastError, feed: feedFreshness(o.store.settings.get<number>(SETTINGS.feedAt), serverNow(), o.maxFeedAgeMs ?? 86_400_000) };
  };
  uploader.on('link', (state, detail) => {
    if (state === 'down') lastError = detail;
    em.emit('link', state, detail);
    em.emit('status', status());
    if (state === 'up') void em.pullFeed().catch(() => undefined);
  });
  uploader.on('progress', (p) => {
    sent = p.sent;
    void sendTemplates();
    em.emit('progress', p);
    em.emit('status', status());
    // Records went up: a template update's capture can follow now, not at the next periodic pull.
    if (o.sealer && pendingCaptures(o.store).length > 0) void em.pullFeed().catch(() => undefined);
  });
  uploader.on('rejected', (items) => {
    lastError = `${items.length} record(s) refused: ${items[0]?.reason ?? ''}`;
    em.emit('rejected', items);
  });
  uploader.on('error', (err) => {
    lastError = err.message;
    em.emit('status', status());
  });

  em.pullFeed = () =>
    (pulling ??= (async () => {
      try {
        const onLimits = o.ledger?.setLimits ? (l: OfflineLimits) => o.ledger!.setLimits!(l) : undefined;
        const onOperatorGrant = o.ledger?.applyOperatorGrant ? (g: OperatorGrant) => o.ledger!.applyOperatorGrant!(g) : undefined;
        const onCustomerPin = o.ledger?.applyCustomerPin ? (personId: string, pinHash: string, version: PinVersion | null) => o.ledger!.applyCustomerPin!(personId, pinHash, version) : undefined;
        let released = 0;
        const onLeaseWithdrawn = o.ledger?.releaseLease ? (voucherId: string, leaseId: string) => void (o.ledger!.releaseLease!(voucherId, leaseId) && released++) : undefined;
        // Template update captures first (their records went up with the outbox): the centre's decision then
        // comes down in this very pull when it applied one.
        if (o.sealer) await sendCaptures({ store: o.store, client, sealer: o.sealer }).catch((err: Error) => void (lastError = `template update captures: ${err.message}`));
        const r = await pullFeed({ store: o.store, client, terminalId, sealer: o.sealer, now, onLimits, onOperatorGrant, onCustomerPin, onLeaseWithdrawn, onPalms: (c) => em.emit('palms', c), onModuleFeatureRefused: (personId, code, message) => em.emit('moduleFeatureRefused', { personId, code, message }) }, (p) => em.emit('feed', p));
        uploader.noteReachable();
        if (released > 0) uploader.kick(); // a lease given back: the target counter is waiting for it
        if (r.time) {
          skew = r.time.ms - now();
          o.ledger?.noteServerTime({ ms: r.time.ms, ref: r.time.sig });
        }
        return { events: r.events };
      } finally {
        pulling = undefined;
        em.emit('status', status());
      }
    })());
  em.start = () => {
    uploader.start();
    const tick = () => {
      void sendTemplates();
      void em.pullFeed().catch((err: Error) => void (lastError = err.message));
    };
    tick();
    timer = setInterval(tick, o.feedIntervalMs ?? 60_000);
    timer.unref();
  };
  em.stop = async () => {
    if (timer) clearInterval(timer);
    await uploader.stop();
    await sendingTemplates;
    await pulling?.catch(() => undefined);
  };
  em.kick = () => uploader.kick();
  em.status = status;
  em.drained = (t) => uploader.drained(t);
  em.claimOperatorCode = (code) => client.claimOperatorCode(code);
  em.templatesSent = async () => {
    await sendingTemplates;
    if (o.sealer) await uploadEnrolmentTemplates({ store: o.store, client, sealer: o.sealer });
  };
  let reportPinKey: string | undefined;
  em.report = async ({ personId, month, pin, sign }) => {
    const pinned = o.store.settings.get<string>(SETTINGS.serverPublicKey);
    // The key the PIN is sealed to is believed only under the centre key pinned at registration.
    reportPinKey ??= verifyReportPinKey(pinned, await client.reportPinKey());
    const requestId = randomUUID();
    const sealedPin = sealReportPin(reportPinKey, { terminalId, requestId, personId, month }, pin);
    const record = sign({ requestId, sealedPinDigest: sealedPinDigest(sealedPin) });
    const { response, request } = await client.report(personId, { record, sealedPin });
    const r = ReportResponse.safeParse(response);
    if (!r.success) throw new PalmPayError('REPORT_MALFORMED', 'the centre’s report is not in the expected form');
    // Believed only when the pinned centre key signed it for this terminal, in answer to this very request.
    const { proof, ...body } = r.data;
    verifyReport(pinned, body, proof, { terminalId, request });
    return body;
  };
  return em;
}
