// A request's body is buffered before its signature can be checked (the signature covers the body), so a network
// attacker who knows a terminal id, and no key, could make the centre hold up to BODY_LIMIT bytes per connection by
// starting uploads and never finishing them (40 held 336 MB before any bound), or now fill the upload queue
// (--upload-queue) so that every counter is turned away. The centre reads at most BODIES_PER_TERMINAL bodies per
// terminal id, and the queue bounds them all; past either it answers 503 at once, before reading the body, and a
// counter retries that like a dead link.
import { request, type ClientRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BODIES_PER_TERMINAL } from '../../src/server/http.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { BODY_LIMIT } from '../../src/protocol/schemas.ts';
import { registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

describe('uploads started and never finished, under a forged signature', () => {
  let srv: RunningServer;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;
  const open: ClientRequest[] = [];
  beforeEach(async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    // Room for ten uploads in all (2 at work, 8 waiting), so the last test reaches the bound with three terminal ids.
    srv = await startServer({ db: db.url, port: 0, uploadQueue: 8 });
    t1 = await registeredTerminal(srv.central, 'T1', { url: srv.url });
    t2 = await registeredTerminal(srv.central, 'T2', { url: srv.url });
  });
  afterEach(async () => {
    for (const r of open.splice(0)) r.destroy();
    await srv.close();
    await cleanup();
  });

  /** Starts an upload of BODY_LIMIT bytes naming `terminalId`, with a signature nobody made, and sends 1 KiB of it. */
  function hang(terminalId: string): Promise<{ status: number; code: string }> {
    const u = new URL(srv.url);
    return new Promise((resolve) => {
      const req = request(
        { host: u.hostname, port: u.port, path: '/v1/records', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': BODY_LIMIT, authorization: `PalmPay ${terminalId}:${Date.now()}:${'a'.repeat(32)}:${'b'.repeat(128)}` } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(text) as { error: { code: string } }).error.code }));
        },
      );
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1024, 0x20));
      open.push(req);
    });
  }
  /** The answers that came within `ms` (the others are still waiting for their bodies). */
  async function answeredWithin<T>(pending: Array<Promise<T>>, ms: number): Promise<T[]> {
    const got: T[] = [];
    pending.forEach((p) => void p.then((x) => got.push(x)));
    await new Promise((r) => setTimeout(r, ms));
    return got;
  }

  it('one terminal id gets BODIES_PER_TERMINAL bodies read at once; the rest are refused with 503 at once, and the terminal uploads again once they are gone', async () => {
    const pending = Array.from({ length: BODIES_PER_TERMINAL + 3 }, () => hang('T1'));
    expect(await answeredWithin(pending, 1500)).toEqual(Array(3).fill({ status: 503, code: 'TERMINAL_BUSY' }));
    // Another terminal is not held up by them.
    expect((await t2.client!.upload([t2.chain.next(purchaseDraft('T2', 1, 'P404', 'A404', 1))])).results[0]).toMatchObject({ seq: 1, status: 'review' });
    // The attacker gives up (or the server's request timeout cuts them): the real terminal is served again.
    for (const r of open.splice(0)) r.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await t1.client!.upload([t1.chain.next(purchaseDraft('T1', 1, 'P404', 'A404', 1))])).results[0]).toMatchObject({ seq: 1, status: 'review' });
  });

  it('the control: a terminal uploading one batch after another on one kept-alive connection is never refused', async () => {
    for (let i = 1; i <= 3 * BODIES_PER_TERMINAL; i++) {
      expect((await t1.client!.upload([t1.chain.next(purchaseDraft('T1', i, 'P404', 'A404', 1))])).results[0]).toMatchObject({ seq: i, status: 'review' });
    }
  });

  it('all terminal ids together get a bounded number of bodies read at once (the upload queue); past it, 503 at once', async () => {
    const first = [...Array.from({ length: BODIES_PER_TERMINAL }, () => hang('T1')), ...Array.from({ length: BODIES_PER_TERMINAL }, () => hang('T2'))];
    expect(await answeredWithin(first, 1000)).toEqual([]); // 8 bodies: within the 10 allowed
    await registeredTerminal(srv.central, 'T3', { url: srv.url });
    // The 9th and 10th fit (and wait for their bodies); past them every upload is turned away before its body.
    const more = [hang('T3'), hang('T3'), hang('T3'), hang('NO-SUCH')];
    expect(await answeredWithin(more, 1500)).toEqual(Array(2).fill({ status: 503, code: 'CENTRE_BUSY' }));
  });
});
