// The centre's HTTP layer (Fastify): routes, request validation, terminal authentication, health and metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { z } from 'zod';
import type { Logger } from '../util/log.ts';
import { PalmPayError } from '../util/errors.ts';
import { ServerError, type Central } from './service.ts';
import { serverMetrics } from './metrics.ts';
import {
  BODY_LIMIT, ErrorResponse, FeedQuery, FeedResponse, HealthResponse, jsonSchema, PersonParams, RegisterRequest, RegisterResponse,
  StatementResponse, TemplatesRequest, TemplatesResponse, UploadRequest, UploadResponse,
} from '../protocol/schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** Paths whose values never reach the log: names, ID numbers, phones, templates, keys. */
export const REDACT = [
  'req.headers.authorization', '*.name', '*.idNumber', '*.phone', '*.templates', '*.person', '*.code',
  '*.*.name', '*.*.idNumber', '*.*.phone', '*.*.templates',
];

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const detail = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ServerError('BAD_REQUEST', `malformed ${what}: ${detail}`, 400);
  }
  return r.data;
}

export function buildApp(central: Central, log: Logger): FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger> {
  const app = Fastify({ loggerInstance: log, bodyLimit: BODY_LIMIT, return503OnClosing: true });
  const metrics = serverMetrics(central);

  // Keep the raw bytes: terminal requests are signed over the exact body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    (req as FastifyRequest).rawBody = body as Buffer;
    try {
      done(null, (body as Buffer).length ? JSON.parse((body as Buffer).toString('utf8')) : undefined);
    } catch {
      done(new ServerError('MALFORMED_JSON', 'request body is not valid JSON', 400), undefined);
    }
  });

  app.addHook('onRequest', async () => void metrics.inFlight.inc());
  app.addHook('onResponse', async (req, reply) => {
    metrics.inFlight.dec();
    metrics.responses.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
    if (reply.statusCode >= 400) req.log.info({ url: req.routeOptions.url, status: reply.statusCode }, 'request refused');
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ServerError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (err instanceof PalmPayError) return reply.code(422).send({ error: { code: err.code, message: err.message } });
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: { code: 'BODY_TOO_LARGE', message: `request body exceeds ${BODY_LIMIT} bytes` } });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message: e.message ?? 'bad request' } });
    req.log.error({ err }, 'internal error');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal server error' } });
  });

  const errors = { 400: jsonSchema(ErrorResponse), 401: jsonSchema(ErrorResponse), 403: jsonSchema(ErrorResponse) };
  const auth = (req: FastifyRequest) => central.authenticate(req.headers.authorization, req.method, req.url, req.rawBody ?? Buffer.alloc(0));

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

  app.get('/v1/time', async () => central.signedTime());

  app.post('/v1/register', { schema: { response: { 200: jsonSchema(RegisterResponse), ...errors } } }, async (req) => {
    const body = parse(RegisterRequest, req.body, 'registration');
    return central.registerTerminal(body);
  });

  app.post('/v1/records', { schema: { response: { 200: jsonSchema(UploadResponse), ...errors } } }, async (req) => {
    const body = parse(UploadRequest, req.body, 'upload');
    const t = await auth(req);
    const results = await central.ingest(t.id, body.records);
    return { results, time: central.signedTime() };
  });

  app.put('/v1/enrolments/:personId/templates', { schema: { response: { 200: jsonSchema(TemplatesResponse), ...errors } } }, async (req) => {
    const { personId } = parse(PersonParams, req.params, 'path');
    const body = parse(TemplatesRequest, req.body, 'templates');
    const t = await auth(req);
    return central.uploadTemplates(t, personId, body.templates);
  });

  app.get('/v1/feed', { schema: { response: { 200: jsonSchema(FeedResponse), ...errors } } }, async (req) => {
    const q = parse(FeedQuery, req.query, 'feed query');
    const t = await auth(req);
    return central.feed(t, q.cursor, q.limit);
  });

  // A person's statement, for the counter (an employee asks for past payouts). Terminals only.
  app.get('/v1/statements/:personId', { schema: { response: { 200: jsonSchema(StatementResponse), ...errors } } }, async (req) => {
    const { personId } = parse(PersonParams, req.params, 'path');
    await auth(req);
    return central.statement(personId);
  });

  return app;
}
