// Registration guessing is throttled per address for the whole centre, not per process (issue 13, item 10): with
// `palmpay server --workers N` several processes serve one database, and a count kept in one process's memory gave
// an attacker N times the attempts. The failures are counted in the database, so a second centre process on the same
// database refuses the address as soon as the first has seen its share of failures.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTER_FAILURES_PER_MINUTE } from '../../src/server/http.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error;
const guess = (srv: RunningServer) =>
  fetch(`${srv.url}/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: randomBytes(9).toString('base64url'), publicKey: 'ab'.repeat(32), encKey: 'cd'.repeat(32) }),
  });

describe.each(backends)('registration throttle shared by every centre process on one database (%s)', (kind) => {
  const open: RunningServer[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await cleanup?.();
    cleanup = undefined;
  });

  it('failures at one process count at the other: the address gets the limit once, not once per process', async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    const a = await startServer({ db: db.url, port: 0 });
    open.push(a);
    const b = await startServer({ db: db.url, port: 0 });
    open.push(b);
    // Half the guesses at each process, interleaved, as a load balancer spreads them.
    for (let i = 0; i < REGISTER_FAILURES_PER_MINUTE; i++) expect((await guess(i % 2 ? b : a)).status).toBe(403);
    for (const srv of [a, b]) {
      const res = await guess(srv);
      expect(res.status).toBe(429);
      expect((await errorOf(res)).code).toBe('REGISTER_THROTTLED');
    }
  });

  it('a centre restarted on the same database still refuses the address (the count survives the process)', async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    const a = await startServer({ db: db.url, port: 0 });
    open.push(a);
    for (let i = 0; i < REGISTER_FAILURES_PER_MINUTE; i++) expect((await guess(a)).status).toBe(403);
    await a.close();
    open.splice(0);
    const b = await startServer({ db: db.url, port: 0 });
    open.push(b);
    const res = await guess(b);
    expect(res.status).toBe(429);
    expect((await errorOf(res)).code).toBe('REGISTER_THROTTLED');
  });
});

// Behind a reverse proxy (README "Deploying"), every request comes from the proxy's address. Unless the centre is told
// which proxies to believe, one guesser locks registration for every technician of the region (they share the proxy's
// bucket); and believing X-Forwarded-For from anyone would let a guesser pick a fresh bucket per request.
describe('registration throttle behind a reverse proxy (--trust-proxy)', () => {
  const open: RunningServer[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await cleanup?.();
    cleanup = undefined;
  });
  const guessAs = (srv: RunningServer, client: string) =>
    fetch(`${srv.url}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify({ code: randomBytes(9).toString('base64url'), publicKey: 'ab'.repeat(32), encKey: 'cd'.repeat(32) }),
    });

  it('with the proxy trusted, one guesser behind it does not lock out another technician', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    const srv = await startServer({ db: db.url, port: 0, trustProxy: ['127.0.0.1'] });
    open.push(srv);
    for (let i = 0; i < REGISTER_FAILURES_PER_MINUTE; i++) expect((await guessAs(srv, '198.51.100.7')).status).toBe(403);
    expect((await guessAs(srv, '198.51.100.7')).status).toBe(429);
    // Another client behind the same proxy still gets an answer on its merits (403: wrong code), not 429.
    expect((await guessAs(srv, '203.0.113.9')).status).toBe(403);
  });

  it('without --trust-proxy a forged X-Forwarded-For does not buy a fresh bucket', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    const srv = await startServer({ db: db.url, port: 0 });
    open.push(srv);
    for (let i = 0; i < REGISTER_FAILURES_PER_MINUTE; i++) expect((await guessAs(srv, `198.51.100.${i + 1}`)).status).toBe(403);
    const res = await guessAs(srv, '198.51.100.250');
    expect(res.status).toBe(429);
  });

  it('a trust list that would believe every sender is refused at start', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    await expect(startServer({ db: db.url, port: 0, trustProxy: ['0.0.0.0/0'] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(startServer({ db: db.url, port: 0, trustProxy: ['not-an-address'] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
