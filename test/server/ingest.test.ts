// Ingestion over real HTTP on loopback: every kind of bad input is refused with a clear reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerFromSecretKey, sealRecord } from '../../src/protocol/sign.ts';
import { bodyOf, type RecordDraft } from '../../src/protocol/record.ts';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { CentreClient, CentreRefusal } from '../../src/sync/client.ts';
import { authorizationHeader } from '../../src/protocol/crypto.ts';
import { ChainWriter, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let t: TestTerminal;

beforeAll(async () => {
  const db = await tempDb('sqlite');
  cleanup = db.cleanup;
  srv = await startServer({ db: db.url, port: 0 });
  t = await registeredTerminal(srv.central, 'T1', { url: srv.url });
  await enrolCustomer(srv.central, t, 'P1', 'A1');
  await srv.central.creditAccount('A1', 1_000_000, 'SYP');
});
afterAll(async () => {
  await srv.close();
  await cleanup();
});

const purchase = (n: number, amount = 100) => t.chain.next(purchaseDraft('T1', n, 'P1', 'A1', amount));

describe('record ingestion', () => {
  it('binds loopback only', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('accepts a valid record and answers a replay with the original result', async () => {
    const rec = purchase(1);
    const first = await t.client!.upload([rec]);
    expect(first.results).toEqual([{ seq: rec.seq, status: 'accepted' }]);
    const again = await t.client!.upload([rec, rec]);
    expect(again.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(again.results[0]!.original).toEqual({ status: 'accepted' });
    // applied once: the account lost exactly 100
    expect(await srv.central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(1_000_000 - 100);
  });

  it('rejects a forged signature', async () => {
    const rec = purchase(2);
    const forged = { ...rec, sig: rec.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    const res = await t.client!.upload([forged]);
    expect(res.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signature does not verify/) });
    // the genuine one still goes in afterwards
    expect((await t.client!.upload([rec])).results[0]!.status).toBe('accepted');
  });

  it('rejects a record signed by another key (impostor terminal)', async () => {
    const other = signerFromSecretKey(randomBytes(32));
    const head = await srv.central.repo.tx((r) => r.getTerminal('T1'));
    const impostor = new ChainWriter('T1', other, { seq: Number(head!.head_seq), hash: head!.head_hash });
    const rec = impostor.next(purchaseDraft('T1', 999, 'P1', 'A1', 5));
    const res = await t.client!.upload([rec]);
    expect(res.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signature/) });
  });

  it('rejects an edited record (body changed after signing)', async () => {
    const rec = purchase(3, 100);
    const edited = { ...rec, amountMinor: 1 };
    const res = await t.client!.upload([edited]);
    expect(res.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/hash does not match/) });
    // edited and re-hashed: the signature gives it away
    const rehashed = { ...sealRecord({ ...bodyOf(rec), amountMinor: 1 } as never, signerFromSecretKey(randomBytes(32))), sig: rec.sig };
    const res2 = await t.client!.upload([rehashed]);
    expect(res2.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signature/) });
    expect((await t.client!.upload([rec])).results[0]!.status).toBe('accepted');
  });

  it('rejects a different record under a stored (terminal, seq) as a conflict', async () => {
    const stored = await srv.central.repo.tx((r) => r.getRecord('T1', 1));
    const fork = new ChainWriter('T1', t.signer); // same key, same seq 1, different content
    const rec = fork.next(purchaseDraft('T1', 77, 'P1', 'A1', 3));
    expect(rec.seq).toBe(1);
    expect(rec.hash).not.toBe(stored!.hash);
    const res = await t.client!.upload([rec]);
    expect(res.results[0]).toMatchObject({ status: 'conflict', reason: expect.stringMatching(/different record is already stored as T1#1/) });
  });

  it('reports a sequence gap and takes the records once the gap is filled, in any order', async () => {
    const a = purchase(10);
    const b = purchase(11);
    const c = purchase(12);
    const res = await t.client!.upload([c]);
    expect(res.results[0]).toMatchObject({ status: 'gap', reason: expect.stringMatching(/sequence gap: expected \d+, got \d+/) });
    const res2 = await t.client!.upload([c, b, a]);
    expect(res2.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
  });

  it('rejects a record whose terminal id is not the uploader', async () => {
    const t2 = await registeredTerminal(srv.central, 'T2', { url: srv.url });
    const rec = t2.chain.next(purchaseDraft('T2', 1, 'P1', 'A1', 5));
    const res = await t.client!.upload([rec]);
    expect(res.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/belongs to terminal T2/) });
  });

  it('refuses an unknown terminal', async () => {
    const ghost = new CentreClient({ baseUrl: srv.url, credentials: { terminalId: 'GHOST', sign: (m) => t.signer.sign(m) } });
    await expect(ghost.upload([purchase(20)])).rejects.toMatchObject({ status: 401, remoteCode: 'AUTH_FAILED' });
    const noAuth = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: [{}] }) });
    expect(noAuth.status).toBe(401);
    expect(((await noAuth.json()) as { error: { code: string } }).error.code).toBe('AUTH_MISSING');
  });

  it('refuses a request whose signature does not cover its body', async () => {
    const other = signerFromSecretKey(randomBytes(32));
    const c = new CentreClient({ baseUrl: srv.url, credentials: { terminalId: 'T1', sign: (m) => other.sign(m) } });
    await expect(c.upload([purchase(21)])).rejects.toMatchObject({ remoteCode: 'AUTH_FAILED' });
  });

  it('refuses malformed JSON, malformed bodies and malformed records, each with a reason', async () => {
    const authorization = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'POST', '/v1/records', '{"records": [');
    const bad = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: '{"records": [' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_JSON');
    await expect(t.client!.upload([])).rejects.toMatchObject({ status: 400, remoteCode: 'BAD_REQUEST' });
    const res = await t.client!.upload([{ hello: 'world' }, 42]);
    expect(res.results.map((r) => r.status)).toEqual(['invalid', 'invalid']);
    expect(res.results[0]!.reason).toMatch(/malformed record/);
  });

  it('refuses an oversized body with 413', async () => {
    const big = JSON.stringify({ records: [{ pad: 'x'.repeat(9 * 1024 * 1024) }] });
    // judged from Content-Length before anything is read, for anyone alike (a known id is not told apart)
    const anon = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(anon.status).toBe(413);
    const authorization = authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'POST', '/v1/records', big);
    const res = await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: big });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    const many = Array.from({ length: 2001 }, () => ({}));
    await expect(t.client!.upload(many)).rejects.toMatchObject({ status: 400 });
  });

  it('stops uploads once the terminal is revoked', async () => {
    const t3 = await registeredTerminal(srv.central, 'T3', { url: srv.url });
    await srv.central.revokeTerminal('T3');
    const err = await t3.client!.upload([t3.chain.next(purchaseDraft('T3', 1, 'P1', 'A1', 5))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CentreRefusal);
    expect(err).toMatchObject({ status: 403, remoteCode: 'TERMINAL_REVOKED' });
  });

  it('refuses a reused or unknown registration code', async () => {
    const { code } = await srv.central.addTerminal({ id: 'T4', name: 'x', branch: 'B1', region: 'R1' });
    const c = new CentreClient({ baseUrl: srv.url });
    const pk = Buffer.from(signerFromSecretKey(randomBytes(32)).publicKey).toString('hex');
    const ok = await c.register(code, pk, pk);
    expect(ok.certificate.body.terminalId).toBe('T4');
    await expect(c.register(code, pk, pk)).rejects.toMatchObject({ status: 403, remoteCode: 'REGISTRATION_CODE_INVALID' });
  });

  it('serves health and metrics', async () => {
    const h = (await (await fetch(`${srv.url}/health`)).json()) as { status: string; storage: string };
    expect(h).toMatchObject({ status: 'ok', storage: 'sqlite' });
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    expect(m).toMatch(/palmpay_records_total\{status="accepted"\} \d+/);
    expect(m).toMatch(/palmpay_records_total\{status="invalid"\} \d+/);
  });
});

