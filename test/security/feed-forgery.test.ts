// Attacks on the feed (issue 13, item 3): a network attacker or a machine posing as the centre answers the
// terminal's feed request with a forged, edited, replayed or foreign page, or a forged time. The terminal must
// refuse the page with a typed reason and apply nothing from it: no voucher, no allowance, no revocation, no
// cursor move, no fresh "last synced" (which would keep offline limits loose).
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage, verifyFeedPage } from '../../src/protocol/feed-page.ts';
import { signerFromSecretKey, type Signer } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { CentreClient, registerWithCentre, SETTINGS } from '../../src/sync/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import { SETTING as LEDGER_SETTING } from '../../src/ledger/ledger.ts';

type Page = Awaited<ReturnType<CentreClient['feed']>>;

describe('feed page forgery', () => {
  let dir: string;
  let server: RunningServer;
  let store: Store;
  let signer: Signer;
  let client: CentreClient;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-feedsec-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    store = openStore(join(dir, 'terminal.db'));
    signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer });
    await server.central.addTerminal({ id: 'T2', name: 'other', branch: 'B1', region: 'R1' });
    client = new CentreClient({ baseUrl: server.url, credentials: { terminalId: 'T1', sign: (m) => signer.sign(m) } });
  });
  afterEach(async () => {
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What a page could change on the terminal; must be the same before and after a refused page. */
  const state = () => ({
    cursor: store.settings.get(SETTINGS.cursor) ?? null,
    feedAt: store.settings.get(SETTINGS.feedAt) ?? null,
    lastSync: store.settings.get(LEDGER_SETTING.lastSyncMs) ?? null,
    serverTime: store.settings.get(LEDGER_SETTING.serverTime) ?? null,
    revoked: store.settings.get(SETTINGS.revoked) ?? null,
    voucher: store.vouchers.get('V-EVIL') ?? null,
    allowance: store.allowances.get('P-EVIL', 'SYP') ?? null,
  });
  const evilEvents = [
    { seq: 900, kind: 'voucher', key: 'V-EVIL', data: { voucherId: 'V-EVIL', personId: 'P-EVIL', accountId: 'P-EVIL', period: '2026-11', amountMinor: 90_000_000_00, currency: 'SYP', leaseId: 'L-EVIL' } },
    { seq: 901, kind: 'allowance', key: 'A-EVIL:SYP', data: { accountId: 'A-EVIL', customerId: 'P-EVIL', currency: 'SYP', amountMinor: 90_000_000_000_00 } },
    { seq: 902, kind: 'terminal_revoked', key: 'T9', data: { terminalId: 'T9' } },
  ];
  /** The terminal pulls through `feed`, which sends a real signed request and then hands back `tamper(page)`. */
  async function pullThrough(tamper: (genuine: Page) => Page | Promise<Page>) {
    const feed = async (cursor: number) => tamper(await client.feed(cursor));
    return pullFeed({ store, client: { feed } as Pick<CentreClient, 'feed'>, terminalId: 'T1' });
  }
  async function refused(tamper: (genuine: Page) => Page | Promise<Page>, code: string) {
    const before = state();
    await expect(pullThrough(tamper)).rejects.toMatchObject({ code });
    expect(state()).toEqual(before);
  }

  it('applies a genuine page (the control)', async () => {
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    const r = await pullThrough((p) => p);
    expect(r.events).toBe(1);
    expect(store.vouchers.get('V-2026-11-P1')).toMatchObject({ amountMinor: 250000 });
  });

  it('refuses a page signed by another key (a fake centre) carrying a 90,000,000 voucher, an allowance and a revocation', async () => {
    const fake = serverIdentity(newServerKeyPkcs8());
    await refused((g) => {
      const time = signTime(fake, Date.now() + 30 * 86_400_000);
      const proof = signFeedPage(fake.privateKey, { terminalId: 'T1', from: 0, to: 902, more: false, eventsSha256: eventsDigest(evilEvents), timeMs: time.ms, request: g.request });
      return { events: evilEvents, cursor: 902, more: false, time, proof, request: g.request };
    }, 'FEED_FORGED');
  });

  it('refuses a page without a signature, even with a genuine signed time', async () => {
    const time = server.central.signedTime();
    await refused((g) => ({ events: evilEvents, cursor: 902, more: false, time, request: g.request }), 'FEED_UNSIGNED');
  });

  it('refuses a genuine page whose events were edited on the way', async () => {
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    await refused((g) => ({ ...g, events: [...g.events, ...evilEvents] }), 'FEED_FORGED');
    await refused((g) => ({ ...g, events: g.events.map((e) => ({ ...e, data: { ...e.data, amountMinor: 90_000_000_00 } })) }), 'FEED_FORGED');
  });

  it('refuses an old genuine page replayed in answer to a new request', async () => {
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    const captured = await client.feed(0); // the attacker recorded this answer earlier
    await server.central.revokeTerminal('T2'); // the centre has news since
    await refused((g) => ({ ...captured, request: g.request }), 'FEED_REPLAYED');
  });

  it('refuses a genuine page signed for another terminal', async () => {
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    const t1Row = (await server.central.repo.tx((r) => r.getTerminal('T1')))!;
    await refused(async (g) => {
      const other = await server.central.feed({ ...t1Row, id: 'T2' }, 0, 500, g.request);
      return { ...other, request: g.request };
    }, 'FEED_NOT_OURS');
  });

  it('refuses a page that does not continue the cursor (checked by the pure verifier)', () => {
    const centre = serverIdentity(newServerKeyPkcs8());
    const time = signTime(centre, Date.now());
    const proof = signFeedPage(centre.privateKey, { terminalId: 'T1', from: 0, to: 5, more: false, eventsSha256: eventsDigest([]), timeMs: time.ms, request: 'r' });
    expect(() => verifyFeedPage(centre.publicKeyHex, { events: [], cursor: 5, more: false, time, proof }, { terminalId: 'T1', cursor: 7, request: 'r' })).toThrow(expect.objectContaining({ code: 'FEED_NOT_CONTINUING' }));
    expect(() => verifyFeedPage(centre.publicKeyHex, { events: [], cursor: 5, more: false, time: { ms: time.ms + 1 }, proof }, { terminalId: 'T1', cursor: 0, request: 'r' })).toThrow(expect.objectContaining({ code: 'FEED_TIME_MISMATCH' }));
    expect(() => verifyFeedPage(undefined, { events: [], cursor: 5, more: false, time, proof }, { terminalId: 'T1', cursor: 0, request: 'r' })).toThrow(expect.objectContaining({ code: 'FEED_UNSIGNED' }));
  });
});

