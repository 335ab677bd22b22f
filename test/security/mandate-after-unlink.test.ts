// Attack on the direct-debit rule "a mandate binds the person's own account, for a subscriber they are linked to"
// (SECURITY.md; invariants.ts, rules 9 and 10). The link is checked when the mandate is signed; here the signer
// later moves out: the biller unlinks them from the meter and links the new occupant. The new occupant's bills
// must not keep being debited from the old occupant's account — money moved without its owner's palm or PIN.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Billing } from '../../src/server/billing/billing.ts';
import { Mandates } from '../../src/server/billing/mandates.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb } from '../server/helpers.ts';

const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';
const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(backends)('a mandate after its signer is unlinked from the subscriber (%s)', (kind) => {
  let central: Central;
  let billing: Billing;
  let mandates: Mandates;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    billing = central.billing();
    mandates = new Mandates(central.repo);
    const t1 = await registeredTerminal(central, 'T1', { region: 'R1' });
    await enrolCustomer(central, t1, 'P1', 'A1');
    await enrolCustomer(central, t1, 'P2', 'A2');
    await central.creditAccount('A1', 100_000, 'SYP');
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    await billing.link({ billerId: 'elec', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  it('debits nothing from the old occupant once they are unlinked: the failure is recorded, the bill stays due', async () => {
    const m = await mandates.add({ personId: 'P1', billerId: 'elec', subscriber: '00123456', maxMinor: 50_000, currency: 'SYP' });
    // P1 moves out; P2 moves in and is linked to the meter.
    expect(await billing.unlink({ billerId: 'elec', subscriber: '00123456', payerKind: 'person', payerId: 'P1' })).toBe(true);
    await billing.link({ billerId: 'elec', subscriber: '00123456', payerKind: 'person', payerId: 'P2' });
    const r = await billing.importBills([HEADER, 'elec,00123456,B-new,2026-11,30000,SYP,2026-12-31,1500,1800'].join('\n'));
    expect(r).toMatchObject({ bills: 1, debited: 0, debitsFailed: 1 });
    expect(await central.repo.tx((x) => x.balance('acct:A1', 'SYP'))).toBe(100_000);
    expect(await central.repo.tx((x) => x.balance('biller:elec', 'SYP'))).toBe(0);
    expect(await billing.listBills()).toEqual([expect.objectContaining({ bill_id: 'B-new', status: 'open' })]);
    expect((await mandates.debits()).map((d) => [d.mandate_id, d.status, d.reason?.split(':')[0]])).toEqual([[m.id, 'failed', 'BILL_PAYER_NOT_LINKED']]);
  });
});
