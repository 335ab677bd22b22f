// Feed puller and sneakernet against a real centre on loopback and a real terminal store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretboxSealer } from '../../src/ledger/sealer.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, feedFreshness, registerWithCentre, SETTINGS, tightenLimit } from '../../src/sync/index.ts';
import { appendToStore, ChainWriter, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { exportOutbox, readExport } from '../../src/sync/sneakernet.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';

describe('feed freshness (pure)', () => {
  const H = 3600_000;
  it('tightens offline limits as the feed ages, and says why', () => {
    expect(feedFreshness(undefined, 0, 24 * H)).toMatchObject({ stale: true, limitFactor: 0 });
    expect(feedFreshness(0, 23 * H, 24 * H)).toMatchObject({ stale: false, limitFactor: 1 });
    const half = feedFreshness(0, 30 * H, 24 * H);
    expect(half).toMatchObject({ stale: true, limitFactor: 0.5, message: expect.stringMatching(/30 h ago: offline limits halved/) });
    expect(tightenLimit(10_001, half)).toBe(5000);
    expect(feedFreshness(0, 49 * H, 24 * H)).toMatchObject({ limitFactor: 0, message: expect.stringMatching(/refused/) });
  });
});

describe('terminal ↔ centre', () => {
  let dir: string;
  let server: RunningServer;
  let store: Store;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-feed-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    store = openStore(join(dir, 'terminal.db'));
  });
  afterEach(async () => {
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers with a one-time code, then applies the feed transactionally: people, templates, vouchers, allowances, revocations', async () => {
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    const cert = await registerWithCentre({ store, serverUrl: server.url, code, signer });
    expect(cert.body).toMatchObject({ terminalId: 'T1', region: 'R1' });
    expect(store.settings.get(SETTINGS.terminalId)).toBe('T1');

    const enroller = await registeredTerminal(server.central, 'T0', { region: 'R1', branch: 'B0' });
    const e = await enrolCustomer(server.central, enroller, 'P1', 'A1');
    await server.central.creditAccount('A1', 7_000_000, 'SYP');
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    await server.central.revokeTerminal('T0');

    const sealer = secretboxSealer(randomBytes(32));
    const sync = createSync({ store, serverUrl: server.url, signer, sealer });
    const r = await sync.pullFeed();
    expect(r.events).toBeGreaterThanOrEqual(4);
    expect(store.people.get('P1')).toMatchObject({ name: 'Test Person', status: 'active' });
    const [tpl] = store.templates.byPerson('P1');
    expect(Buffer.from(sealer.open(tpl!.sealed, tpl!.templateId)).equals(e.template)).toBe(true);
    expect(store.vouchers.get('V-2026-11-P1')).toMatchObject({ amountMinor: 250000, status: 'open', accountId: 'A1' });
    expect(store.vouchers.lease('V-2026-11-P1')?.terminalId).toBe('T1');
    expect(store.allowances.get('P1', 'SYP')).toMatchObject({ limitMinor: 5_000_000, balanceMinor: 7_000_000 }); // capped; the balance itself for the statement
    expect(store.settings.get<string[]>(SETTINGS.revoked)).toEqual(['T0']);
    expect(sync.status().feed).toMatchObject({ stale: false });
    // pulling again brings nothing new: the cursor was stored with the page
    expect((await sync.pullFeed()).events).toBe(0);
    await sync.stop();
  });

  it('keeps the cursor and the data together: a page that fails to apply leaves both untouched', async () => {
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer });
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,P1,250000,SYP,B1');
    store.db.exec(`CREATE TRIGGER no_leases BEFORE INSERT ON voucher_leases BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
    const sync = createSync({ store, serverUrl: server.url, signer });
    await expect(sync.pullFeed()).rejects.toThrow(/disk trouble/);
    expect(store.vouchers.get('V-2026-11-P1')).toBeUndefined();
    expect(store.settings.get(SETTINGS.cursor)).toBeUndefined();
    store.db.exec('DROP TRIGGER no_leases');
    await sync.pullFeed();
    expect(store.vouchers.lease('V-2026-11-P1')).toBeDefined();
  });

  it('moves records by USB stick: export, import, then upload is idempotent with it', async () => {
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer });
    await server.central.grantOperator('T1', { operatorId: 'op-1', name: 'Cashier', role: 'cashier', active: true });
    await enrolCustomer(server.central, await registeredTerminal(server.central, 'T0'), 'P1', 'A1');
    await server.central.creditAccount('A1', 1e9, 'SYP');
    const chain = new ChainWriter('T1', signer);
    appendToStore(store, Array.from({ length: 40 }, (_, i) => chain.next(purchaseDraft('T1', i, 'P1', 'A1', 25))));

    const file = join(dir, 'usb.jsonl');
    const header = exportOutbox(store, file);
    expect(header).toMatchObject({ terminalId: 'T1', count: 40, firstSeq: 1, lastSeq: 40 });
    const { records } = readExport(file);
    const first = await server.central.importRecords(records);
    expect(first.get('T1')!.every((r) => r.status === 'accepted')).toBe(true);
    const again = await server.central.importRecords(records);
    expect(again.get('T1')!.every((r) => r.status === 'duplicate')).toBe(true);

    // the link comes back: the queued copies are acknowledged as duplicates, applied once
    const sync = createSync({ store, serverUrl: server.url, signer });
    sync.start();
    await sync.drained(20_000);
    await sync.stop();
    expect(store.outbox.stats()).toMatchObject({ pending: 0, inFlight: 0 });
    expect(store.journal.count()).toBe(40);
    expect(await server.central.repo.tx((r) => r.balance('merchant:T1', 'SYP'))).toBe(40 * 25);

    // records of an unknown terminal in the same file are refused, the others are not held up
    const ghost = new ChainWriter('GHOST', signerFromSecretKey(randomBytes(32))).next(purchaseDraft('GHOST', 1, 'P1', 'A1', 1));
    const mixed = await server.central.importRecords([ghost, ...records]);
    expect(mixed.get('GHOST')).toEqual([{ seq: 1, status: 'invalid', reason: 'terminal GHOST is not registered' }]);
    expect(mixed.get('T1')!.every((r) => r.status === 'duplicate')).toBe(true);

    // a truncated copy is refused whole
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'short.jsonl'), lines.slice(0, 10).join('\n'));
    expect(() => readExport(join(dir, 'short.jsonl'))).toThrow(/holds 9 records, its header says 40/);
  });
});
