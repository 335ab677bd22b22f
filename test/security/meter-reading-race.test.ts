// Two counters upload readings of one meter at the same moment (PostgreSQL, READ COMMITTED): each is checked against
// the meter's last reading (invariants rule 10). Without a lock on the meter both read the same last reading, so a
// reading below the other one is accepted without a supervisor's approval and may become the meter's last: the
// biller under-bills. One after the other, the lower one arriving second goes to review (READING_BELOW_LAST).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Billing } from '../../src/server/billing/billing.ts';
import { Readings } from '../../src/server/billing/readings.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';
const ROUNDS = 24;
const subscriber = (k: number) => `00990${String(k).padStart(3, '0')}`;

describe.skipIf(!PG_URL)('meter readings racing on one meter (postgres)', () => {
  let central: Central;
  let billing: Billing;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;
  beforeEach(async () => {
    const db = await tempDb('postgres');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    billing = central.billing();
    const operators = { 'op-1': 'supervisor', 'op-cashier': 'cashier' } as const;
    t1 = await registeredTerminal(central, 'T1', { region: 'R1', operators });
    t2 = await registeredTerminal(central, 'T2', { region: 'R1', operators });
    await enrolCustomer(central, t1, 'P1', 'A1');
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    const lines = [HEADER];
    for (let k = 0; k < ROUNDS; k++) {
      await billing.link({ billerId: 'elec', subscriber: subscriber(k), payerKind: 'person', payerId: 'P1' });
      lines.push(`elec,${subscriber(k)},B-${k},2026-10,18000,SYP,2026-12-31,1000,1500`);
    }
    await billing.importBills(lines.join('\n'));
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  const reading = (t: TestTerminal, k: number, value: number) =>
    t.chain.next({ type: 'meter_reading', operatorId: 'op-cashier', readingId: `RD-${t.id}-${k}`, personId: 'P1', billerId: 'elec', subscriber: subscriber(k), reading: value });

  it('never accepts two readings checked against the same last reading: the lower one is refused or checked against the higher', async () => {
    for (let k = 0; k < ROUNDS; k++) {
      // built first, so the two uploads start together
      const high = reading(t1, k, 1700);
      const low = reading(t2, k, 1600);
      await Promise.all([central.ingest('T1', [high]), central.ingest('T2', [low])]);
    }
    const rows = await new Readings(central.repo).list({ billerId: 'elec' });
    for (let k = 0; k < ROUNDS; k++) {
      const mine = rows.filter((r) => r.subscriber === subscriber(k));
      // one after the other: 1700 then 1600 (refused), or 1600 then 1700 checked against 1600
      const lowAccepted = mine.find((r) => r.reading === 1600);
      if (lowAccepted) expect({ round: k, last: mine.find((r) => r.reading === 1700)?.last_reading }).toEqual({ round: k, last: 1600 });
      else expect(mine.map((r) => [r.reading, r.last_reading])).toEqual([[1700, 1500]]);
    }
  }, 120_000);
});
