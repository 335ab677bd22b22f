// Advisory locks are one key space for the whole database: two uses that shared a key waited on each other for
// nothing (settling a day and making the next months' record partitions both took 727 101, so a long settlement
// held up every process's partition making). Each use has its own key now (sql.ts ADVISORY_LOCK).
import { afterEach, expect, it } from 'vitest';
import { ClearingStore } from '../../src/server/clearing/store.ts';
import { ensureRecordMonths } from '../../src/server/record-months.ts';
import { ADVISORY_LOCK } from '../../src/server/sql.ts';
import { Central } from '../../src/server/service.ts';
import { PG_URL, tempDb } from './helpers.ts';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

it('no two uses share an advisory lock key', () => {
  const keys = Object.values(ADVISORY_LOCK);
  expect(new Set(keys).size).toBe(keys.length);
});

it.skipIf(!PG_URL)('a settlement in progress does not hold up making the record partitions (PostgreSQL)', async () => {
  const db = await tempDb('postgres');
  open.push(db.cleanup);
  const central = await Central.open(db.url);
  open.push(() => central.close());
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const settling = new Promise<void>((r) => (locked = r));
  // A settlement's transaction, holding its lock until released.
  const held = central.repo.db.tx(async (c) => {
    await new ClearingStore(c).lock();
    locked();
    await released;
  });
  await settling;
  try {
    const made = await Promise.race([ensureRecordMonths(central.repo.db, Date.now()), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000))]);
    expect(made).toEqual({ made: [], blocked: [] });
  } finally {
    release();
    await held;
  }
});
