// The region's bills in the signed feed: a real centre on loopback, a real terminal store. Open bills are cached
// with when they arrived; a bill paid anywhere leaves the cache when the feed says so; another region sees none.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { Billing } from '../../src/server/billing/billing.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, registerWithCentre } from '../../src/sync/index.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';

const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';

describe('bills in the feed', () => {
  let dir: string;
  let server: RunningServer;
  let billing: Billing;
  const stores: Store[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-bills-feed-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    billing = new Billing(server.central.repo);
    await billing.addBiller({ id: 'elec-hasakah', name: 'Electricity, Hasakah', region: 'hasakah' });
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) s.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function counter(id: string, region: string) {
    const store = openStore(join(dir, `${id}.db`));
    stores.push(store);
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id, name: id, branch: `B-${id}`, region });
    await registerWithCentre({ store, serverUrl: server.url, code, signer });
    return { store, sync: createSync({ store, serverUrl: server.url, signer }) };
  }

  it('caches the open bills of its region with their arrival time, and drops a bill once the feed says it is paid', async () => {
    const here = await counter('T1', 'hasakah');
    const elsewhere = await counter('T9', 'raqqa');
    await billing.importBills([HEADER, 'elec-hasakah,00123456,B-1,2026-11,250000,SYP,2026-12-15,1200,1450', 'elec-hasakah,00123456,B-2,2026-10,180000,SYP,2026-11-15,1000,1200', 'elec-hasakah,00777777,B-3,2026-11,90000,SYP,2026-12-15,10,40'].join('\n'));
    const before = Date.now();
    await here.sync.pullFeed();
    await elsewhere.sync.pullFeed();

    const due = here.store.bills.dueFor('00123456');
    expect(due.map((b) => b.billId)).toEqual(['B-2', 'B-1']); // oldest due date first
    expect(due[1]).toMatchObject({ billerId: 'elec-hasakah', cycle: '2026-11', amountMinor: 250000, currency: 'SYP', dueDate: '2026-12-15', previousReading: 1200, currentReading: 1450, paidSeq: null });
    expect(due[1]!.receivedAtMs).toBeGreaterThanOrEqual(before);
    expect(here.store.bills.known('00123456')).toBe(true);
    expect(here.store.bills.known('00999999')).toBe(false);
    expect(elsewhere.store.bills.dueFor('00123456')).toEqual([]);
    expect(elsewhere.store.bills.known('00123456')).toBe(false);

    // B-1 is paid at another counter of the region; the next feed takes it out of this counter's cache.
    const t2 = await registeredTerminal(server.central, 'T2', { region: 'hasakah', branch: 'B2' });
    await enrolCustomer(server.central, t2, 'P1', 'A1');
    await server.central.creditAccount('A1', 1_000_000, 'SYP');
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    const [r] = await server.central.ingest('T2', [t2.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: 'PUR-1', customerId: 'P1', accountId: 'A1', amountMinor: 250000, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec-hasakah', billRef: 'B-1' } })]);
    expect(r).toMatchObject({ status: 'accepted' });
    await here.sync.pullFeed();
    expect(here.store.bills.dueFor('00123456').map((b) => b.billId)).toEqual(['B-2']);
    expect(here.store.bills.get('elec-hasakah', 'B-1')).toBeUndefined();
    expect(here.store.bills.known('00123456')).toBe(true); // still a known number: "nothing due", not "unknown"
  });
});
