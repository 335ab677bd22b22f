// Replays of a captured signed request that the in-memory cache of one centre process cannot see (issue 13,
// item 10): the same request sent again after the centre restarts, or to another process serving the same
// database (`--workers N`). Each request carries a nonce in its signature and the centre keeps the nonces it has
// seen in its database until the time window closes. A terminal too old to send a nonce is told so, typed.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const FEED = '/v1/feed?cursor=0';

const get = (srv: RunningServer, path: string, authorization: string) => fetch(`${srv.url}${path}`, { headers: { authorization } });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

/** The header an old terminal sends: `PalmPay <id>:<ms>:<sig>`, signed over method, path, time and body hash only. */
function outdatedHeader(terminalId: string, ms: number, sign: (m: Uint8Array) => Uint8Array, method: string, path: string, body = ''): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const message = Buffer.concat([Buffer.from('PalmPay request v1\n'), Buffer.from(`${method}\n${path}\n${ms}\n${bodyHash}`)]);
  return `PalmPay ${terminalId}:${ms}:${Buffer.from(sign(message)).toString('hex')}`;
}

describe.each(backends)('signed requests are accepted once, whichever centre process sees them (%s)', (kind) => {
  const open: RunningServer[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await cleanup?.();
    cleanup = undefined;
  });
  async function centre(url: string): Promise<RunningServer> {
    const s = await startServer({ db: url, port: 0 });
    open.push(s);
    return s;
  }
  async function setup(): Promise<{ url: string; a: RunningServer; t: TestTerminal }> {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    const a = await centre(db.url);
    const t = await registeredTerminal(a.central, 'T1', { url: a.url });
    return { url: db.url, a, t };
  }

  it('a request captured before the centre restarts is refused after it (AUTH_REPLAYED)', async () => {
    const { url, a, t } = await setup();
    const h = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', FEED, '');
    expect((await get(a, FEED, h)).status).toBe(200);
    await a.close();
    open.splice(open.indexOf(a), 1);
    const b = await centre(url);
    const again = await get(b, FEED, h);
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe('AUTH_REPLAYED');
  });

  it('a request accepted by one centre process is refused by another on the same database (AUTH_REPLAYED)', async () => {
    const { url, a, t } = await setup();
    const b = await centre(url);
    const h = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', FEED, '');
    expect((await get(a, FEED, h)).status).toBe(200);
    const again = await get(b, FEED, h);
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe('AUTH_REPLAYED');
  });

  it('two requests signed in the same millisecond with different nonces are both accepted', async () => {
    const { a, t } = await setup();
    const ms = Date.now();
    const h1 = authorizationHeader('T1', ms, (m) => t.signer.sign(m), 'GET', FEED, '');
    const h2 = authorizationHeader('T1', ms, (m) => t.signer.sign(m), 'GET', FEED, '');
    expect(h1).not.toBe(h2);
    expect((await get(a, FEED, h1)).status).toBe(200);
    expect((await get(a, FEED, h2)).status).toBe(200);
  });

  it('a nonce cannot be moved onto another request: the signature covers it', async () => {
    const { a, t } = await setup();
    const h = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', FEED, '');
    const otherNonce = h.replace(/:[0-9a-f]{32}:/, `:${randomBytes(16).toString('hex')}:`);
    expect(otherNonce).not.toBe(h);
    const res = await get(a, FEED, otherNonce);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('AUTH_FAILED');
  });

  it('a terminal too old to send a nonce is told to update (AUTH_OUTDATED); a forged old header is AUTH_FAILED', async () => {
    const { a, t } = await setup();
    const res = await get(a, FEED, outdatedHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', FEED));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: 'AUTH_OUTDATED' });
    const stranger = signerFromSecretKey(randomBytes(32));
    for (const id of ['T1', 'NO-SUCH']) {
      const forged = await get(a, FEED, outdatedHeader(id, Date.now(), (m) => stranger.sign(m), 'GET', FEED));
      expect(forged.status).toBe(401);
      expect((await errorOf(forged)).code).toBe('AUTH_FAILED');
    }
  });

  it('seen nonces are forgotten once the window has closed (the table does not grow without end)', async () => {
    const { a, t } = await setup();
    for (let i = 0; i < 3; i++) expect((await get(a, FEED, authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', FEED, ''))).status).toBe(200);
    const count = () => a.central.repo.tx((r) => r.countRequestNonces());
    expect(await count()).toBe(3);
    const removed = await a.central.repo.tx((r) => r.purgeRequestNonces(Date.now() + 60 * 60_000));
    expect(removed).toBe(3);
    expect(await count()).toBe(0);
  });
});

describe('no terminal id can be learnt from how a bad request with a body is refused', () => {
  let srv: RunningServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await srv?.close();
    await cleanup?.();
  });

  it('a malformed body under a known id and under an unknown id gets the same AUTH_FAILED', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    srv = await startServer({ db: db.url, port: 0 });
    await registeredTerminal(srv.central, 'T1', { url: srv.url });
    const stranger = signerFromSecretKey(randomBytes(32));
    const answers = [];
    for (const id of ['T1', 'NO-SUCH']) {
      for (const body of ['{"records": [', '{"records": 5}']) {
        const authorization = authorizationHeader(id, Date.now(), (m) => stranger.sign(m), 'POST', '/v1/records', body);
        const res = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
        answers.push({ status: res.status, ...(await errorOf(res)) });
      }
    }
    expect(answers).toEqual(Array(4).fill({ status: 401, code: 'AUTH_FAILED', message: 'request authentication failed' }));
  });

  it('a body too large is refused alike under a known id and an unknown one (413 before anything is read)', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    srv = await startServer({ db: db.url, port: 0 });
    await registeredTerminal(srv.central, 'T1', { url: srv.url });
    const stranger = signerFromSecretKey(randomBytes(32));
    const body = JSON.stringify({ records: ['x'.repeat(9 * 1024 * 1024)] });
    const answers = [];
    for (const id of ['T1', 'NO-SUCH']) {
      const authorization = authorizationHeader(id, Date.now(), (m) => stranger.sign(m), 'POST', '/v1/records', body);
      const res = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
      answers.push({ status: res.status, code: (await errorOf(res)).code });
    }
    expect(answers).toEqual(Array(2).fill({ status: 413, code: 'BODY_TOO_LARGE' }));
  });
});