describe('terminal clocks', () => {
  it('a terminal whose clock is days off learns the centre time and is served', async () => {
    const days = 5 * 24 * 3600_000;
    const t9 = await registeredTerminal(srv.central, 'T9', { url: srv.url });
    const c = new CentreClient({ baseUrl: srv.url, credentials: { terminalId: 'T9', sign: (m) => t9.signer.sign(m) }, now: () => Date.now() - days, serverPublicKey: srv.central.identity.publicKeyHex });
    const res = await c.upload([t9.chain.next(purchaseDraft('T9', 1, 'P1', 'A1', 1))]);
    expect(res.results[0]!.status).toBe('accepted');
  });
});

describe('statements', () => {
  it('gives the admin a person’s purchases, each traced to its record; no terminal reads one over HTTP', async () => {
    const st = await srv.central.statement('P1');
    expect(st.personId).toBe('P1');
    expect(st.purchases.length).toBeGreaterThan(2);
    expect(st.purchases.find((l) => l.source === 'record')?.record).toMatch(/^T\d#\d+$/);
    expect(st.balances.find((b) => b.account === 'acct:A1')?.currency).toBe('SYP');
    const anon = await fetch(`${srv.url}/v1/statements/P1`);
    expect(anon.status).toBe(404);
  });
});

describe('supervisor override on a purchase (issue 8)', () => {
  it('accepts a purchase a supervisor approved above an offline limit, signed with approvedBy + overriddenLimits', async () => {
    const t8 = await registeredTerminal(srv.central, 'T8', { url: srv.url, supervisors: ['sup-1'] });
    const before = await srv.central.repo.tx((r) => r.balance('acct:A1', 'SYP'));
    const draft = purchaseDraft('T8', 1, 'P1', 'A1', 250) as Extract<RecordDraft, { type: 'purchase' }>;
    const rec = t8.chain.next({ ...draft, approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'] });
    expect(rec).toMatchObject({ approvedBy: 'sup-1', overriddenLimits: ['PER_TRANSACTION_CAP'] });
    expect((await t8.client!.upload([rec])).results).toEqual([{ seq: 1, status: 'accepted' }]);
    expect(await srv.central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(before - 250);
    // a terminal-total "override" is not a thing the record can say: refused as malformed
    const bad = t8.chain.next(purchaseDraft('T8', 2, 'P1', 'A1', 5));
    const forged = { ...bad, approvedBy: 'sup-1', overriddenLimits: ['TERMINAL_STORED_TOTAL'] };
    const res = await t8.client!.upload([forged]);
    expect(res.results[0]).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/malformed record: overriddenLimits/) });
  });
});
