// A fault-injecting HTTP proxy on loopback, between terminals and the centre. It drops requests, delays them,
// resets connections in the middle of a response, answers 500, applies a request but loses the answer,
// delivers a request twice, and delivers a held request late (after newer ones: reordering).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../util/random.ts';

export type FaultKind = 'drop' | 'delay' | 'reset_mid_response' | 'error_500' | 'lost_response' | 'duplicate' | 'reorder';
export const FAULT_KINDS: readonly FaultKind[] = ['drop', 'delay', 'reset_mid_response', 'error_500', 'lost_response', 'duplicate', 'reorder'];

export interface FaultProxyOptions {
  /** Where the centre listens, e.g. http://127.0.0.1:8080 */
  target: string;
  /** Probability that a request suffers one fault, 0..1. */
  faultRate: number;
  kinds?: readonly FaultKind[];
  seed?: number;
  port?: number;
}

export interface FaultProxy {
  url: string;
  /** requests seen, faults injected by kind, upstream failures (centre down) */
  stats: { requests: number; upstreamDown: number; faults: Record<FaultKind, number> };
  setFaultRate(rate: number): void;
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(o.target);
  const rand = mulberry32(o.seed ?? 1);
  const kinds = o.kinds ?? FAULT_KINDS;
  let rate = o.faultRate;
  const stats = { requests: 0, upstreamDown: 0, faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number> };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const pending = new Set<Promise<unknown>>();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  const reply = (res: http.ServerResponse, u: Upstream) => {
    const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...headers } = u.headers;
    res.writeHead(u.status, { ...headers, 'content-length': u.body.length });
    res.end(u.body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void track(handle(req, res, Buffer.concat(chunks)));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    stats.requests++;
    const fault = rand() < rate ? kinds[Math.floor(rand() * kinds.length)]! : undefined;
    if (fault) stats.faults[fault]++;
    try {
      switch (fault) {
        case 'drop':
          res.socket?.destroy();
          return;
        case 'error_500':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'PROXY_FAULT', message: 'injected 500' } }));
          return;
        case 'delay':
          await sleep(20 + Math.floor(rand() * 300));
          reply(res, await forward(req, body));
          return;
        case 'lost_response':
          await forward(req, body); // applied at the centre, but the terminal never hears
          res.socket?.destroy();
          return;
        case 'reset_mid_response': {
          const u = await forward(req, body);
          res.writeHead(u.status, { 'content-type': String(u.headers['content-type'] ?? 'application/json'), 'content-length': u.body.length });
          res.write(u.body.subarray(0, Math.floor(u.body.length / 2)));
          await sleep(5);
          res.socket?.destroy();
          return;
        }
        case 'duplicate': {
          const [a, b] = await Promise.allSettled([forward(req, body), forward(req, body)]);
          const u = b.status === 'fulfilled' ? b.value : a.status === 'fulfilled' ? a.value : undefined;
          if (!u) throw new Error('upstream down');
          reply(res, u);
          return;
        }
        case 'reorder':
          // The terminal sees a failure now; its request reaches the centre later, after newer ones.
          res.socket?.destroy();
          void track(sleep(50 + Math.floor(rand() * 400)).then(() => forward(req, body)).catch(() => undefined));
          return;
        default:
          reply(res, await forward(req, body));
      }
    } catch {
      stats.upstreamDown++;
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'centre unreachable' } }));
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setFaultRate: (r) => void (rate = r),
    close: async () => {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}