describe('the link to the centre', () => {
  it('refuses plain http except on loopback', () => {
    expect(() => new CentreClient({ baseUrl: 'http://centre.example.org:8470' })).toThrow(expect.objectContaining({ code: 'SYNC_INSECURE_URL' }));
    expect(() => new CentreClient({ baseUrl: 'http://10.0.0.5:8470' })).toThrow(expect.objectContaining({ code: 'SYNC_INSECURE_URL' }));
    expect(() => new CentreClient({ baseUrl: 'https://centre.example.org' })).not.toThrow();
    expect(() => new CentreClient({ baseUrl: 'http://127.0.0.1:8470' })).not.toThrow();
  });

  describe('clock correction', () => {
    let fake: Server;
    let url: string;
    const centre = serverIdentity(newServerKeyPkcs8());
    let timeAnswer: (nonce: string) => unknown;
    beforeEach(async () => {
      // A "centre" that refuses every request for its clock, then answers /v1/time as the test says.
      fake = createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://x');
        res.setHeader('content-type', 'application/json');
        if (u.pathname === '/v1/time') return res.end(JSON.stringify(timeAnswer(u.searchParams.get('nonce') ?? '')));
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'AUTH_CLOCK', message: 'request time is too far from the server time' } }));
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    });
    afterEach(async () => new Promise<void>((r) => fake.close(() => r())));
    const signer = signerFromSecretKey(randomBytes(32));
    const mk = () => new CentreClient({ baseUrl: url, credentials: { terminalId: 'T1', sign: (m) => signer.sign(m) }, serverPublicKey: centre.publicKeyHex });

    it('believes no unsigned time, and no signed time bound to another nonce', async () => {
      timeAnswer = () => ({ ms: Date.now() + 30 * 86_400_000, sig: 'x' });
      await expect(mk().feed(0)).rejects.toMatchObject({ code: 'SYNC_TIME_FORGED' });
      const old = signTime(centre, Date.now() - 30 * 86_400_000);
      timeAnswer = () => ({ ...old, bound: { ms: old.ms, nonce: 'a'.repeat(32), sig: old.sig } });
      await expect(mk().feed(0)).rejects.toMatchObject({ code: 'SYNC_TIME_FORGED' });
    });
  });
});
