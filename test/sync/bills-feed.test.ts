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
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { hashPin } from '../../src/ledger/pin.ts';
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import { SETTINGS } from '../../src/sync/index.ts';
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
    billing = server.central.billing();
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
    const [r] = await server.central.ingest('T2', [t2.chain.next({ type: 'purchase', operatorId: 'op-1', purchaseId: 'PUR-1', customerId: 'P1', accountId: 'A1', amountMinor: 250000, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec-hasakah', billRef: 'B-1' } })]);
    expect(r).toMatchObject({ status: 'accepted' });
    await here.sync.pullFeed();
    expect(here.store.bills.dueFor('00123456').map((b) => b.billId)).toEqual(['B-2']);
    expect(here.store.bills.get('elec-hasakah', 'B-1')).toBeUndefined();
    expect(here.store.bills.known('00123456')).toBe(true); // still a known number: "nothing due", not "unknown"
  });

  /** A real counter: signed ledger, store, SqliteBank, registered in the region; the link is up only when asked. */
  async function realCounter(id: string) {
    const tdir = join(dir, id);
    provisionTerminal(tdir, id, { protector: filePermissionsProtector() });
    const t: Terminal = openTerminal(tdir, { protector: filePermissionsProtector() });
    closers.push(() => t.close());
    const { code } = await server.central.addTerminal({ id, name: id, branch: `B-${id}`, region: 'hasakah' });
    await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
    await server.central.grantOperator(id, { operatorId: 'op-1', name: 'Cashier', role: 'cashier', active: true });
    const sync = createSync({ store: t.store, serverUrl: server.url, signer: t.keys.signer, ledger: t.ledger, sealer: t.keys.sealer });
    const bank = new SqliteBank<string>({ terminal: t, encode: (p) => new TextEncoder().encode(p) });
    return { t, sync, bank };
  }
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  it('a bill paid at two counters while both were offline: the centre takes the first, sends the second to review, and moves the money once', async () => {
    const enroller = await registeredTerminal(server.central, 'T0', { region: 'hasakah', branch: 'B0' });
    await enrolCustomer(server.central, enroller, 'P1', 'A1');
    await server.central.creditAccount('A1', 1_000_000, 'SYP');
    await billing.link({ billerId: 'elec-hasakah', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    await billing.importBills([HEADER, 'elec-hasakah,00123456,B-1,2026-11,250000,SYP,2026-12-15,1200,1450'].join('\n'));
    const a = await realCounter('T1');
    const b = await realCounter('T2');
    const pin = await hashPin('4321', { N: 1 << 10, r: 8, p: 1 });
    for (const c of [a, b]) {
      await c.sync.pullFeed(); // the person, the allowance (from the credit) and the bill
      c.t.ledger.customerPins.setHash('P1', pin); // the payer's secret code, as enrolment gives it
    }
    // Both counters now go offline and the payer pays B-1 at each (it shows as due at both).
    const pay = (c: typeof a, requestId: string) => {
      const look = c.bank.lookupBills('00123456');
      expect(look.bills.map((x) => x.billId)).toEqual(['B-1']);
      return c.bank.payBills({ requestId, operatorId: 'op-1', personId: 'P1', subscriber: '00123456', bills: look.bills.map((x) => ({ billerId: x.billerId, billId: x.billId, amount: x.amount })) });
    };
    const first = pay(a, 'req-a');
    const second = pay(b, 'req-b');
    expect(first).toMatchObject({ ok: true, receipt: { kind: 'bill', total: { minor: 250000, currency: 'SYP' } } });
    expect(second).toMatchObject({ ok: true });
    // Paid here: never offered again at this counter, and the same request is decided once.
    expect(a.bank.lookupBills('00123456').bills).toEqual([]);
    expect(a.bank.payBills({ requestId: 'req-a', operatorId: 'op-1', personId: 'P1', subscriber: '00123456', bills: [{ billerId: 'elec-hasakah', billId: 'B-1', amount: { minor: 250000, currency: 'SYP' } }] })).toEqual({ ok: false, reason: 'duplicate-request' });

    // The links return: T1 uploads first, then T2.
    a.sync.start();
    await a.sync.drained(15_000);
    await a.sync.stop();
    b.sync.start();
    await b.sync.drained(15_000);
    await b.sync.stop();
    const balance = (acct: string) => server.central.repo.tx((r) => r.balance(acct, 'SYP'));
    expect(await balance('acct:A1')).toBe(1_000_000 - 250000); // once, not twice
    expect(await balance('biller:elec-hasakah')).toBe(250000);
    const reviews = await server.central.reviewList();
    expect(reviews).toEqual([expect.objectContaining({ kind: 'purchase', reason: expect.stringMatching(/^BILL_ALREADY_PAID: .*T1#/) })]);
    expect((await billing.listBills()).map((x) => [x.bill_id, x.status, x.paid_by?.split('#')[0]])).toEqual([['B-1', 'paid', 'T1']]);
    expect(await server.central.repo.tx((r) => r.ledgerTotals())).toMatchObject({ unbalanced: 0 });
  });

  it('the counter pays only the cached bill at its cached amount: a changed amount, a stale feed, a payer without PIN are refused and nothing is written', async () => {
    await billing.importBills([HEADER, 'elec-hasakah,00123456,B-1,2026-11,250000,SYP,2026-12-15,1200,1450'].join('\n'));
    const a = await realCounter('T1');
    await a.sync.pullFeed();
    a.t.store.people.upsert({ personId: 'P1', name: 'أ / A', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: Date.now() });
    a.t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'P1', currency: 'SYP', status: 'active', updatedAtMs: Date.now() });
    const req = (minor: number) => ({ requestId: `r-${minor}`, operatorId: 'op-1', personId: 'P1', subscriber: '00123456', bills: [{ billerId: 'elec-hasakah', billId: 'B-1', amount: { minor, currency: 'SYP' } }] });
    expect(a.bank.payBills(req(250000))).toEqual({ ok: false, reason: 'not-linked' }); // the centre linked nobody to this number
    // The links as a verified feed page stores them (P1 is not known to this test's centre).
    for (const subscriber of ['00123456', '00999999']) a.t.ledger.centreCopies.putLink({ billerId: 'elec-hasakah', subscriber, payerKind: 'person', payerId: 'P1', receivedAtMs: Date.now() });
    expect(a.bank.payBills(req(250000))).toEqual({ ok: false, reason: 'pin-not-set' });
    a.t.ledger.customerPins.setHash('P1', await hashPin('4321', { N: 1 << 10, r: 8, p: 1 }));
    const before = a.t.store.journal.count();
    expect(a.bank.payBills(req(1))).toEqual({ ok: false, reason: 'bill-changed' }); // never a typed amount
    expect(a.bank.payBills({ ...req(250000), subscriber: '00999999' })).toEqual({ ok: false, reason: 'bill-changed' }); // another subscriber's number
    // The feed grew older than its age limit: the bills may have been paid elsewhere.
    a.t.store.settings.set(SETTINGS.feedAt, Date.now() - a.t.ledger.limits().maxSinceLastSyncMs - 1000);
    expect(a.bank.lookupBills('00123456')).toMatchObject({ known: true, bills: [{ billId: 'B-1' }] });
    expect(a.bank.payBills(req(250000))).toEqual({ ok: false, reason: 'bills-stale' });
    expect(a.t.store.journal.count()).toBe(before);
    expect(a.t.store.bills.get('elec-hasakah', 'B-1')?.paidSeq).toBeNull();
  });
});

