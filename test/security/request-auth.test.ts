// Attacks on request authentication (issue 13, item 10), over real HTTP on loopback: a captured signed request
// replayed, terminal ids enumerated from error codes, registration codes guessed, big bodies sent anonymously.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { REGISTER_FAILURES_PER_MINUTE } from '../../src/server/http.ts';
import { registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let t: TestTerminal;
beforeAll(async () => {
  const db = await tempDb('sqlite');
  cleanup = db.cleanup;
  srv = await startServer({ db: db.url, port: 0 });
  t = await registeredTerminal(srv.central, 'T1', { url: srv.url });
});
afterAll(async () => {
  await srv.close();
  await cleanup();
});

const get = (path: string, authorization?: string) => fetch(`${srv.url}${path}`, { headers: authorization ? { authorization } : {} });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('request authentication', () => {
  it('accepts a signed GET once; the same captured request replayed is refused (AUTH_REPLAYED)', async () => {
    const h = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', '/v1/feed?cursor=0', '');
    expect((await get('/v1/feed?cursor=0', h)).status).toBe(200);
    const again = await get('/v1/feed?cursor=0', h);
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe('AUTH_REPLAYED');
  });

  it('refuses a request signed 10 minutes ago (the window is minutes, not a day)', async () => {
    const h = authorizationHeader('T1', Date.now() - 10 * 60_000, (m) => t.signer.sign(m), 'GET', '/v1/feed?cursor=0', '');
    const res = await get('/v1/feed?cursor=0', h);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('AUTH_CLOCK');
  });

  it('gives the same answer for an unknown terminal, a pending one and a wrong signature (no enumeration)', async () => {
    await srv.central.addTerminal({ id: 'T-PENDING', name: 'p', branch: 'B1', region: 'R1' });
    const stranger = signerFromSecretKey(randomBytes(32));
    const answers = [];
    for (const id of ['NO-SUCH', 'T-PENDING', 'T1']) {
      const h = authorizationHeader(id, Date.now(), (m) => stranger.sign(m), 'GET', '/v1/feed?cursor=0', '');
      const res = await get('/v1/feed?cursor=0', h);
      answers.push({ status: res.status, ...(await errorOf(res)) });
    }
    expect(answers).toEqual(Array(3).fill({ status: 401, code: 'AUTH_FAILED', message: 'request authentication failed' }));
  });

  it('refuses an anonymous 7 MiB upload before reading it; an older header format is told to update, whatever its id', async () => {
    const body = JSON.stringify({ records: [{ pad: 'x'.repeat(7 * 1024 * 1024) }] });
    const stranger = signerFromSecretKey(randomBytes(32));
    for (const id of ['NO-SUCH', 'T1']) {
      const forged = authorizationHeader(id, Date.now(), (m) => stranger.sign(m), 'POST', '/v1/records', body);
      const res = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: forged }, body });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe('AUTH_FAILED');
    }
    // The formats before the body's hash was in the header cannot be checked without reading the body.
    for (const old of ['PalmPay NO-SUCH:1:' + 'a'.repeat(128), `PalmPay T1:1:${'a'.repeat(32)}:${'b'.repeat(128)}`]) {
      const res = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: old }, body });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe('AUTH_OUTDATED');
    }
  });

  it('throttles registration after repeated failures from one address', async () => {
    const attempt = () => fetch(`${srv.url}/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: randomBytes(9).toString('base64url'), publicKey: 'ab'.repeat(32), encKey: 'cd'.repeat(32) }) });
    for (let i = 0; i < REGISTER_FAILURES_PER_MINUTE; i++) expect((await attempt()).status).toBe(403);
    const res = await attempt();
    expect(res.status).toBe(429);
    expect((await errorOf(res)).code).toBe('REGISTER_THROTTLED');
  });
});
