// The renderer's WebSocket client against the real kiosk server over loopback: typed calls, events, and
// recovery when the host goes away and comes back (calls made meanwhile wait instead of hanging forever).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket as NodeWebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../src/api/index.ts';
import { createDispatcher } from '../../src/host/dispatch.ts';
import { createEventHub } from '../../src/host/event-hub.ts';
import { startKioskServer, type KioskServer } from '../../src/host/kiosk-server.ts';
import { placeholderQueue, placeholderReferenceServer, placeholderScanner } from '../../src/host/placeholders.ts';
import { createHostService } from '../../src/host/service.ts';
import { memorySettingsStore } from '../../src/host/settings-file.ts';
import { silentLogger } from '../../src/util/log.ts';
import { ApiCallError, createApi, socketTransport } from '../../renderer/api-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-socket-'));
const TOKEN = 'fixed-test-token-of-some-length';
const settings = memorySettingsStore();

function serve(port: number): Promise<KioskServer> {
  const events = createEventHub();
  const service = createHostService({
    mode: 'browser',
    version: 't',
    settings,
    scanner: placeholderScanner(),
    link: placeholderReferenceServer(),
    queue: placeholderQueue(),
    events,
  });
  const log = silentLogger();
  return startKioskServer({ dispatch: createDispatcher(service.handlers, log), events, rendererDir: dir, port, log, token: TOKEN });
}

let server: KioskServer;
beforeAll(async () => {
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  (globalThis as { WebSocket?: unknown }).WebSocket = NodeWebSocket; // Node 20 has no global WebSocket
  server = await serve(0);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('socketTransport', () => {
  it('makes typed calls, receives events, and survives a host restart', async () => {
    const transport = socketTransport(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`, 100);
    const api = createApi(transport);
    const events: HostEvent[] = [];
    transport.onEvent((e) => events.push(e));
    const connection: boolean[] = [];
    transport.onConnection?.((up) => connection.push(up));

    expect(await api['status.get']()).toMatchObject({ mode: 'browser' });
    expect(await api['settings.setLanguage']({ language: 'en' })).toEqual({ language: 'en', digits: 'arab' });
    await expect.poll(() => events).toContainEqual({ type: 'settings', settings: { language: 'en', digits: 'arab' } });
    await expect(api['settings.setLanguage']({ language: 'xx' as never })).rejects.toBeInstanceOf(ApiCallError);

    const port = server.port;
    await server.close();
    await expect.poll(() => connection).toEqual([true, false]);
    const waiting = api['session.ping']({ nonce: 'after-restart' }); // made while the host is down
    server = await serve(port);
    expect(await waiting).toMatchObject({ nonce: 'after-restart' });
    expect(connection).toEqual([true, false, true]);
    transport.close?.();
  });
});
