// Bad input to the centre's admin commands (issue 13, item 13): a credit in an unknown or lower-case currency, a
// negative credit, a sneakernet file with a broken header, records refused on import. Each gets a typed, one-line
// refusal, nothing is stored, and the import names every record it did not apply and why.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { DB_FILE_NAME, openStore } from '../../src/store/store.ts';
import { Central } from '../../src/server/service.ts';
import { appendToStore, ChainWriter, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';
import { runCli } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-cli-sec-'));
const db = `sqlite:${join(dir, 'centre.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;
const balances = async () => {
  const c = await Central.open(db);
  try {
    return await c.repo.tx((r) => r.listBalances());
  } finally {
    await c.close();
  }
};

it('refuses credits in EUR, in lower-case syp, negative or fractional, with a typed one-line error; nothing moves', async () => {
  const before = await balances();
  for (const [amount, currency] of [['1000', 'EUR'], ['1000', 'syp'], ['-5', 'SYP'], ['1.5', 'SYP'], ['0', 'SYP']] as const) {
    const r = await run('server', 'credit', 'A1', amount, currency, '--db', db);
    expect(r.code, `${amount} ${currency}`).toBe(1);
    expect(r.err).toMatch(/^palmpay: (currency must be one of SYP, USD|a credit is a positive whole number|amount must be an integer)/);
    expect(r.err).not.toMatch(/unexpected/i);
  }
  expect(await balances()).toEqual(before);
  expect((await run('server', 'credit', 'A1', '1000', 'SYP', '--db', db)).out).toBe('credited 1000 SYP to A1');
});

it('checks a sneakernet header before storing anything, and names each record it refused', async () => {
  const central = await Central.open(db);
  await enrolCustomer(central, await registeredTerminal(central, 'T0', { branch: 'B0' }), 'P1', 'A1');
  await central.creditAccount('A1', 10_000, 'SYP');
  const signer = signerFromSecretKey(randomBytes(32));
  const { code } = await central.addTerminal({ id: 'T1', name: 'c', branch: 'B1', region: 'R1' });
  await central.registerTerminal({ code, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: 'ab'.repeat(32) });
  await central.grantOperator('T1', { operatorId: 'op-1', name: 'op-1', role: 'cashier', active: true }); // purchaseDraft signs as op-1
  await central.close();
  const data = join(dir, 'terminal');
  mkdirSync(data, { recursive: true });
  const store = openStore(join(data, DB_FILE_NAME));
  const chain = new ChainWriter('T1', signer);
  // three purchases; the third is more than the account holds (review), the second is then edited (invalid)
  appendToStore(store, [chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 100)), chain.next(purchaseDraft('T1', 2, 'P1', 'A1', 100)), chain.next(purchaseDraft('T1', 3, 'P1', 'A1', 999_999))]);
  store.close();
  const file = join(dir, 'usb.jsonl');
  expect((await run('outbox', 'export', file, '--data', data)).code).toBe(0);
  const lines = readFileSync(file, 'utf8').trim().split('\n');

  // a header without exportedAtMs: refused before anything is stored
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  delete header.exportedAtMs;
  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, [JSON.stringify(header), ...lines.slice(1)].join('\n'));
  const before = await balances();
  const r = await run('server', 'import', broken, '--db', db);
  expect(r).toMatchObject({ code: 1, err: expect.stringMatching(/^palmpay: .*header field exportedAtMs/) });
  expect(await balances()).toEqual(before);
  const c2 = await Central.open(db);
  expect(await c2.repo.tx((x) => x.listRecords('T1'))).toEqual([]);
  await c2.close();

  // a record of another terminal slipped into the file: refused whole
  const foreign = join(dir, 'foreign.jsonl');
  writeFileSync(foreign, [lines[0], lines[1], lines[2]!.replace('"terminalId":"T1"', '"terminalId":"T0"'), lines[3]].join('\n'));
  expect(await run('server', 'import', foreign, '--db', db)).toMatchObject({ code: 1, err: expect.stringMatching(/line 3 is not a record of terminal T1/) });

  // a record edited on the stick: each refused record is named with its reason
  const edited = join(dir, 'edited.jsonl');
  writeFileSync(edited, [lines[0], lines[1], lines[2]!.replace('"amountMinor":100', '"amountMinor":1'), lines[3]].join('\n'));
  const imp = await run('server', 'import', edited, '--db', db);
  expect(imp.code).toBe(0);
  expect(imp.out).toMatch(/^T1: accepted=1 invalid=1 gap=1$/m);
  expect(imp.out).toMatch(/^T1#2\tinvalid\thash does not match/m);
  expect(imp.out).toMatch(/^T1#3\tgap\tsequence gap/m);
  const again = await run('server', 'import', file, '--db', db);
  expect(again.out).toMatch(/^T1#3\treview\tINSUFFICIENT_FUNDS: /m);
});
