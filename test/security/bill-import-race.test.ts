// A bill import at the centre racing the counters (PostgreSQL, READ COMMITTED).
//
// 1. Import vs a counter's meter reading of the same meter. The import writes the biller's newer bill (its current
//    reading, stamped with the import's time); the reading is checked against the meter's last reading (rule 10,
//    readings.ts lastReading: the newer of the last bill and the last accepted reading). Unserialised, the reading
//    read the last reading before the import committed (the old bill), was accepted below the biller's new reading
//    without a supervisor, and, stamped after the import's time, became the meter's last: the next reading is
//    checked against it instead of the biller's. One after the other the outcome is either "reading refused" or
//    "reading accepted against the old bill, then the newer bill is the last": the meter's last is the bill's.
// 2. Import's direct debit vs a mandate cancellation: the debit must not commit after the cancellation was
//    acknowledged. The mandate row lock (store.ts activeMandate, FOR UPDATE) orders them; the import is held open
//    right after its debit (a second bill of its file waits on another transaction's uncommitted row) while the
//    cancellation runs.
// (A counter paying the imported bill cannot race the debit: the bill exists for nobody until the import commits,
// and by then it is paid; billing-mandates / concurrency tests cover BILL_ALREADY_PAID.)
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import type { Billing } from '../../src/server/billing/billing.ts';
import { Mandates } from '../../src/server/billing/mandates.ts';
import { lastReading, Readings } from '../../src/server/billing/readings.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { sql } from '../../src/server/sql.ts';
import { PG_URL } from '../server/helpers.ts';
import { enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';
const ROUNDS = 16;
/** Bills of other subscribers after the raced one: they keep the import's transaction open a while. */
const FILLER = 30;
const subscriber = (k: number) => `00880${String(k).padStart(3, '0')}`;
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe.each(backends)('a bill import racing a counter (%s)', (kind) => {
  let c: Centre;
  let billing: Billing;
  let t1: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    billing = c.central.billing();
    t1 = await registeredTerminal(c.central, 'T1', { region: 'R1', operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' } });
    await enrolCustomer(c.central, t1, 'P1', 'A1');
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
  });
  afterEach(async () => c.close());

  it(`never lets a reading checked without the newer imported bill become the meter's last (${ROUNDS} rounds, both orders)`, async () => {
    const old = [HEADER];
    for (let k = 0; k < ROUNDS; k++) {
      await billing.link({ billerId: 'elec', subscriber: subscriber(k), payerKind: 'person', payerId: 'P1' });
      old.push(`elec,${subscriber(k)},B0-${k},2026-10,18000,SYP,2026-11-30,1000,1500`);
    }
    await billing.importBills(old.join('\n'));
    const importNewer = async (k: number, delayMs: number) => {
      await sleep(delayMs);
      const lines = [HEADER, `elec,${subscriber(k)},B1-${k},2026-11,18000,SYP,2026-12-31,1500,2000`];
      for (let i = 0; i < FILLER; i++) lines.push(`elec,F${k}x${i},F-${k}-${i},2026-11,100,SYP,2026-12-31,0,1`);
      return billing.importBills(lines.join('\n'));
    };
    // The reading's batch is padded with purchases of an unknown customer (review) so its transaction is open a while too.
    const readingBatch = (k: number) => [
      t1.chain.next({ type: 'meter_reading', operatorId: 'op-cashier', readingId: `RD-${k}`, personId: 'P1', billerId: 'elec', subscriber: subscriber(k), reading: 1700 }),
      ...Array.from({ length: 30 }, (_, i) => t1.chain.next(purchaseDraft(t1.id, k * 1000 + i, 'P404', 'A404', 1))),
    ];
    for (let k = 0; k < ROUNDS; k++) {
      const batch = readingBatch(k); // built first, so the two start together
      // Even rounds: the import gets a head start of 0-42 ms (it is checked, stamped, then writes its bills);
      // odd rounds: the reading's upload does (10-40 ms: it verifies its batch before its transaction).
      const importFirst = k % 2 === 0;
      await Promise.all([importNewer(k, importFirst ? 0 : 10 + (k % 4) * 10), sleep(importFirst ? (k / 2) * 6 : 0).then(() => c.central.ingest('T1', batch))]);
    }
    const readings = await new Readings(c.central.repo).list({ billerId: 'elec' });
    const refused = (await c.central.reviewList()).filter((x) => refusalCodeOf(x.reason) === 'READING_BELOW_LAST').length;
    const outcome = [];
    for (let k = 0; k < ROUNDS; k++) {
      const accepted = readings.find((r) => r.subscriber === subscriber(k));
      const last = await c.central.repo.tx((r) => lastReading(r.conn, 'elec', subscriber(k)));
      outcome.push({ round: k, accepted: accepted ? { reading: accepted.reading, checkedAgainst: accepted.last_reading } : 'refused', meterLast: last });
    }
    // one after the other: refused against 2000, or accepted against 1500 and then the newer bill is the last
    expect(outcome).toEqual(outcome.map((o) => ({ round: o.round, accepted: o.accepted === 'refused' ? 'refused' : { reading: 1700, checkedAgainst: 1500 }, meterLast: 2000 })));
    expect(refused + readings.length).toBe(ROUNDS);
  }, 180_000);

  it.skipIf(kind !== 'postgres')('commits no direct debit under a mandate after its cancellation was acknowledged (import held open after its debit)', async () => {
    await billing.link({ billerId: 'elec', subscriber: '00770001', payerKind: 'person', payerId: 'P1' });
    await c.central.creditAccount('A1', 100_000, 'SYP');
    const mandates = new Mandates(c.central.repo);
    const m = await mandates.add({ personId: 'P1', billerId: 'elec', subscriber: '00770001', maxMinor: 50_000, currency: 'SYP' });
    // Another transaction holds an uncommitted bill HOLD-1: the import's INSERT of it waits, after B-1 was debited.
    const holder = new pg.Client({ connectionString: c.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO bills (biller_id, bill_id, subscriber, cycle, amount, currency, due_date, previous_reading, current_reading, status, import_id, created_at)
        VALUES ('elec', 'HOLD-1', '00770002', '2026-11', 1, 'SYP', '2026-12-31', 0, 1, 'open', 0, 0)`);
      const imported = billing.importBills([HEADER, 'elec,00770001,B-1,2026-11,18000,SYP,2026-12-31,1000,1500', 'elec,00770002,HOLD-1,2026-11,1,SYP,2026-12-31,0,1'].join('\n'));
      const waiting = () => c.central.repo.tx((r) => r.conn.all(sql`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`));
      const until = async (done: () => Promise<boolean>) => {
        for (let i = 0; i < 200 && !(await done()); i++) await sleep(25);
      };
      await until(async () => (await waiting()).length >= 1);
      let acknowledged = false;
      let debitsWhenAcknowledged = -1;
      const cancelled = mandates.cancel(m.id).then(async (ok) => {
        acknowledged = true;
        debitsWhenAcknowledged = (await mandates.debits({ accountId: 'A1' })).length;
        return ok;
      });
      // The cancellation either waits on the mandate row too, or (unprotected) is acknowledged at once.
      await until(async () => acknowledged || (await waiting()).length >= 2);
      await holder.query('ROLLBACK');
      const [result, ok] = await Promise.all([imported, cancelled]);
      expect(ok).toBe(true);
      const debits = await mandates.debits({ accountId: 'A1' });
      // The debit committed before the cancellation was acknowledged (it held the mandate row): it was seen then.
      expect({ debited: result.debited, debitsWhenAcknowledged, debits: debits.map((d) => [d.bill_id, d.status]) }).toEqual({ debited: 1, debitsWhenAcknowledged: 1, debits: [['B-1', 'paid']] });
    } finally {
      await holder.end();
    }
  }, 60_000);
});
