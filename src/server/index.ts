// Entry point of the central server: `startServer({db, port, host, tls})` → {url, close()}.
// Plain http only on loopback (behind a TLS reverse proxy, or tests), unless the operator explicitly says
// `insecureHttp`; any other address needs native TLS.
import { isIP } from 'node:net';
import type { Logger } from '../util/log.ts';
import { PalmPayError } from '../util/errors.ts';
import { buildApp, REDACT, type TlsMaterial } from './http.ts';
import { Central, type CentralOptions } from './service.ts';

export { Central, ServerError } from './service.ts';
export type { RecordResult, RecordStatus } from '../protocol/schemas.ts';

export interface StartServerOptions extends CentralOptions {
  /** `sqlite:FILE` (default embedded store), `postgres://…`, or an already open Central. */
  db: string | Central;
  port?: number;
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `tls`, or `insecureHttp`. */
  host?: string;
  /** Native TLS (PEM); without it the server speaks plain http. */
  tls?: TlsMaterial;
  /** Allow plain http on a non-loopback address (a private link you trust); refused otherwise. */
  insecureHttp?: boolean;
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; nobody else's is believed. */
  trustProxy?: string[];
  log?: Logger;
  /** Uploads this process works on at once (the rest queue, so reads are not starved); default DEFAULT_UPLOAD_SLOTS. */
  uploadSlots?: number;
  /** Uploads that may wait for a slot; past them an upload is answered 503 CENTRE_BUSY; default DEFAULT_UPLOAD_QUEUE. */
  uploadQueue?: number;
  /** Longest wait for requests in flight at shutdown before connections are cut. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  central: Central;
  /** Stops accepting, finishes in-flight requests, then closes the database (if it opened it). */
  close(): Promise<void>;
}

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!opts.tls && !opts.insecureHttp && !isLoopback(host)) {
    throw new PalmPayError('SERVER_INSECURE', `plain http on ${host} would expose terminals' traffic: give a TLS certificate and key (--tls-cert, --tls-key), put a TLS reverse proxy in front and bind 127.0.0.1, or say --insecure-http`);
  }
  const trustProxy = checkTrustProxy(opts.trustProxy ?? []);
  const ownsCentral = typeof opts.db === 'string';
  const { default: pino } = await import('pino');
  const log = opts.log ?? pino({ level: process.env.PALMPAY_LOG_LEVEL ?? 'warn', redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination({ fd: 2, sync: false }));
  // A pooled connection that fails while idle is replaced by the pool; it is logged here and counted in /metrics.
  const onPoolError = (err: Error) => log.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database pool: idle connection failed');
  const central = typeof opts.db === 'string' ? await Central.open(opts.db, { ...opts, storage: { onPoolError, ...opts.storage } }) : opts.db;
  // The palm index loads in the background; /ready answers 503 until it has.
  void central.startIndex().catch((err: unknown) => log.error({ err: { message: (err as Error).message } }, 'palm index: load failed'));
  const app = buildApp(central, log, { tls: opts.tls, trustProxy, ...(opts.uploadSlots ? { uploadSlots: opts.uploadSlots } : {}), ...(opts.uploadQueue !== undefined ? { uploadQueue: opts.uploadQueue } : {}) });
  try {
    await app.listen({ port: opts.port ?? 0, host });
  } catch (err) {
    if (ownsCentral) await central.close();
    throw new PalmPayError('SERVER_LISTEN', `cannot listen on ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    central,
    close: () =>
      (closing ??= (async () => {
        // Keep-alive connections that finish their request while we close would otherwise linger for the
        // keep-alive timeout: close each as soon as it is idle, and everything after a grace period.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 25);
        const deadline = setTimeout(() => app.server.closeAllConnections(), opts.shutdownGraceMs ?? 10_000);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(deadline);
        }
        if (ownsCentral) await central.close();
      })()),
  };
}

/** Loopback addresses: plain http there never leaves the machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The proxies whose X-Forwarded-For is believed (the registration throttle counts per client address). A list
 * that takes in every sender would let any caller choose its own address, so a catch-all range is refused.
 */
export function checkTrustProxy(list: string[]): string[] {
  for (const entry of list) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32) || (bits !== undefined && !/^\d+$/.test(bits))) {
      throw new PalmPayError('BAD_ARGUMENT', `--trust-proxy: "${entry}" is not an address or CIDR range of a reverse proxy`);
    }
    if (prefix < (family === 6 ? 64 : 8)) {
      throw new PalmPayError('BAD_ARGUMENT', `--trust-proxy: "${entry}" would believe X-Forwarded-For from almost anyone; name the proxy's own address`);
    }
  }
  return list;
}
