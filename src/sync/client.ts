// HTTP client of a terminal towards the centre: every request signed with the terminal key, every call bounded
// by a timeout, every failure typed (network vs refusal) so the uploader can tell a dead link from a bad record.
import { randomBytes } from 'node:crypto';
import { authorizationHeader } from '../protocol/crypto.ts';
import { verifyBoundTime, type BoundTime } from '../protocol/feed-page.ts';
import { OperatorCodeClaimResponse, type FeedResponse, type RegisterResponse, type ReportRequest, type UploadResponse } from '../protocol/schemas.ts';
import { PalmPayError } from '../util/errors.ts';

/** The link failed: no answer, a reset, a timeout, or a 5xx. Retry later. */
export class LinkError extends PalmPayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SYNC_LINK', message, options);
  }
}
/** The centre answered and refused (4xx): retrying the same request will not help. */
export class CentreRefusal extends PalmPayError {
  /** `attemptsLeft`: with REPORT_PIN_WRONG, the person's tries left at the centre. */
  constructor(readonly status: number, readonly remoteCode: string, message: string, readonly attemptsLeft?: number) {
    super('SYNC_REFUSED', `centre refused (${status} ${remoteCode}): ${message}`);
  }
}

export interface Credentials {
  terminalId: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface CentreClientOptions {
  baseUrl: string;
  credentials?: Credentials;
  timeoutMs?: number;
  /** The terminal's best idea of the time (server-corrected); signs requests. */
  now?: () => number;
  /** The centre key pinned at registration: a clock correction is believed only when signed with it. */
  serverPublicKey?: string;
  /** Plain http to a centre off this machine, because the technician said so (`--insecure-http`; shown on screen). */
  insecureHttp?: boolean;
}

/** Plain http only on this machine (the embedded centre, tests); anything that crosses a network needs https. */
export function checkCentreUrl(baseUrl: string, insecureHttp = false): URL {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new PalmPayError('SYNC_URL_INVALID', `not a URL: ${baseUrl}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
  if (u.protocol === 'https:' || (u.protocol === 'http:' && (loopback || insecureHttp))) return u;
  throw new PalmPayError('SYNC_INSECURE_URL', `the centre must be reached over https (plain http only on loopback): ${u.protocol}//${u.host}`);
}

export class CentreClient {
  /** Learnt offset of the centre's clock; requests are stamped with it (a terminal's clock may be days off). */
  private skewMs = 0;

  constructor(private readonly o: CentreClientOptions) {
    checkCentreUrl(o.baseUrl, o.insecureHttp);
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, signed = true, onSigned?: (sig: string) => void): Promise<T> {
    try {
      return await this.callOnce<T>(method, path, body, signed, onSigned);
    } catch (err) {
      // Refused for clock skew: ask the centre's time with a fresh nonce, believe it only if it is signed together
      // with that nonce by the pinned centre key (an unsigned or replayed time could move the clock anywhere).
      if (!(err instanceof CentreRefusal) || err.remoteCode !== 'AUTH_CLOCK' || !this.o.serverPublicKey) throw err;
      const nonce = randomBytes(16).toString('hex');
      const t = await this.callOnce<{ bound?: BoundTime }>('GET', `/v1/time?nonce=${nonce}`, undefined, false);
      if (!t.bound || !verifyBoundTime(this.o.serverPublicKey, t.bound, nonce)) throw new PalmPayError('SYNC_TIME_FORGED', 'the centre’s time is not signed with the pinned centre key for this request');
      this.skewMs = t.bound.ms - (this.o.now ?? Date.now)();
      return this.callOnce<T>(method, path, body, signed, onSigned);
    }
  }

  private async callOnce<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, signed = true, onSigned?: (sig: string) => void): Promise<T> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (signed) {
      const c = this.o.credentials;
      if (!c) throw new PalmPayError('SYNC_NOT_REGISTERED', 'this terminal is not registered with the centre');
      headers.authorization = authorizationHeader(c.terminalId, Math.trunc((this.o.now ?? Date.now)() + this.skewMs), (m) => c.sign(m), method, path, payload);
      onSigned?.(headers.authorization.slice(headers.authorization.lastIndexOf(':') + 1));
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL(path, this.o.baseUrl), { method, headers, body: body === undefined ? undefined : payload, signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000) });
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new LinkError(`${method} ${path}: ${e.cause?.code ?? e.name}: ${e.message}`, { cause: err });
    }
    if (res.status >= 500) throw new LinkError(`${method} ${path}: HTTP ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // A truncated body (reset mid-response) with a 200 status: treat as a link failure, the request is idempotent.
      throw new LinkError(`${method} ${path}: unreadable response (${text.length} bytes)`);
    }
    if (res.status >= 400) {
      const err = (json as { error?: { code?: string; message?: string; attemptsLeft?: unknown } }).error;
      // The link delivered this request twice (the centre takes each signed request once): a retry signs anew.
      if (err?.code === 'AUTH_REPLAYED') throw new LinkError(`${method} ${path}: the centre had already received this signed request`);
      const left = typeof err?.attemptsLeft === 'number' ? err.attemptsLeft : undefined;
      throw new CentreRefusal(res.status, err?.code ?? 'UNKNOWN', err?.message ?? text.slice(0, 200), left);
    }
    return json as T;
  }

  register(code: string, publicKey: string, encKey: string): Promise<RegisterResponse> {
    return this.call('POST', '/v1/register', { code, publicKey, encKey }, false);
  }
  /** Proves a one-time operator enrolment code (this terminal's, claimed once; asking again answers the same). */
  claimOperatorCode(code: string): Promise<OperatorCodeClaimResponse> {
    return this.call<unknown>('POST', '/v1/operator-codes/claim', { code }).then((r) => OperatorCodeClaimResponse.parse(r));
  }
  upload(records: unknown[]): Promise<UploadResponse> {
    return this.call('POST', '/v1/records', { records });
  }
  uploadTemplates(personId: string, templatesB64: string[], moduleFeature?: { family: string; feature: string }): Promise<{ status: string; duplicateOf?: string }> {
    return this.call('PUT', `/v1/enrolments/${encodeURIComponent(personId)}/templates`, { templates: templatesB64, ...(moduleFeature ? { moduleFeature } : {}) });
  }
  /** The capture of a template update this terminal signed (issue 19): the centre answers its decision. */
  uploadCapture(updateId: string, captureB64: string): Promise<{ status: 'applied' | 'refused' | 'awaiting-capture'; reason?: string }> {
    return this.call('PUT', `/v1/template-updates/${encodeURIComponent(updateId)}/capture`, { capture: captureB64 });
  }
  /** A feed page and the signature of the request it answers (the page's proof must name it). */
  async feed(cursor: number, limit = 500): Promise<FeedResponse & { request: string }> {
    let request = '';
    const page = await this.call<FeedResponse>('GET', `/v1/feed?cursor=${cursor}&limit=${limit}`, undefined, true, (sig) => (request = sig));
    return { ...page, request };
  }
  /** The key a person's PIN is sealed to for a report request, as published (the caller checks its signature). */
  reportPinKey(): Promise<unknown> {
    return this.call('GET', '/v1/report-pin-key', undefined, false);
  }
  /**
   * A person's financial report for a month: the signed `report_request` record and the PIN sealed for it
   * (protocol/report-pin.ts), and the signature of the HTTP request the report answers.
   */
  async report(personId: string, body: ReportRequest): Promise<{ response: unknown; request: string }> {
    let request = '';
    const response = await this.call<unknown>('POST', `/v1/reports/${encodeURIComponent(personId)}`, body, true, (sig) => (request = sig));
    return { response, request };
  }
  health(): Promise<{ status: string; serverPublicKey: string }> {
    return this.call('GET', '/health', undefined, false);
  }
}
