// A salary lease moved between two real counters (key store → ledger → sync → centre over loopback HTTP): the holder
// applies the withdrawal from its feed, drops the lease and signs a `lease_release` in the same transaction; only
// when that release reaches the centre is the voucher granted to the other counter. A holder that paid first signs
// no release: its payout is booked and the move is void. Never two payouts of one salary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/ledger.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import type { Store } from '../../src/store/store.ts';
import { createSync, type Sync } from '../../src/sync/index.ts';
import { realCounter } from '../support/counter.ts';

interface Counter { id: string; store: Store; ledger: Ledger; sync: Sync; link(): Sync }
let dir: string;
let server: RunningServer;
let counters: Counter[];

async function counter(id: string): Promise<Counter> {
  const { store, keys, ledger } = await realCounter(server, dir, id);
  const link = () => {
    const s = createSync({ store, serverUrl: server.url, keys, ledger });
    s.start();
    return s;
  };
  const c = { id, store, ledger, sync: link(), link };
  counters.push(c);
  return c;
}
const sync = async (c: Counter) => {
  await c.sync.pullFeed();
  c.sync.kick();
  await c.sync.drained(20_000);
};
const voucher = async () => (await server.central.repo.tx((r) => r.getVoucher('V-2026-11-E1')))!;
const pay = (c: Counter) => c.ledger.payVoucher({ voucherId: 'V-2026-11-E1', personId: 'E1', operatorId: 'op-1' });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-lease-'));
  server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
  counters = [];
});
afterEach(async () => {
  for (const c of counters) {
    await c.sync.stop();
    c.store.close();
  }
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function payrollOnTwoCounters(): Promise<{ holder: Counter; other: Counter }> {
  const a = await counter('T1');
  const b = await counter('T2');
  await server.central.importPayroll('period,person,amount,currency,branch\n2026-11,E1,150000,SYP,B1');
  const v = await voucher();
  const [holder, other] = v.lease_terminal === 'T1' ? [a, b] : [b, a];
  await sync(holder);
  await sync(other);
  return { holder, other };
}

it('an unpaid lease moves only after the holder gives it back; then the other counter pays it, once', async () => {
  const { holder, other } = await payrollOnTwoCounters();
  expect(await server.central.moveLease('V-2026-11-E1', other.id)).toMatchObject({ status: 'pending' });
  await sync(other);
  expect(() => pay(other)).toThrow(expect.objectContaining({ code: 'VOUCHER_REFUSED' })); // not granted yet

  await sync(holder); // applies the withdrawal: lease dropped, release signed and uploaded
  const release = [...holder.store.journal.iterate()].find((r) => r.type === 'lease_release');
  expect(release).toBeDefined();
  expect(() => pay(holder)).toThrow(expect.objectContaining({ code: 'VOUCHER_REFUSED' }));
  expect(await voucher()).toMatchObject({ lease_terminal: other.id, lease_pending: null });

  await sync(other);
  const paid = pay(other);
  await sync(other);
  expect(await server.central.repo.tx((r) => r.getRecord(other.id, paid.seq))).toMatchObject({ status: 'accepted' });
  expect(await server.central.repo.tx((r) => r.balance(`cash:${other.id}`, 'SYP'))).toBe(150000);
  expect(await server.central.repo.tx((r) => r.balance(`cash:${holder.id}`, 'SYP'))).toBe(0);
});

it('a holder that paid before it heard of the move signs no release: its payout is booked and the other counter never gets the voucher', async () => {
  const { holder, other } = await payrollOnTwoCounters();
  await holder.sync.stop(); // the holder's link is down
  pay(holder); // offline: the record is in the outbox, the cash is out
  expect(await server.central.moveLease('V-2026-11-E1', other.id)).toMatchObject({ status: 'pending' });
  holder.sync = holder.link(); // the link is back: the feed's withdrawal and the payout cross
  await sync(holder);
  expect([...holder.store.journal.iterate()].map((r) => r.type)).toEqual(['salary_payout']);
  expect(await voucher()).toMatchObject({ status: 'redeemed', lease_terminal: holder.id, lease_pending: null });
  await sync(other);
  expect(() => pay(other)).toThrow(expect.objectContaining({ code: 'VOUCHER_REFUSED' }));
  expect(await server.central.repo.tx((r) => r.balance(`cash:${holder.id}`, 'SYP'))).toBe(150000);
  expect(await server.central.repo.tx((r) => r.balance(`cash:${other.id}`, 'SYP'))).toBe(0);
});
