// The centre's HTTP layer (Fastify): routes, request validation, terminal authentication, health and metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import pLimit from 'p-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory, type RawServerDefault } from 'fastify';
import type { z } from 'zod';
import type { Logger } from '../util/log.ts';
import { PalmPayError } from '../util/errors.ts';
import { ServerError, type Central } from './service.ts';
import type { TerminalRow } from './repo.ts';
import type { AuthOptions } from './central/terminals.ts';
import { parseAuthorization } from '../protocol/crypto.ts';
import { serverMetrics } from './metrics.ts';
import { ReportPinKey } from '../protocol/report-pin.ts';
import {
  BODY_LIMIT, ErrorResponse, FeedQuery, FeedResponse, HealthResponse, jsonSchema, PersonParams, UpdateParams, CaptureRequest, CaptureResponse, RegisterRequest, RegisterResponse,
  ReportResponse, TemplatesRequest, TemplatesResponse, TimeQuery, TimeResponse, UploadRequest, UploadResponse,
  OperatorCodeClaimRequest, OperatorCodeClaimResponse,
} from '../protocol/schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    /** The terminal whose key signed this request's header, checked before its body was read (`signedHeader`). */
    checkedTerminal?: TerminalRow;
  }
}

export { REGISTER_FAILURES_PER_MINUTE } from './central/terminals.ts';

/** Paths whose values never reach the log: names, ID numbers, phones, templates, palm module features, keys. */
export const REDACT = [
  'req.headers.authorization', '*.name', '*.idNumber', '*.phone', '*.templates', 'moduleFeature', '*.moduleFeature', '*.person', '*.code',
  '*.*.name', '*.*.idNumber', '*.*.phone', '*.*.templates', '*.*.moduleFeature',
];

/** The request's JSON body (undefined when empty); MALFORMED_JSON when it is not JSON. */
function jsonBody(req: FastifyRequest): unknown {
  const raw = req.rawBody;
  if (!raw?.length) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ServerError('MALFORMED_JSON', 'request body is not valid JSON', 400);
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const detail = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ServerError('BAD_REQUEST', `malformed ${what}: ${detail}`, 400);
  }
  return r.data;
}

/** PEM certificate chain and private key for native TLS (or leave TLS to a reverse proxy in front). */
export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
}

function httpsFactory(tls: TlsMaterial): FastifyServerFactory<RawServerDefault> {
  return (handler) => createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler);
}

/** Uploads one server process works on at once (`--upload-slots`); the rest wait their turn without using CPU. */
export const DEFAULT_UPLOAD_SLOTS = 2;
/** Uploads that may wait for a slot (`--upload-queue`); beyond them a terminal is told to come back later. */
export const DEFAULT_UPLOAD_QUEUE = 128;
/** Seconds a terminal turned away by a full upload queue is asked to wait (its outbox backs off on any 5xx). */
const BUSY_RETRY_AFTER_S = 5;

/**
 * Bodies read or waiting at once per terminal (an honest counter sends one or two). Only a request its key signed
 * gets a body read (`signedHeader`), so this bounds what one terminal's key, stolen, can make the centre hold
 * (DEFAULT_UPLOAD_QUEUE bounds them all); past it, 503 before the body is read, which a counter retries like a dead
 * link (src/sync/client.ts).
 */
export const BODIES_PER_TERMINAL = 4;

