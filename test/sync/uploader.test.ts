// The uploader against a real centre on loopback and a real terminal store: backoff, link detection from request
// outcomes, crash recovery of in-flight work, gaps, refusals.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { backoffDelay, nextLinkState } from '../../src/sync/backoff.ts';
import { createSync } from '../../src/sync/index.ts';
import { appendToStore, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal, type TestTerminal } from '../server/helpers.ts';

describe('backoff and link state (pure)', () => {
  it('grows exponentially with full jitter, capped', () => {
    const p = { baseMs: 100, maxMs: 1000, factor: 2 };
    expect(backoffDelay(1, p, () => 0.999)).toBe(99);
    expect(backoffDelay(3, p, () => 0.999)).toBe(399);
    expect(backoffDelay(10, p, () => 0.999)).toBe(999);
    expect(backoffDelay(10, p, () => 0)).toBe(0);
  });
  it('calls the link up on any answer and down on failures', () => {
    expect(nextLinkState('unknown', 0, { kind: 'failed', error: 'x' })).toEqual({ state: 'down', failures: 1 });
    expect(nextLinkState('up', 0, { kind: 'failed', error: 'x' }, 3)).toEqual({ state: 'up', failures: 1 });
    expect(nextLinkState('down', 5, { kind: 'refused', status: 403 })).toEqual({ state: 'up', failures: 0 });
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('uploader', () => {
  let dir: string;
  let server: RunningServer;
  let t: TestTerminal;
  let store: Store;
  const fast = { baseMs: 20, maxMs: 200, factor: 2 };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-uploader-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: await freePort() });
    t = await registeredTerminal(server.central, 'T1', { url: server.url });
    await enrolCustomer(server.central, await registeredTerminal(server.central, 'T0'), 'P1', 'A1');
    await server.central.creditAccount('A1', 1e9, 'SYP');
    store = openStore(join(dir, 'terminal.db'));
  });
  afterEach(async () => {
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queue = (n: number, from = 0) => appendToStore(store, Array.from({ length: n }, (_, i) => t.chain.next(purchaseDraft('T1', from + i, 'P1', 'A1', 10))));

  it('recovers work a crash left in flight, including records the centre already applied', async () => {
    queue(30);
    // crash 1: a batch claimed, never sent
    store.outbox.claimBatch(10, Date.now());
    // crash 2: a batch claimed and applied at the centre, the answer lost before markDone
    const applied = store.outbox.claimBatch(10, Date.now());
    await t.client!.upload(applied.map((i) => i.record));
    expect(store.outbox.stats().inFlight).toBe(20);
    store.close();
    store = openStore(join(dir, 'terminal.db')); // restart
    const sync = createSync({ store, serverUrl: server.url, signer: t.signer, terminalId: 'T1', batchSize: 7, backoff: fast });
    sync.start();
    await sync.drained(20_000);
    await sync.stop();
    expect(store.outbox.stats()).toMatchObject({ pending: 0, inFlight: 0 });
    expect(await server.central.repo.tx((r) => r.countRecords())).toEqual({ accepted: 31, review: 0 }); // + the set-up enrolment
    expect(await server.central.repo.tx((r) => r.balance('merchant:T1', 'SYP'))).toBe(300);
  });

  it('detects the link from request outcomes, backs off, and drains when the centre returns', async () => {
    const url = server.url;
    const port = server.port;
    await server.close();
    queue(5);
    const links: string[] = [];
    const sync = createSync({ store, serverUrl: url, signer: t.signer, terminalId: 'T1', backoff: fast, requestTimeoutMs: 2000 });
    sync.on('link', (s) => links.push(s));
    sync.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(links[0]).toBe('down');
    // Nothing sent and nothing lost: with a fast back-off the next try may be on the wire (in flight) right now.
    const s = store.outbox.stats();
    expect(s.pending + s.inFlight).toBe(5);
    expect(sync.status().link).toBe('down');
    expect(sync.status().lastError).toMatch(/ECONNREFUSED|fetch failed/);
    const attempts = store.db.prepare('SELECT max(attempts) AS a, max(last_error) AS e FROM outbox').get() as { a: number; e: string };
    expect(attempts.a).toBeGreaterThan(0); // attempts and the last error are persisted
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port });
    await sync.drained(20_000);
    expect(links).toContain('up');
    await sync.stop();
    expect(sync.status()).toMatchObject({ link: 'up', pending: 0, sent: 5 });
  });

  it('holds records the centre refuses and reports them, without losing them', async () => {
    queue(3);
    await server.central.revokeTerminal('T1');
    const rejected: string[] = [];
    const sync = createSync({ store, serverUrl: server.url, signer: t.signer, terminalId: 'T1', backoff: fast });
    sync.on('rejected', (items) => rejected.push(...items.map((i) => i.status)));
    sync.start();
    await new Promise((r) => setTimeout(r, 300));
    await sync.stop();
    expect(rejected).toEqual(['TERMINAL_REVOKED', 'TERMINAL_REVOKED', 'TERMINAL_REVOKED']);
    expect(store.outbox.stats()).toMatchObject({ pending: 3, inFlight: 0 });
    expect(sync.status().link).toBe('up'); // the centre answered: the link works, the terminal is refused
  });

  it('reports progress and queue length for the status bar', async () => {
    queue(25);
    const sync = createSync({ store, serverUrl: server.url, signer: t.signer, terminalId: 'T1', batchSize: 10, backoff: fast });
    const sent: number[] = [];
    sync.on('progress', (p) => sent.push(p.sent));
    sync.start();
    await sync.drained(20_000);
    await sync.stop();
    expect(sent).toEqual([10, 20, 25]);
  });
});
