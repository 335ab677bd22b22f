// Offline limits come from the centre (issue 13, item 11): the admin sets a terminal's limits at the centre, they
// travel in the feed page the centre signs for that terminal, and the terminal stores them sealed and anchored.
// A page not signed by the pinned centre key carries no limits; bad limits are refused at the centre, typed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { CentreClient, createSync, registerWithCentre } from '../../src/sync/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { DEFAULT_OFFLINE_LIMITS, type OfflineLimits } from '../../src/ledger/limits.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';
import { runCli } from './harness.ts';

const lower: OfflineLimits = {
  perTransactionMaxMinor: { SYP: 1_000, USD: 10 },
  terminalStoredMaxMinor: { SYP: 100_000, USD: 1_000 },
  maxStoredRecordAgeMs: 3_600_000,
  maxSinceLastSyncMs: 7_200_000,
};

describe('offline limits set at the centre', () => {
  let dir: string;
  let cleanup: () => void;
  let server: RunningServer;
  let t: Terminal;
  let client: CentreClient;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
    t = makeTerminal(join(dir, 'terminal'), 'T1');
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await server.central.addTerminal({ id: 'T2', name: 'other', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
    client = new CentreClient({ baseUrl: server.url, credentials: { terminalId: 'T1', sign: (m) => t.keys.signer.sign(m) } });
  });
  afterEach(async () => {
    t.close();
    await server.close();
    cleanup();
  });

  const pull = (feed: Pick<CentreClient, 'feed'> = client) =>
    pullFeed({ store: t.store, client: feed, terminalId: 'T1', sealer: t.keys.sealer, onLimits: (l) => t.ledger.setLimits(l) });

  it('arrive in the signed feed and bind the terminal (a purchase above the new cap is declined offline)', async () => {
    expect(t.ledger.limits()).toEqual(DEFAULT_OFFLINE_LIMITS);
    await server.central.setTerminalLimits('T1', lower);
    await server.central.setTerminalLimits('T2', { ...lower, perTransactionMaxMinor: { SYP: 5, USD: 5 } });
    await pull();
    expect(t.ledger.limits()).toEqual(lower);
    expect(t.ledger.checkOffline('C1', 2_000, 'SYP')).toMatchObject({ allow: false, reason: 'PER_TRANSACTION_CAP' });
  });

  it("reach the ledger through the kiosk's sync engine (the same wiring as the counter)", async () => {
    await server.central.setTerminalLimits('T1', lower);
    const sync = createSync({ store: t.store, serverUrl: server.url, signer: t.keys.signer, ledger: t.ledger, sealer: t.keys.sealer });
    try {
      await sync.pullFeed();
    } finally {
      await sync.stop();
    }
    expect(t.ledger.limits()).toEqual(lower);
  });

  it('a page from a fake centre carrying looser limits is refused and changes nothing', async () => {
    await server.central.setTerminalLimits('T1', lower);
    await pull();
    const fake = serverIdentity(newServerKeyPkcs8());
    const loose = { ...lower, perTransactionMaxMinor: { SYP: 10 ** 12, USD: 10 ** 12 } };
    const events = [{ seq: 999, kind: 'terminal_limits', key: 'T1', data: { terminalId: 'T1', limits: loose } }];
    const feed = async (cursor: number) => {
      const g = await client.feed(cursor);
      const time = signTime(fake, Date.now());
      const proof = signFeedPage(fake.privateKey, { terminalId: 'T1', from: cursor, to: 999, more: false, eventsSha256: eventsDigest(events), timeMs: time.ms, request: g.request });
      return { events, cursor: 999, more: false, time, proof, request: g.request };
    };
    await expect(pull({ feed })).rejects.toMatchObject({ code: 'FEED_FORGED' });
    expect(t.ledger.limits()).toEqual(lower);
  });

  it('bad limits, an unknown or a revoked terminal are refused at the centre with a typed error', async () => {
    await expect(server.central.setTerminalLimits('NO-SUCH', lower)).rejects.toMatchObject({ code: 'TERMINAL_UNKNOWN' });
    await expect(server.central.setTerminalLimits('T1', { ...lower, maxSinceLastSyncMs: -1 })).rejects.toMatchObject({ code: 'LIMITS_INVALID' });
    await server.central.revokeTerminal('T2');
    await expect(server.central.setTerminalLimits('T2', lower)).rejects.toMatchObject({ code: 'TERMINAL_REVOKED' });
  });

  it('palmpay server terminal limits: sets them, and refuses a bad amount or currency with one typed line', async () => {
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'palmpay-limits-cli-')), 'centre.db')}`;
    try {
      await runCli('server', 'terminal', 'add', '--name', 'c', '--branch', 'B1', '--region', 'R1', '--id', 'T9', '--db', db);
      const ok = await runCli('server', 'terminal', 'limits', 'T9', '--per-transaction', 'SYP=1000,USD=10', '--stored', 'SYP=100000,USD=1000', '--max-record-age-hours', '1', '--max-sync-age-hours', '2', '--db', db);
      expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/limits of terminal T9 set/) });
      for (const bad of ['EUR=5,SYP=1,USD=1', 'SYP=-1,USD=1', 'SYP=1.5,USD=1', 'SYP=1']) {
        const r = await runCli('server', 'terminal', 'limits', 'T9', '--per-transaction', bad, '--stored', 'SYP=100000,USD=1000', '--max-record-age-hours', '1', '--max-sync-age-hours', '2', '--db', db);
        expect(r).toMatchObject({ code: 1, err: expect.stringMatching(/^palmpay: offline limits: perTransactionMaxMinor/) });
      }
    } finally {
      rmSync(db.slice('sqlite:'.length, -'/centre.db'.length), { recursive: true, force: true });
    }
  });
});
