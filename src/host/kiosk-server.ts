// Browser-kiosk mode: serves the built renderer and the API (JSON over WebSocket) on 127.0.0.1 only.
// What protects the API: loopback-only listening, a random per-start token (timing-safe compare) required
// on the socket upgrade, Host-header check (DNS rebinding), Origin check (other sites' pages), a size cap
// and a schema check on every message, and the dispatcher's per-call input validation.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, WireRequest, type WireMessage } from '../api/index.ts';
import { PalmPayError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp.ts';
import type { Dispatch } from './dispatch.ts';
import type { EventHub } from './event-hub.ts';

export const LOOPBACK = '127.0.0.1';
export const API_PATH = '/api';

export interface KioskServerOptions {
  dispatch: Dispatch;
  events: EventHub;
  /** Folder holding the built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  log: Logger;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
}

export interface KioskServer {
  port: number;
  token: string;
  /** Origin without the token, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** What to open: the origin with the token in the fragment (never sent to the server or in a Referer). */
  url: string;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function startKioskServer(opts: KioskServerOptions): Promise<KioskServer> {
  if (!existsSync(join(opts.rendererDir, 'index.html'))) {
    throw new PalmPayError('RENDERER_NOT_BUILT', `the renderer is not built (${opts.rendererDir}); run: npm run build`);
  }
  const token = opts.token ?? newToken();
  const tokenBytes = Buffer.from(token);
  let origin = ''; // known once listening
  let hostHeader = '';

  // The API socket's URL carries the token in its query: a logged request (Fastify logs one with a 5xx) shows only
  // the path.
  const log = opts.log.child({ part: 'kiosk' }, { serializers: { req: (req: { method?: string; url?: string }) => ({ method: req.method, path: req.url?.split('?')[0] }) } });
  const app = Fastify({ loggerInstance: log, logController: new LogController({ disableRequestLogging: true }), bodyLimit: MAX_MESSAGE_BYTES });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Content-Security-Policy', contentSecurityPolicy({ connectSrc: [`ws://${hostHeader}`] }));
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return payload;
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_MESSAGE_BYTES } });
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 would send Host: evil.example.
  // Registered AFTER the websocket plugin: its onRequest hook must first mark an upgrade request as such, so that
  // its onResponse hook destroys the socket of a refused upgrade (otherwise each refusal left a CLOSE-WAIT socket
  // behind, and close() — SIGTERM — waited for them forever).
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.host !== hostHeader && req.headers.host !== hostHeader.replace(LOOPBACK, 'localhost')) {
      if (req.headers.upgrade) reply.header('connection', 'close');
      return reply.code(421).type('text/plain').send('misdirected request');
    }
  });
  await app.register(fastifyStatic, { root: opts.rendererDir, prefix: '/', index: 'index.html', cacheControl: false, dotfiles: 'deny' });

  const authorised = (supplied: unknown): boolean => {
    if (typeof supplied !== 'string') return false;
    const bytes = Buffer.from(supplied);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };

  app.get(
    API_PATH,
    {
      websocket: true,
      preValidation: async (req, reply) => {
        const query = req.query as Record<string, unknown>;
        if (!authorised(query.token)) {
          opts.log.warn({ part: 'kiosk', ip: req.ip }, 'API connection refused: wrong or missing token');
          return reply.code(401).type('text/plain').send('unauthorised');
        }
        const from = req.headers.origin;
        if (from !== undefined && from !== origin && from !== origin.replace(LOOPBACK, 'localhost')) {
          opts.log.warn({ part: 'kiosk', origin: from }, 'API connection refused: foreign origin');
          return reply.code(403).type('text/plain').send('forbidden origin');
        }
      },
    },
    (socket) => serveSocket(socket, opts),
  );

  try {
    await app.listen({ host: LOOPBACK, port: opts.port });
  } catch (err) {
    await app.close().catch(() => {});
    throw listenError(err, opts.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  hostHeader = `${LOOPBACK}:${port}`;
  origin = `http://${hostHeader}`;
  return {
    port,
    token,
    origin,
    url: `${origin}/#token=${token}`,
    close: () => app.close(),
  };
}

/** One renderer connection: requests in, results and events out. */
function serveSocket(socket: WebSocket, opts: KioskServerOptions): void {
  const send = (message: WireMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const unsubscribe = opts.events.subscribe((event) => send({ kind: 'event', event }));
  socket.on('close', unsubscribe);
  socket.on('message', (data, isBinary) => {
    let request: WireRequest;
    try {
      if (isBinary) throw new Error('binary frame');
      request = WireRequest.parse(JSON.parse(data.toString()));
    } catch {
      // A genuine renderer never sends this: treat it as hostile and hang up.
      opts.log.warn({ part: 'kiosk' }, 'malformed API message; closing the connection');
      socket.close(1008, 'malformed message');
      return;
    }
    void opts.dispatch(request.call, request.input).then((result) => send({ kind: 'result', id: request.id, result }));
  });
}

function listenError(err: unknown, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new PalmPayError('PORT_IN_USE', `port ${port} on ${LOOPBACK} is already in use; choose another with --port N (0 picks a free one)`, { cause: err });
  }
  if (code === 'EACCES') {
    return new PalmPayError('PORT_DENIED', `not allowed to listen on port ${port}; choose a port above 1023 with --port N`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
