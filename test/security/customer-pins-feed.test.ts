// A PIN set at one counter works at the region's other counters (issue 17f): the centre sends the verifier only in
// the feed page it signs for each terminal, and the terminal stores it sealed (Ledger.applyCustomerPin). Over real
// loopback HTTP: counter T1 sets the PIN (a signed pin_set, approved by its supervisor), the centre accepts it,
// counter T2 pulls its feed and can check the PIN. A page from a fake centre carrying a PIN is refused whole.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPin, verifyPinHash } from '../../src/ledger/pin.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import { CentreClient, registerWithCentre } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';

describe('a customer PIN set at one counter reaches the region’s other counters', () => {
  let dir: string;
  let cleanup: () => void;
  let server: RunningServer;
  let t1: Terminal;
  let t2: Terminal;
  let client2: CentreClient;
  let verifier: string;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
    t1 = makeTerminal(join(dir, 't1'), 'T1');
    t2 = makeTerminal(join(dir, 't2'), 'T2');
    for (const t of [t1, t2]) {
      const { code } = await server.central.addTerminal({ id: t.ledger.terminalId, name: 'counter', branch: 'B1', region: 'R1' });
      await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
      // The person, confirmed, known at both counters (as the demo's people are).
      t.store.people.upsert({ personId: 'P1', name: 'Rojîn', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: Date.now() });
    }
    await server.central.repo.tx((r) => r.insertPerson({ id: 'P1', region: 'R1', status: 'confirmed', account_id: 'A1', terminal_id: 'T1', seq: 0, digests: '[]', templates: null, duplicate_of: null, created_at: Date.now(), updated_at: Date.now() }));
    await server.central.grantOperator('T1', { operatorId: 'op-cashier', name: 'Cash', role: 'cashier', active: true });
    await server.central.grantOperator('T1', { operatorId: 'op-super', name: 'Sara', role: 'supervisor', active: true });
    t1.ledger.operators.add({ operatorId: 'op-super', name: 'Sara', role: 'supervisor', pinHash: 'x' });
    client2 = new CentreClient({ baseUrl: server.url, credentials: { terminalId: 'T2', sign: (m) => t2.keys.signer.sign(m) } });
    verifier = await hashPin('2580'); // the terminal's own cost: the centre refuses a weaker verifier
  });
  afterEach(async () => {
    t1.close();
    t2.close();
    await server.close();
    cleanup();
  });
  const pull2 = (feed: Pick<CentreClient, 'feed'> = client2) =>
    pullFeed({ store: t2.store, client: feed, terminalId: 'T2', sealer: t2.keys.sealer, onCustomerPin: (p, h) => t2.ledger.applyCustomerPin(p, h) });

  it('set at T1 (supervisor-approved, accepted by the centre), then usable at T2 after its feed', async () => {
    const rec = t1.ledger.append({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: 'PS-1', personId: 'P1', pinHash: verifier, approvedBy: 'op-super' });
    expect(t1.ledger.customerPins.get('P1')!.pinHash).toBe(verifier);
    expect((await server.central.ingest('T1', [rec]))[0]).toMatchObject({ status: 'accepted' });
    expect(t2.ledger.customerPins.get('P1')?.pinHash ?? null).toBeNull();
    await pull2();
    const atT2 = t2.ledger.customerPins.get('P1')!; // read through its seal: stored by the ledger, not written raw
    expect(atT2.pinHash).toBe(verifier);
    expect(await verifyPinHash('2580', atT2.pinHash!)).toBe(true);
  });

  it('attack: a page from a fake centre setting a PIN is refused (FEED_FORGED) and sets nothing', async () => {
    await pull2();
    const fake = serverIdentity(newServerKeyPkcs8());
    const events = [{ seq: 999, kind: 'customer_pin', key: 'P1', data: { personId: 'P1', pinHash: verifier } }];
    const feed = async (cursor: number) => {
      const g = await client2.feed(cursor);
      const time = signTime(fake, Date.now());
      const proof = signFeedPage(fake.privateKey, { terminalId: 'T2', from: cursor, to: 999, more: false, eventsSha256: eventsDigest(events), timeMs: time.ms, request: g.request });
      return { events, cursor: 999, more: false, time, proof, request: g.request };
    };
    await expect(pull2({ feed })).rejects.toMatchObject({ code: 'FEED_FORGED' });
    expect(t2.ledger.customerPins.get('P1')?.pinHash ?? null).toBeNull();
  });
});
