// A body is buffered before its bytes can be hashed, so a network attacker who knew a terminal id, and no key, could
// make the centre hold up to BODY_LIMIT bytes per connection by starting uploads and never finishing them (40 held
// 336 MB before any bound), fill the upload queue (--upload-queue) so that every counter is turned away, or fill one
// terminal's BODIES_PER_TERMINAL so that the counter itself is turned away. The header now states the body's hash
// under the signature, and the centre checks the signature, the time and the nonce before it reads a body: without
// the key, or with a captured header, nothing is held. What one stolen key can hold is bounded per terminal, and
// the queue bounds them all; past either the centre answers 503 before the body, and a counter retries that like a
// dead link.
import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BODIES_PER_TERMINAL } from '../../src/server/http.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { BODY_LIMIT } from '../../src/protocol/schemas.ts';
import { authorizationHeader } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

describe('uploads started and never finished', () => {
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

  /** The body every hanging upload announces (only its first KiB is ever sent). */
  const FULL_BODY = Buffer.alloc(BODY_LIMIT, 0x20);
  const stranger = signerFromSecretKey(randomBytes(32));
  /** A header for FULL_BODY under `terminalId`, signed by the terminal's key (stolen) or by a stranger's. */
  const header = (terminalId: string, signer: { sign(m: Uint8Array): Uint8Array } = stranger) => authorizationHeader(terminalId, Date.now(), (m) => signer.sign(m), 'POST', '/v1/records', FULL_BODY);
  const signedBy = (t: TestTerminal) => header(t.id, t.signer);

  /** Starts an upload of BODY_LIMIT bytes with `authorization`, and sends 1 KiB of it. */
  function hang(authorization: string): Promise<{ status: number; code: string }> {
    const u = new URL(srv.url);
    return new Promise((resolve) => {
      const req = request(
        { host: u.hostname, port: u.port, path: '/v1/records', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': BODY_LIMIT, authorization } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(text) as { error: { code: string } }).error.code }));
        },
      );
      req.on('error', () => undefined);
      req.write(FULL_BODY.subarray(0, 1024));
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

  it('without the key, knowing a terminal id holds nothing: every forged upload is refused before its body, and the counter uploads at once', async () => {
    const pending = Array.from({ length: BODIES_PER_TERMINAL + 3 }, () => hang(header('T1')));
    expect(await answeredWithin(pending, 1500)).toEqual(Array(BODIES_PER_TERMINAL + 3).fill({ status: 401, code: 'AUTH_FAILED' }));
    // Forged uploads never filled T1's share while they hung: T1's own upload goes through beside them.
    const more = Array.from({ length: BODIES_PER_TERMINAL }, () => hang(header('T1')));
    expect((await t1.client!.upload([t1.chain.next(purchaseDraft('T1', 1, 'P404', 'A404', 1))])).results[0]).toMatchObject({ seq: 1, status: 'review' });
    expect(await Promise.all(more)).toEqual(Array(BODIES_PER_TERMINAL).fill({ status: 401, code: 'AUTH_FAILED' }));
  });

  it('a captured header sent again with a body that never finishes is refused before the body (AUTH_REPLAYED); a body other than the signed one is AUTH_FAILED', async () => {
    const body = JSON.stringify({ records: [t1.chain.next(purchaseDraft('T1', 1, 'P404', 'A404', 1))] });
    const captured = authorizationHeader('T1', Date.now(), (m) => t1.signer.sign(m), 'POST', '/v1/records', body);
    const sent = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: captured }, body });
    expect(sent.status).toBe(200);
    expect(await answeredWithin([hang(captured)], 1500)).toEqual([{ status: 401, code: 'AUTH_REPLAYED' }]);
    const other = authorizationHeader('T1', Date.now(), (m) => t1.signer.sign(m), 'POST', '/v1/records', body);
    const swapped = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: other }, body: body.replace('"seq":1', '"seq":2') });
    expect(swapped.status).toBe(401);
    expect(((await swapped.json()) as { error: { code: string } }).error.code).toBe('AUTH_FAILED');
  });

  it('a stolen key gets BODIES_PER_TERMINAL bodies read at once; the rest are refused with 503 at once, and the terminal uploads again once they are gone', async () => {
    const pending = Array.from({ length: BODIES_PER_TERMINAL + 3 }, () => hang(signedBy(t1)));
    expect(await answeredWithin(pending, 1500)).toEqual(Array(3).fill({ status: 503, code: 'TERMINAL_BUSY' }));
    // Another terminal is not held up by them.
    expect((await t2.client!.upload([t2.chain.next(purchaseDraft('T2', 1, 'P404', 'A404', 1))])).results[0]).toMatchObject({ seq: 1, status: 'review' });
    // The thief gives up (or the server's request timeout cuts them): the terminal is served again.
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
    const first = [...Array.from({ length: BODIES_PER_TERMINAL }, () => hang(signedBy(t1))), ...Array.from({ length: BODIES_PER_TERMINAL }, () => hang(signedBy(t2)))];
    expect(await answeredWithin(first, 1000)).toEqual([]); // 8 bodies: within the 10 allowed
    const t3 = await registeredTerminal(srv.central, 'T3', { url: srv.url });
    // The 9th and 10th fit (and wait for their bodies); past them every upload is turned away before its body.
    const more = [hang(signedBy(t3)), hang(signedBy(t3)), hang(signedBy(t3)), hang(header('NO-SUCH'))];
    expect(await answeredWithin(more, 1500)).toEqual(Array(2).fill({ status: 503, code: 'CENTRE_BUSY' }));
  });
});
