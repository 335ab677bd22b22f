// The palm index loads after the first screen (cold start), and the feed keeps arriving meanwhile. The attack: a
// person the centre revoked lays a palm while the index is still loading — the revocation reached the store after
// the loader listed the rows, so the snapshot entry is still loaded. The palm must not pay: the palm read waits for
// the index AND for the palm changes the feed brought during the load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk, type KioskOptions } from '../../src/host/compose.ts';
import { pullFeed, SETTINGS } from '../../src/sync/feed.ts';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';
import type { PalmsStatus } from '../../src/api/schemas.ts';

let dir: string;
let k: Kiosk | undefined;
const logs: string[] = [];
const options = (extra: Partial<KioskOptions> = {}): KioskOptions => ({
  dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true },
  hooks: { log: (m) => void logs.push(m) }, ...extra,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-palm-load-'));
  // First start: the demo branch, its palms, and the sealed snapshot the next start loads.
  const first = await createKiosk(options());
  await first.close();
});
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A feed page revoking `personId`, signed by a centre key pinned for the test, applied as the sync engine does. */
async function revokeThroughFeed(kiosk: Kiosk, personId: string): Promise<void> {
  const { store, ledger, keys } = kiosk.terminal;
  const centre = serverIdentity(newServerKeyPkcs8());
  store.settings.set(SETTINGS.serverPublicKey, centre.publicKeyHex);
  const from = store.settings.get<number>(SETTINGS.cursor) ?? 0;
  const events = [{ seq: from + 1, kind: 'person_revoked', key: personId, data: { personId } }];
  const time = signTime(centre, Date.now());
  const proof = signFeedPage(centre.privateKey, { terminalId: ledger.terminalId, from, to: from + 1, more: false, eventsSha256: eventsDigest(events), timeMs: time.ms, request: 'r-revoke' });
  const page = { events, cursor: from + 1, more: false, time, proof, request: 'r-revoke' };
  const client = { feed: async () => page } as unknown as Parameters<typeof pullFeed>[0]['client'];
  // onPalms is the sync engine's own hand-off (src/sync/index.ts emits 'palms' with the same change).
  await pullFeed({ store, client, terminalId: ledger.terminalId, sealer: keys.sealer, onPalms: (c) => kiosk.link!.sync.emit('palms', c) });
}

describe('a revocation that arrives while the palm index is loading', () => {
  it('waits for the first screen: "waiting", then "loading", then "ready"; the revoked palm never pays', async () => {
    let open!: () => void;
    const firstScreen = new Promise<void>((resolve) => (open = resolve));
    logs.length = 0;
    k = await createKiosk(options({ palmIndexAfter: firstScreen }));
    const kiosk = k;
    // The kiosk is up (its sign-in screen can be served) and the index has not started.
    expect(kiosk.status.palms.status()).toEqual({ state: 'waiting', loaded: 0, total: 0 });
    expect(kiosk.identifier.size).toBe(0);
    // The real sync engine must not pull a page of the real centre in between (its key is replaced below).
    await kiosk.link!.sync.stop();

    // The centre's revocation lands between the loader listing the rows and loading the snapshot's entries.
    const states: PalmsStatus['state'][] = [];
    let revoked: Promise<void> | null = null;
    kiosk.status.palms.onChange((s) => {
      states.push(s.state);
      if (s.state === 'loading' && !revoked) revoked = revokeThroughFeed(kiosk, 'cust-zin');
    });
    open();
    await expect.poll(() => kiosk.status.palms.status().state, { timeout: 20_000 }).toBe('ready');
    await revoked;
    expect(states[0]).toBe('loading');
    expect(kiosk.terminal.store.people.get('cust-zin')?.status).toBe('blocked');
    expect(kiosk.terminal.store.templates.byPerson('cust-zin')).toEqual([]);

    // Cashier signs in, types an amount, the revoked customer lays her palm: declined as an unknown palm, no record.
    kiosk.host.sessionSend({ type: 'login.start' });
    kiosk.present({ identity: 'op-cashier' });
    await kiosk.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    kiosk.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await kiosk.host.waitForSession((s) => s.step === 'active');
    const journalBefore = kiosk.terminal.store.journal.count();
    const f = kiosk.host.start('purchase');
    kiosk.host.send(f.flowId, { type: 'amount.set', minor: 500_000 });
    kiosk.present({ identity: 'cust-zin' });
    const end = await kiosk.host.waitFor(f.flowId, (s) => s.step === 'declined' || s.step === 'approved' || s.step === 'pin');
    expect(end.step).not.toBe('approved');
    expect(end.step).not.toBe('pin');
    expect(end).toMatchObject({ reason: 'unknown-palm' });
    expect(kiosk.terminal.store.journal.count()).toBe(journalBefore);
    expect(logs).toContain('palm index: person cust-zin revoked by the centre (1 templates dropped)');
  });

  it('a palm laid before the first screen starts the load at once and is decided on the loaded index', async () => {
    await k?.close();
    k = undefined;
    k = await createKiosk(options({ palmIndexAfter: new Promise<void>(() => undefined) })); // no screen ever asks
    const kiosk = k;
    expect(kiosk.status.palms.status().state).toBe('waiting');
    kiosk.host.sessionSend({ type: 'login.start' });
    kiosk.present({ identity: 'op-cashier' });
    await kiosk.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin', 20_000);
    kiosk.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await kiosk.host.waitForSession((s) => s.step === 'active');
    const g = kiosk.host.start('statement');
    kiosk.present({ identity: 'emp-ahmad' });
    expect((await kiosk.host.waitFor(g.flowId, (s) => s.step === 'shown' || s.step === 'refused', 20_000)).step).toBe('shown');
    expect(kiosk.status.palms.status().state).toBe('ready');
    // cust-zin's revocation is in the store: the restart's index never has her.
    expect(kiosk.identifier.size).toBe(15);
  });
});
