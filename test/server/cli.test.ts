// The admin and sneakernet commands through the real CLI entry (main), on a temporary SQLite centre.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { DB_FILE_NAME, openStore } from '../../src/store/store.ts';
import { Central } from '../../src/server/service.ts';
import { appendToStore, ChainWriter, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal } from './helpers.ts';
import { runCli } from '../security/harness.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-cli-'));
const db = `sqlite:${join(dir, 'centre.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

const signer = signerFromSecretKey(randomBytes(32));

it('adds, lists and revokes terminals; the code is shown once', async () => {
  const add = await run('server', 'terminal', 'add', '--db', db, '--name', 'Counter 1', '--branch', 'B1', '--region', 'R1', '--id', 'T1');
  expect(add.err).toBe('');
  expect(add.code).toBe(0);
  const code = /registration code (\S+)/.exec(add.out)?.[1];
  expect(code).toMatch(/^[A-Za-z0-9_-]{12}$/);
  const central = await Central.open(db);
  await central.registerTerminal({ code: code!, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: 'ab'.repeat(32) });
  await central.close();
  const list = await run('server', 'terminal', 'list', '--db', db);
  expect(list.out).toMatch(/^T1\tactive\tbranch=B1\tregion=R1/m);
  const dup = await run('server', 'terminal', 'add', '--db', db, '--name', 'x', '--branch', 'B1', '--region', 'R1', '--id', 'T1');
  expect(dup).toMatchObject({ code: 1, err: expect.stringMatching(/^palmpay: terminal T1 already exists$/) });
});

it('imports payroll all or nothing, with errors by line', async () => {
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'period,person,amount,currency,branch\n2026-11,E1,100,SYP,B1\n2026-11,E2,1.5,SYP,B1\n');
  const r = await run('server', 'payroll', 'import', bad, '--db', db);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/nothing imported \(1 error\): line 3: amount "1.5"/);
  const good = join(dir, 'good.csv');
  writeFileSync(good, 'period,person,amount,currency,branch\n2026-11,E1,100,SYP,B1\n2026-11,E2,150,SYP,B1\n');
  expect((await run('server', 'payroll', 'import', good, '--db', db)).out).toMatch(/imported 2 vouchers; leases: T1=2/);
});

it('moves a lease: withdrawn from the holder until it gives it back; the waiting moves are listed', async () => {
  const central = await Central.open(db);
  await registeredTerminal(central, 'T2', { branch: 'B1' });
  await central.close();
  const move = await run('server', 'lease', 'move', 'V-2026-11-E1', 'T2', '--db', db);
  expect(move.out).toMatch(/lease withdrawn from T1; it goes to T2 when T1 gives it back unpaid/);
  const moving = await run('server', 'lease', 'list', '--moving', '--json', '--db', db);
  expect(JSON.parse(moving.out)).toEqual([{ voucherId: 'V-2026-11-E1', period: '2026-11', personId: 'E1', amountMinor: 100, currency: 'SYP', branch: 'B1', holder: 'T1', movingTo: 'T2' }]);
  expect((await run('server', 'lease', 'list', '--db', db)).out).toMatch(/^V-2026-11-E2\t150 SYP\tbranch=B1\tholder=T1$/m);
  expect((await run('server', 'lease', 'move', 'V-2026-11-E1', 'T1', '--db', db)).out).toMatch(/waiting move is cancelled, T1 keeps the lease/);
  expect((await run('server', 'lease', 'list', '--moving', '--db', db)).out).toBe('no lease moves waiting');
});

it('carries records by USB: outbox export on the terminal, server import at the centre, idempotently', async () => {
  const central = await Central.open(db);
  await enrolCustomer(central, await registeredTerminal(central, 'T0', { branch: 'B0' }), 'P1', 'A1');
  await central.creditAccount('A1', 10_000, 'SYP');
  await central.close();
  const data = join(dir, 'terminal');
  mkdirSync(data, { recursive: true });
  const store = openStore(join(data, DB_FILE_NAME));
  const chain = new ChainWriter('T1', signer);
  appendToStore(store, Array.from({ length: 12 }, (_, i) => chain.next(purchaseDraft('T1', i, 'P1', 'A1', 100))));
  store.close();
  const file = join(dir, 'usb.jsonl');
  // Rule 16: the centre takes T1's records only from an operator it granted there.
  expect((await run('server', 'operator', 'grant', 'T1', 'op-1', '--name', 'Operator 1', '--role', 'cashier', '--db', db)).out).toMatch(/operator op-1 granted cashier at terminal T1/);
  expect((await run('outbox', 'export', file, '--data', data)).out).toMatch(/exported 12 records of T1 \(seq 1\.\.12\)/);
  const imp = await run('server', 'import', file, '--db', db);
  expect(imp.err).toBe('');
  expect(imp.out).toMatch(/T1: accepted=12/);
  expect((await run('server', 'import', file, '--db', db)).out).toMatch(/T1: duplicate=12/);
  expect((await run('server', 'statement', 'P1', '--db', db)).out).toMatch(/balance acct:A1: 8800 SYP/);
  expect((await run('server', 'review', 'list', '--db', db)).out).toBe('review queue is empty');
  expect((await run('server', 'terminal', 'revoke', 'T1', '--db', db)).out).toBe('terminal T1 revoked');
});

it('lists and resolves review items, and settles a possible duplicate', async () => {
  const central = await Central.open(db);
  const t = await registeredTerminal(central, 'T5', { branch: 'B5' });
  const template = enrolmentBytes('one palm');
  await enrolCustomer(central, t, 'Q1', 'QA1', template);
  await enrolCustomer(central, t, 'Q2', 'QA2', template);
  await central.close();
  const list = await run('server', 'review', 'list', '--db', db);
  const id = /^#(\d+)\tenrolment\tT5#2\tpossible duplicate of person Q1/m.exec(list.out)?.[1];
  expect(id).toBeDefined();
  expect((await run('server', 'person', 'settle', 'Q2', 'confirm', '--db', db)).out).toBe('person Q2: confirmed');
  expect((await run('server', 'review', 'resolve', id!, '--db', db)).out).toBe(`review item #${id} resolved`);
  expect((await run('server', 'review', 'list', '--db', db)).out).toBe('review queue is empty');
  expect((await run('server', 'person', 'settle', 'Q2', 'maybe', '--db', db)).err).toMatch(/decision must be confirm or revoke/);
});

it('records months and detach: PostgreSQL partitions only; SQLite says so and detaches nothing', async () => {
  const months = await run('server', 'records', 'months', '--db', db);
  expect(months.code).toBe(0);
  expect(months.out).toMatch(/not partitioned here/);
  const detach = await run('server', 'records', 'detach', '2020-01', '--db', db);
  expect(detach.code).not.toBe(0);
  expect(detach.err).toMatch(/PostgreSQL only/);
  const bad = await run('server', 'records', 'detach', '2020-13', '--db', db);
  expect(bad.err).toMatch(/YYYY-MM/);
});
