// A web page doing DNS rebinding (issue 13, item 5): it asks the kiosk for a WebSocket upgrade with its own Host.
// The kiosk answers 421 and must then hang up: 300 attempts may leave no socket open on the kiosk's side (no
// CLOSE-WAIT), and the server must still close promptly (what SIGTERM does).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/host/dispatch.ts';
import { createEventHub } from '../../src/host/event-hub.ts';
import { startKioskServer, type KioskServer } from '../../src/host/kiosk-server.ts';
import { placeholderQueue, placeholderReferenceServer, placeholderScanner } from '../../src/host/placeholders.ts';
import { createHostService } from '../../src/host/service.ts';
import { memorySettingsStore } from '../../src/host/settings-file.ts';
import { silentLogger } from '../../src/util/log.ts';

let dir: string;
let server: KioskServer;
let closed = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-sec-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  const events = createEventHub();
  const service = createHostService({
    mode: 'browser', version: 'test', settings: memorySettingsStore(), scanner: placeholderScanner(),
    link: placeholderReferenceServer(), queue: placeholderQueue(), events,
  });
  const log = silentLogger();
  server = await startKioskServer({ dispatch: createDispatcher(service.handlers, log), events, rendererDir: dir, port: 0, log });
});
afterAll(async () => {
  if (!closed) await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One rebinding attempt; resolves with the status line once the KIOSK closes the connection (the page never does). */
function attempt(port: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the kiosk kept the refused connection open: ${JSON.stringify(data.split('\r\n')[0])}`));
    }, 3000);
    s.on('data', (d) => (data += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data.split('\r\n')[0] ?? '');
    });
    s.write(
      `GET /api?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n\r\n',
    );
  });
}

const closeWait = (port: number): number => {
  const out = execFileSync('ss', ['-tanH', 'state', 'close-wait', `( sport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
};

describe('kiosk WebSocket upgrade with a wrong Host', () => {
  it('answers 421 and closes the connection itself, 300 times, leaving no CLOSE-WAIT; close() is still prompt', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const lines = await Promise.all(Array.from({ length: 30 }, () => attempt(server.port, server.token)));
      for (const l of lines) expect(l).toMatch(/^HTTP\/1\.1 421/);
    }
    expect(closeWait(server.port)).toBe(0);
    const t0 = Date.now();
    await server.close();
    closed = true;
    expect(Date.now() - t0).toBeLessThan(2000);
  }, 60_000);
});
