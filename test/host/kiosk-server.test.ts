// The browser-kiosk server over real loopback: token, Host and Origin checks, message validation, calls, events.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, WireMessage } from '../../src/api/index.ts';
import { createDispatcher } from '../../src/host/dispatch.ts';
import { createEventHub } from '../../src/host/event-hub.ts';
import { startKioskServer, type KioskServer } from '../../src/host/kiosk-server.ts';
import { placeholderQueue, placeholderReferenceServer, placeholderScanner } from '../../src/host/placeholders.ts';
import { createHostService } from '../../src/host/service.ts';
import { memorySettingsStore } from '../../src/host/settings-file.ts';
import { silentLogger } from '../../src/util/log.ts';

let dir: string;
let server: KioskServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  const events = createEventHub();
  const service = createHostService({
    mode: 'browser',
    version: 'test',
    settings: memorySettingsStore(),
    scanner: placeholderScanner(),
    link: placeholderReferenceServer(),
    queue: placeholderQueue(),
    events,
  });
  const log = silentLogger();
  server = await startKioskServer({ dispatch: createDispatcher(service.handlers, log), events, rendererDir: dir, port: 0, log });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const wsUrl = (token?: string) => `ws://127.0.0.1:${server.port}/api${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

/** Opens a socket; resolves with it once open, or with the HTTP status the upgrade was refused with. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

async function open(): Promise<Client> {
  const ws = await connect(wsUrl(server.token));
  if (typeof ws === 'number') throw new Error(`refused: ${ws}`);
  return new Client(ws);
}

class Client {
  messages: WireMessage[] = [];
  private nextId = 1;
  closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(WireMessage.parse(JSON.parse(data.toString()))));
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }
  async call(name: string, input?: unknown) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, call: name, input }));
    for (let i = 0; i < 200; i++) {
      const reply = this.messages.find((m) => m.kind === 'result' && m.id === id);
      if (reply && reply.kind === 'result') return reply.result;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no reply');
  }
}

function httpGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kiosk server: who may connect', () => {
  it('listens on loopback and prints the token only in the fragment', () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).toBe(`${server.origin}/#token=${server.token}`);
    expect(server.token).toMatch(/^[\w-]{43}$/); // 32 random bytes
  });

  it('refuses the API without a token, with a wrong token, and with a token of the wrong length', async () => {
    expect(await connect(wsUrl())).toBe(401);
    expect(await connect(wsUrl('x'.repeat(server.token.length)))).toBe(401);
    expect(await connect(wsUrl(server.token + 'x'))).toBe(401);
    expect(await connect(wsUrl(''))).toBe(401);
  });

  it('refuses a page from another origin even with the token', async () => {
    expect(await connect(wsUrl(server.token), { Origin: 'http://evil.example' })).toBe(403);
    const ok = await connect(wsUrl(server.token), { Origin: server.origin });
    expect(ok).toBeInstanceOf(WebSocket);
    (ok as WebSocket).close();
  });

  it('refuses requests for another Host name (DNS rebinding)', async () => {
    expect((await httpGet('/', { Host: `evil.example:${server.port}` })).status).toBe(421);
    expect((await httpGet('/')).status).toBe(200);
  });

  it('sends a strict CSP and the security headers', async () => {
    const res = await httpGet('/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('kiosk server: calls and events', () => {
  it('answers a valid call', async () => {
    const c = await open();
    const result = await c.call('status.get');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.output).toMatchObject({ mode: 'browser', scanner: { kind: 'simulated', placeholder: true } });
    const ping = await c.call('session.ping', { nonce: 'n1' });
    expect(ping).toMatchObject({ ok: true, output: { nonce: 'n1' } });
    c.ws.close();
  });

  it('rejects bad input and unknown calls with a code, keeping the connection', async () => {
    const c = await open();
    expect(await c.call('settings.setLanguage', { language: 'fr' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await c.call('settings.setLanguage', { language: 'en', extra: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await c.call('__proto__')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    expect(await c.call('constructor')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    expect(await c.call('session.ping', { nonce: 'still-open' })).toMatchObject({ ok: true });
    c.ws.close();
  });

  it('pushes a settings event to every connection when one changes the language', async () => {
    const a = await open();
    const b = await open();
    expect(await a.call('settings.setLanguage', { language: 'ku' })).toMatchObject({ ok: true, output: { language: 'ku' } });
    await expect.poll(() => b.messages.some((m) => m.kind === 'event' && m.event.type === 'settings' && m.event.settings.language === 'ku')).toBe(true);
    await a.call('settings.setLanguage', { language: 'ar' });
    a.ws.close();
    b.ws.close();
  });

  it('hangs up on malformed JSON, on a message without an id, and on binary frames', async () => {
    for (const junk of ['{not json', JSON.stringify({ call: 'status.get' }), Buffer.from([1, 2, 3])]) {
      const c = await open();
      c.ws.send(junk);
      expect(await c.closed).toBe(1008);
    }
  });

  it('hangs up on an oversized message', async () => {
    const c = await open();
    c.ws.send(JSON.stringify({ id: 1, call: 'session.ping', input: { nonce: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
    expect(await c.closed).toBe(1009);
  });
});