export function buildApp(central: Central, log: Logger, opts: { tls?: TlsMaterial; trustProxy?: string[]; uploadSlots?: number; uploadQueue?: number } = {}): FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger> {
  const { tls } = opts;
  // Uploads are batch work, CPU-bound in this process (signatures, checks) and holding row locks while they wait for
  // it; reads (feed, time, reports) are what a counter waits on. With every upload in flight interleaved on one event
  // loop, a read queued behind all of them (seconds on payroll day). A few at a time keeps the loop's queue short and
  // the database's transactions short, at the same throughput: the rest wait here, before any work is spent on them.
  const slots = opts.uploadSlots ?? DEFAULT_UPLOAD_SLOTS;
  const uploads = pLimit(slots);
  // Every upload admitted holds its body (up to BODY_LIMIT) in memory from before the gate to its answer, so the
  // queue has a bound: past it, an upload is turned away before its body is read, and the terminal's outbox keeps
  // the records and sends them again later. Without it, a burst (or one terminal's stolen key) grows memory unbounded.
  const admission = { admitted: 0, max: slots + (opts.uploadQueue ?? DEFAULT_UPLOAD_QUEUE), refused: 0 };
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // req.ip is the client named by X-Forwarded-For only when the request comes from a listed proxy (index.ts).
    trustProxy: opts.trustProxy?.length ? opts.trustProxy : false,
    // https.Server is an http.Server to Fastify: one app, served plain (loopback, or behind a proxy) or over TLS.
    ...(tls ? { serverFactory: httpsFactory(tls) } : {}),
  });
  const metrics = serverMetrics(central, { get activeCount() { return uploads.activeCount; }, get pendingCount() { return uploads.pendingCount; }, get refusedCount() { return admission.refused; } });

  // Keep the raw bytes: terminal requests are signed over the exact body. The JSON is parsed only once the
  // signature holds (jsonBody), so a malformed body tells nobody whether the terminal id it names exists.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    (req as FastifyRequest).rawBody = body as Buffer;
    done(null, undefined);
  });

  app.addHook('onRequest', async () => void metrics.inFlight.inc());
  app.addHook('onResponse', async (req, reply) => {
    metrics.inFlight.dec();
    metrics.responses.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
    if (reply.statusCode >= 400) req.log.info({ url: req.routeOptions.url, status: reply.statusCode }, 'request refused');
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ServerError) return reply.code(err.status).send({ error: { code: err.code, message: err.message, ...(err.attemptsLeft !== undefined ? { attemptsLeft: err.attemptsLeft } : {}) } });
    if (err instanceof PalmPayError) return reply.code(422).send({ error: { code: err.code, message: err.message } });
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: { code: 'BODY_TOO_LARGE', message: `request body exceeds ${BODY_LIMIT} bytes` } });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message: e.message ?? 'bad request' } });
    req.log.error({ err }, 'internal error');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal server error' } });
  });

  const errors = { 400: jsonSchema(ErrorResponse), 401: jsonSchema(ErrorResponse), 403: jsonSchema(ErrorResponse), 404: jsonSchema(ErrorResponse), 411: jsonSchema(ErrorResponse), 413: jsonSchema(ErrorResponse), 503: jsonSchema(ErrorResponse) };
  const auth = (req: FastifyRequest, opts?: AuthOptions) =>
    central.authenticate(req.headers.authorization, req.method, req.url, req.rawBody ?? Buffer.alloc(0), { ...opts, ...(req.checkedTerminal ? { checked: req.checkedTerminal } : {}) });

  app.get('/health', { schema: { response: { 200: jsonSchema(HealthResponse) } } }, async () => ({
    status: 'ok' as const,
    storage: central.repo.db.dialect,
    serverPublicKey: central.identity.publicKeyHex,
    time: central.signedTime(),
  }));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  // Readiness (for a load balancer): the database answers and this process's palm index is loaded. /health is liveness.
  app.get('/ready', async (_req, reply) => {
    const index = central.palmIndex.stats();
    try {
      await central.repo.tx((r) => r.getMeta('schema_version'));
    } catch {
      return reply.code(503).send({ ready: false, reason: 'database unreachable' });
    }
    if (index.loadSeconds === null) return reply.code(503).send({ ready: false, reason: 'palm index loading' });
    return { ready: true, indexEntries: index.entries };
  });

  app.get('/v1/time', { schema: { response: { 200: jsonSchema(TimeResponse), ...errors } } }, async (req) => {
    const { nonce } = parse(TimeQuery, req.query, 'time query');
    return nonce ? { ...central.signedTime(), bound: central.boundTime(nonce) } : central.signedTime();
  });

  // Registration guessing is throttled per address, counted in the database (central/terminals.ts): every
  // `--workers` process and a restarted one share the count.
  app.post('/v1/register', { bodyLimit: 4096, schema: { response: { 200: jsonSchema(RegisterResponse), ...errors, 429: jsonSchema(ErrorResponse) } } }, async (req) => {
    await central.assertRegistrationAllowed(req.ip);
    try {
      const body = parse(RegisterRequest, jsonBody(req), 'registration');
      return await central.registerTerminal(body);
    } catch (err) {
      await central.noteRegistrationFailure(req.ip);
      throw err;
    }
  });

  // A body is read only for a request the terminal's key signed: the header states the body's hash, and its
  // signature, time and nonce are checked before the body is read (Terminals.checkHeader); anyone else is refused
  // before up to BODY_LIMIT bytes are buffered. Its size is judged from Content-Length first, for every caller
  // alike, so a too-large body does not tell a known terminal id from an unknown one.
  const signedHeader = async (req: FastifyRequest, reply: FastifyReply) => {
    const length = req.headers['content-length'];
    if (length === undefined) throw new ServerError('LENGTH_REQUIRED', 'a terminal request with a body states its Content-Length', 411);
    if (Number(length) > BODY_LIMIT) throw new ServerError('BODY_TOO_LARGE', `request body exceeds ${BODY_LIMIT} bytes`, 413);
    req.checkedTerminal = await central.checkRequestHeader(req.headers.authorization, req.method, req.url);
    admitBody(req.checkedTerminal.id, reply);
  };

  // The bodies being read or waiting per terminal id (BODIES_PER_TERMINAL); each is let go when its response is sent
  // or its connection closes ('close' comes once either way).
  const bodiesOf = new Map<string, number>();
  const admitBody = (terminalId: string, reply: FastifyReply) => {
    const held = bodiesOf.get(terminalId) ?? 0;
    if (held >= BODIES_PER_TERMINAL) {
      void reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
      throw new ServerError('TERMINAL_BUSY', `${BODIES_PER_TERMINAL} requests of terminal ${terminalId} are already in progress: send again when they are answered`, 503);
    }
    bodiesOf.set(terminalId, held + 1);
    reply.raw.once('close', () => {
      const left = (bodiesOf.get(terminalId) ?? 1) - 1;
      if (left > 0) bodiesOf.set(terminalId, left);
      else bodiesOf.delete(terminalId);
    });
  };

  const admit = async (req: FastifyRequest, reply: FastifyReply) => {
    if (admission.admitted >= admission.max) {
      admission.refused++;
      void reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
      throw new ServerError('CENTRE_BUSY', `the centre is working on ${admission.admitted} uploads already: send again in ${BUSY_RETRY_AFTER_S} s`, 503);
    }
    admission.admitted++;
    // 'close' comes once whether the answer was sent or the terminal went away mid-request.
    reply.raw.once('close', () => void admission.admitted--);
  };

  app.post('/v1/records', { onRequest: [admit, signedHeader], schema: { response: { 200: jsonSchema(UploadResponse), ...errors } } }, (req) =>
    uploads(async () => {
      // The row the header check read: the batch's transaction re-reads it under its lock (uploads.ts).
      const t = await auth(req);
      const body = parse(UploadRequest, jsonBody(req), 'upload');
      const results = await central.ingest(t.id, body.records, t);
      return { results, time: central.signedTime() };
    }),
  );

  app.put('/v1/enrolments/:personId/templates', { onRequest: [admit, signedHeader], schema: { response: { 200: jsonSchema(TemplatesResponse), ...errors } } }, (req) =>
    uploads(async () => {
      const { personId } = parse(PersonParams, req.params, 'path');
      const t = await auth(req);
      const body = parse(TemplatesRequest, jsonBody(req), 'templates');
      return central.uploadTemplates(t, personId, body.templates, body.moduleFeature);
    }),
  );

  // Issue 19: the capture of a template update this terminal signed; the centre re-decides it (template-slots.ts).
  app.put('/v1/template-updates/:updateId/capture', { onRequest: signedHeader, schema: { response: { 200: jsonSchema(CaptureResponse), ...errors } } }, async (req) => {
    const { updateId } = parse(UpdateParams, req.params, 'path');
    const t = await auth(req);
    const body = parse(CaptureRequest, jsonBody(req), 'capture');
    const out = await central.uploadTemplateCapture(t, updateId, body.capture);
    return out.status === 'refused' ? { status: out.status, reason: out.reason } : { status: out.status };
  });

  // Issue 14: a counter proves a one-time operator enrolment code (operator-codes.ts) before it captures that
  // operator's palm with nobody signed in; failed claims are throttled per terminal (central/terminals.ts).
  app.post('/v1/operator-codes/claim', { onRequest: signedHeader, bodyLimit: 4096, schema: { response: { 200: jsonSchema(OperatorCodeClaimResponse), ...errors, 409: jsonSchema(ErrorResponse), 429: jsonSchema(ErrorResponse) } } }, async (req) => {
    const t = await auth(req);
    const body = parse(OperatorCodeClaimRequest, jsonBody(req), 'operator code claim');
    return central.claimOperatorCode(t, body.code);
  });

  app.get('/v1/feed', { schema: { response: { 200: jsonSchema(FeedResponse), ...errors } } }, async (req) => {
    const q = parse(FeedQuery, req.query, 'feed query');
    const t = await auth(req, { read: true });
    // The page is signed together with this request's signature: it answers this request and no other.
    return central.feed(t, q.cursor, q.limit, parseAuthorization(req.headers.authorization)?.sig ?? '');
  });

  // No statement route for terminals: a terminal could only name the person by a typed id, and a statement is for
  // the person present. The counter builds it from its own journal after the palm; the admin uses the CLI.

  // The key counters seal a person's PIN to for a report request, signed by the centre key they pinned.
  app.get('/v1/report-pin-key', { schema: { response: { 200: jsonSchema(ReportPinKey) } } }, async () => central.reports.pinKey());

  // A person's financial report for a month, for the counter (issue 17): the body is the signed report_request and
  // the PIN sealed to the centre; the centre checks the signature, the request id (once), the region, the PIN
  // (attempts, lockout) and the terminal's rate before it answers (report/access.ts).
  app.post('/v1/reports/:personId', { onRequest: signedHeader, bodyLimit: 16 * 1024, schema: { response: { 200: jsonSchema(ReportResponse), ...errors, 409: jsonSchema(ErrorResponse), 423: jsonSchema(ErrorResponse), 429: jsonSchema(ErrorResponse) } } }, async (req) => {
    const { personId } = parse(PersonParams, req.params, 'path');
    const t = await auth(req);
    return central.counterReport(t, personId, jsonBody(req), parseAuthorization(req.headers.authorization)?.sig ?? '');
  });

  return app;
}
