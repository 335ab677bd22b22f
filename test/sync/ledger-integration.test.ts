// The real terminal stack end to end: key store → ledger.append (journal + outbox in one transaction) →
// createSync → centre. The centre's signed time flows back into the next record the ledger signs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openKeyStore, provisionIdentity } from '../../src/ledger/keystore.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { verifyTime } from '../../src/protocol/crypto.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, registerWithCentre } from '../../src/sync/index.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

let dir: string;
let server: RunningServer;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-ledger-sync-'));
  server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
  store = openStore(join(dir, 'terminal.db'));
});
afterEach(async () => {
  store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

it('uploads what the ledger appended, and stamps later records with the centre’s signed time', async () => {
  const protector = filePermissionsProtector();
  provisionIdentity(dir, 'SHOP-1', protector);
  const keys = openKeyStore(dir, protector);
  const ledger = Ledger.open(store, keys);
  const { code } = await server.central.addTerminal({ id: 'SHOP-1', name: 'shop', branch: 'B1', region: 'R1' });
  await registerWithCentre({ store, serverUrl: server.url, code, signer: keys.signer, sealer: keys.sealer });
  await server.central.grantOperator('SHOP-1', { operatorId: 'op-1', name: 'Cashier', role: 'cashier', active: true });
  await enrolCustomer(server.central, await registeredTerminal(server.central, 'T0', { branch: 'B0' }), 'P1', 'A1');
  await server.central.creditAccount('A1', 100_000, 'SYP');

  const draft = (n: number) => ({ type: 'purchase' as const, operatorId: 'op-1', purchaseId: `pu-${n}`, customerId: 'P1', accountId: 'A1', amountMinor: 1000, currency: 'SYP' as const, pinVerified: true, offline: false });
  for (let i = 0; i < 5; i++) ledger.append(draft(i));

  const sync = createSync({ store, serverUrl: server.url, keys, ledger });
  sync.start();
  await sync.drained(20_000);
  await sync.pullFeed();
  await sync.stop();
  expect(store.outbox.stats()).toMatchObject({ pending: 0, inFlight: 0 });
  const stored = await server.central.repo.tx((r) => r.listRecords('SHOP-1'));
  expect(stored.map((r) => r.hash)).toEqual([...store.journal.iterate()].map((j) => j.hash));
  expect(await server.central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(95_000);

  // the X25519 key is kept sealed under the data key, and templates from the feed still open
  expect(JSON.stringify(store.settings.get('sync.encPrivateKey'))).toMatch(/^\{"sealed":/);
  const template = enrolmentBytes('P7', 'right');
  const { createHash } = await import('node:crypto');
  const t0 = await registeredTerminal(server.central, 'T9', { branch: 'B9', region: 'R1' });
  const enrol = t0.chain.next({
    type: 'enrolment', operatorId: 'op-1', enrolmentId: 'E-P7', personId: 'P7', person: { name: 'N', idNumber: 'I' },
    templateDigests: [createHash('sha256').update(template).digest('hex')], hands: ['right'], consent: { given: true, method: 'verbal', textVersion: 'c1' }, provisional: true,
  });
  await server.central.ingest('T9', [enrol]);
  await server.central.uploadTemplates((await server.central.repo.tx((r) => r.getTerminal('T9')))!, 'P7', [template.toString('base64')]);
  const sync2 = createSync({ store, serverUrl: server.url, keys, ledger });
  await sync2.pullFeed();
  const [row] = store.templates.byPerson('P7');
  expect(Buffer.from(keys.sealer.open(row!.sealed, row!.templateId)).equals(template)).toBe(true);

  const next = ledger.append(draft(99));
  expect(next.serverTime.ms).toBeGreaterThan(0);
  expect(verifyTime(server.central.identity.publicKeyHex, { ms: next.serverTime.ms, sig: next.serverTime.ref })).toBe(true);
});
