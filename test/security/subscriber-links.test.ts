// Attacks on the subscriber links (issue 17): who may pay which subscriber number reaches the counter in the signed
// feed, and the bill flow refuses an unlinked payer offline. A link forged on the way (another key, no signature,
// an edited genuine page) or slipped into the terminal's SQLite file by a local user must link nobody.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';
import { Billing } from '../../src/server/billing/billing.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { CentreClient, registerWithCentre } from '../../src/sync/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { hashPin } from '../../src/ledger/pin.ts';
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';

type Page = Awaited<ReturnType<CentreClient['feed']>>;
const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';
const SUB = '00123456';

describe('subscriber links in the signed feed', () => {
  let dir: string;
  let server: RunningServer;
  let billing: Billing;
  let t: Terminal;
  let client: CentreClient;
  let bank: SqliteBank<string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-links-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    billing = server.central.billing();
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    const enroller = await registeredTerminal(server.central, 'T0', { region: 'R1', branch: 'B0' });
    await enrolCustomer(server.central, enroller, 'P1', 'A1');
    await enrolCustomer(server.central, enroller, 'P2', 'A2');
    await server.central.creditAccount('A1', 1_000_000, 'SYP');
    await server.central.creditAccount('A2', 1_000_000, 'SYP');
    await billing.importBills([HEADER, `elec,${SUB},B-1,2026-11,250000,SYP,2026-12-15,1200,1450`].join('\n'));
    provisionTerminal(join(dir, 'T1'), 'T1', { protector: filePermissionsProtector() });
    t = openTerminal(join(dir, 'T1'), { protector: filePermissionsProtector() });
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
    client = new CentreClient({ baseUrl: server.url, credentials: { terminalId: 'T1', sign: (m) => t.keys.signer.sign(m) } });
    bank = new SqliteBank<string>({ terminal: t, encode: (p) => new TextEncoder().encode(p) });
  });
  afterEach(async () => {
    t.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pull = (tamper: (genuine: Page) => Page | Promise<Page> = (p) => p) =>
    pullFeed({ store: t.store, client: { feed: async (cursor: number) => tamper(await client.feed(cursor)) } as Pick<CentreClient, 'feed'>, terminalId: 'T1', sealer: t.keys.sealer });
  const mayPay = (person: string) => bank.mayPayBills(person, SUB, ['elec']);
  const evilLink = { seq: 900, kind: 'subscriber_link', key: `elec:${SUB}:person:P2`, data: { billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P2', status: 'linked' } };

  it('a link made at the centre reaches the counter and lets only that payer pay; unlinking takes it back (the control)', async () => {
    await billing.link({ billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P1' });
    await pull();
    expect(mayPay('P1')).toBe(true);
    expect(mayPay('P2')).toBe(false);
    expect(bank.mayPayBills('P1', SUB, ['elec', 'water'])).toBe(false); // every biller of the payment must link
    await billing.unlink({ billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P1' });
    await pull();
    expect(mayPay('P1')).toBe(false);
  });

  it('an account link lets the account owner pay', async () => {
    await billing.link({ billerId: 'elec', subscriber: SUB, payerKind: 'account', payerId: 'A2' });
    await pull();
    expect(mayPay('P2')).toBe(true);
    expect(mayPay('P1')).toBe(false);
  });

  it('refuses a page signed by another key carrying a link, and stores nothing', async () => {
    const fake = serverIdentity(newServerKeyPkcs8());
    await expect(pull((g) => {
      const time = signTime(fake, Date.now());
      const proof = signFeedPage(fake.privateKey, { terminalId: 'T1', from: 0, to: 900, more: false, eventsSha256: eventsDigest([evilLink]), timeMs: time.ms, request: g.request });
      return { events: [evilLink], cursor: 900, more: false, time, proof, request: g.request };
    })).rejects.toMatchObject({ code: 'FEED_FORGED' });
    expect(t.store.bills.links('elec', SUB)).toEqual([]);
    expect(mayPay('P2')).toBe(false);
  });

  it('refuses an unsigned page carrying a link', async () => {
    await expect(pull((g) => ({ events: [evilLink], cursor: 900, more: false, time: server.central.signedTime(), request: g.request }))).rejects.toMatchObject({ code: 'FEED_UNSIGNED' });
    expect(t.store.bills.links('elec', SUB)).toEqual([]);
  });

  it('refuses a genuine page whose link was edited to another payer', async () => {
    await billing.link({ billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P1' });
    await expect(pull((g) => ({ ...g, events: g.events.map((e) => (e.kind === 'subscriber_link' ? { ...e, data: { ...e.data, payerId: 'P2' } } : e)) }))).rejects.toMatchObject({ code: 'FEED_FORGED' });
    expect(t.store.bills.links('elec', SUB)).toEqual([]);
    expect(mayPay('P2')).toBe(false);
  });

  it('a link a local user writes into the SQLite file links nobody: unsealed, or with another row’s seal', async () => {
    await billing.link({ billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P1' });
    await pull();
    const [genuine] = t.store.bills.links('elec', SUB);
    const db = new Database(join(dir, 'T1', 'terminal.db'));
    try {
      db.prepare('INSERT INTO subscriber_links (biller_id, subscriber, payer_kind, payer_id, received_at_ms, seal) VALUES (?, ?, ?, ?, ?, ?)').run('elec', SUB, 'person', 'P2', genuine!.receivedAtMs, null);
      expect(mayPay('P2')).toBe(false);
      db.prepare('UPDATE subscriber_links SET seal = ? WHERE payer_id = ?').run(genuine!.seal, 'P2');
      expect(mayPay('P2')).toBe(false);
    } finally {
      db.close();
    }
    expect(mayPay('P1')).toBe(true);
  });

  it('the counter refuses an unlinked payer offline even when the screen is bypassed (the centre re-checks: BILL_PAYER_NOT_LINKED, test/server/billing.test.ts)', async () => {
    await billing.link({ billerId: 'elec', subscriber: SUB, payerKind: 'person', payerId: 'P1' });
    await pull();
    const pin = await hashPin('4321', { N: 1 << 10, r: 8, p: 1 });
    t.ledger.customerPins.setHash('P2', pin);
    const look = bank.lookupBills(SUB);
    const req = { requestId: 'r-1', operatorId: 'op-1', personId: 'P2', subscriber: SUB, bills: look.bills.map((b) => ({ billerId: b.billerId, billId: b.billId, amount: b.amount })) };
    expect(bank.payBills(req)).toEqual({ ok: false, reason: 'not-linked' });
    expect(t.store.journal.byRef('purchase', 'r-1:0')).toBeFalsy();
  });
});
