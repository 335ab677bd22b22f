// Meter readings and mandates signed at a counter, re-checked at the centre (rule 10 of invariants.ts) on both
// backends. Attacks first: a reading below the last one without a supervisor's approval, a reading for a
// subscriber the person is not linked to, a mandate a terminal signs for someone else (another person's account,
// or a person not linked), and a cancellation of another person's mandate: each goes to review and changes nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Billing } from '../../src/server/billing/billing.ts';
import { Mandates } from '../../src/server/billing/mandates.ts';
import { Readings, readingsCsv } from '../../src/server/billing/readings.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('counter readings and mandates on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let billing: Billing;
  let mandates: Mandates;
  let readings: Readings;
  let t1: TestTerminal;
  let cleanup: () => Promise<void>;
  let clock = Date.now();

  beforeEach(async () => {
    if (skip) return;
    clock = Date.now();
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url, { now: () => clock });
    billing = central.billing(() => clock);
    mandates = new Mandates(central.repo, () => clock);
    readings = new Readings(central.repo, () => clock);
    t1 = await registeredTerminal(central, 'T1', { region: 'R1', operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' }, supervisors: ['op-super'] });
    await enrolCustomer(central, t1, 'P1', 'A1');
    await enrolCustomer(central, t1, 'P2', 'A2');
    await central.creditAccount('A1', 100_000, 'SYP');
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    await billing.link({ billerId: 'elec', subscriber: '00123456', payerKind: 'person', payerId: 'P1' });
    await billing.importBills([HEADER, 'elec,00123456,B-1,2026-10,18000,SYP,2026-12-31,1000,1500'].join('\n'));
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });
  const reading = (n: number, extra: { personId?: string; subscriber?: string; approvedBy?: string; billerId?: string } = {}) =>
    t1.chain.next({ type: 'meter_reading', operatorId: 'op-cashier', readingId: `RD-${n}-${Math.random()}`, personId: extra.personId ?? 'P1', billerId: extra.billerId ?? 'elec', subscriber: extra.subscriber ?? '00123456', reading: n, ...(extra.approvedBy ? { approvedBy: extra.approvedBy } : {}) });
  const ingest = async (rec: ReturnType<typeof reading>) => (await central.ingest('T1', [rec]))[0]!;

  it.skipIf(skip)('attack: a reading below the last one without a supervisor goes to review and is never forwarded', async () => {
    const r = await ingest(reading(1400));
    expect(r).toMatchObject({ status: 'review' });
    expect(r.reason).toMatch(/^READING_BELOW_LAST/);
    expect(await readings.list({ billerId: 'elec' })).toEqual([]);
  });

  it.skipIf(skip)('attack: the approver cannot be the cashier (the record is malformed); an unlinked person, an unknown biller: review', async () => {
    // The record shape itself refuses it: no such record can be signed, nor parsed at the centre.
    expect(() => reading(1400, { approvedBy: 'op-cashier' })).toThrow(/approver must not be the cashier/);
    const ing = ingest;
    expect((await ing(reading(1600, { personId: 'P2' }))).reason).toMatch(/^BILL_PAYER_NOT_LINKED/);
    expect((await ing(reading(1600, { billerId: 'water' }))).reason).toMatch(/^BILLER_UNKNOWN/);
    expect((await ing(reading(1600, { personId: 'P404' }))).reason).toMatch(/^CUSTOMER_UNKNOWN/);
    expect(await readings.list()).toEqual([]);
  });

  it.skipIf(skip)('a higher reading is forwarded once; a lower one with a supervisor becomes the new base; the export takes each once', async () => {
    expect(await ingest(reading(1650))).toMatchObject({ status: 'accepted' });
    clock += 1000;
    expect(await ingest(reading(20, { approvedBy: 'op-super' }))).toMatchObject({ status: 'accepted' }); // meter replaced
    clock += 1000;
    expect(await ingest(reading(35))).toMatchObject({ status: 'accepted' }); // above the new base: no approval needed
    const rows = await readings.list({ billerId: 'elec' });
    expect(rows.map((x) => [x.reading, x.last_reading, x.approved_by])).toEqual([[1650, 1500, null], [20, 1650, 'op-super'], [35, 20, null]]);
    const out = await readings.export('elec');
    expect(out).toHaveLength(3);
    expect(readingsCsv(out).split('\n')[0]).toBe('biller,subscriber,reading,last_reading,read_at,record,person,approved_by');
    expect(readingsCsv(out)).toContain('elec,00123456,20,1650,');
    expect(await readings.export('elec')).toEqual([]);
  });

  it.skipIf(skip)('attack: a terminal cannot sign a mandate for someone else: another person\'s account, or a person not linked', async () => {
    const mandate = (id: string, personId: string, accountId: string) =>
      t1.chain.next({ type: 'mandate', operatorId: 'op-cashier', mandateId: id, personId, accountId, billerId: 'elec', subscriber: '00123456', maxMinor: 50_000, currency: 'SYP', pinVerified: true });
    // P2 is identified, but the record names P1's account: the account must be the person's own.
    expect((await ingest(mandate('M-a', 'P2', 'A1') as never)).reason).toMatch(/^ACCOUNT_NOT_CUSTOMERS|^BILL_PAYER_NOT_LINKED/);
    // P2 with P2's own account: P2 is not linked to the subscriber.
    expect((await ingest(mandate('M-b', 'P2', 'A2') as never)).reason).toMatch(/^BILL_PAYER_NOT_LINKED/);
    // P1 names P2's account (P1 is linked): still refused.
    expect((await ingest(mandate('M-c', 'P1', 'A2') as never)).reason).toMatch(/^ACCOUNT_NOT_CUSTOMERS/);
    expect(await mandates.list()).toEqual([]);
    // The person with their own account: the mandate exists and a bill import is debited under it.
    expect(await ingest(mandate('M-ok', 'P1', 'A1') as never)).toMatchObject({ status: 'accepted' });
    expect(await mandates.list()).toEqual([expect.objectContaining({ id: 'M-ok', person_id: 'P1', account_id: 'A1', status: 'active', max_minor: 50_000 })]);
    expect((await ingest(mandate('M-two', 'P1', 'A1') as never)).reason).toMatch(/^MANDATE_EXISTS/);
    expect(await billing.importBills([HEADER, 'elec,00123456,B-2,2026-11,20000,SYP,2026-12-31,1500,1700'].join('\n'))).toMatchObject({ debited: 1 });
  });

  it.skipIf(skip)('attack: only the owner cancels a mandate at a counter', async () => {
    await billing.link({ billerId: 'elec', subscriber: '00123456', payerKind: 'person', payerId: 'P2' });
    await mandates.add({ personId: 'P1', billerId: 'elec', subscriber: '00123456', maxMinor: 50_000, currency: 'SYP', id: 'M-1' });
    const cancel = (personId: string) => t1.chain.next({ type: 'mandate_cancel', operatorId: 'op-cashier', cancelId: `C-${personId}`, personId, billerId: 'elec', subscriber: '00123456', pinVerified: true });
    expect((await ingest(cancel('P2') as never)).reason).toMatch(/^MANDATE_NOT_OWNER/);
    expect(await mandates.list()).toEqual([expect.objectContaining({ id: 'M-1', status: 'active' })]);
    expect(await ingest(cancel('P1') as never)).toMatchObject({ status: 'accepted' });
    expect(await mandates.list()).toEqual([expect.objectContaining({ id: 'M-1', status: 'cancelled' })]);
    const again = t1.chain.next({ type: 'mandate_cancel', operatorId: 'op-cashier', cancelId: 'C-again', personId: 'P1', billerId: 'elec', subscriber: '00123456', pinVerified: true });
    expect((await ingest(again as never)).reason).toMatch(/^MANDATE_UNKNOWN/);
  });

  it.skipIf(skip)('attack: a terminal of another region names a person it can never have identified (their palm is only in R1): review, nothing changes', async () => {
    // A registered terminal of R2 with a supervisor of its own: everything in its records is well-formed and signed.
    const far = await registeredTerminal(central, 'T-FAR', { region: 'R2', operators: { 'op-cashier': 'cashier' }, supervisors: ['op-far-super'] });
    const at = async (rec: unknown) => (await central.ingest('T-FAR', [rec]))[0]!;
    const sign = (draft: Record<string, unknown>) => far.chain.next(draft as never);
    // A mandate on P1's own account (P1 is linked), a cancellation of P1's mandate, a lower reading "approved" there.
    expect((await at(sign({ type: 'mandate', operatorId: 'op-cashier', mandateId: 'M-far', personId: 'P1', accountId: 'A1', billerId: 'elec', subscriber: '00123456', maxMinor: 5_000_000, currency: 'SYP', pinVerified: true }))).reason).toMatch(/^CUSTOMER_UNKNOWN/);
    expect(await mandates.list()).toEqual([]);
    await mandates.add({ personId: 'P1', billerId: 'elec', subscriber: '00123456', maxMinor: 50_000, currency: 'SYP', id: 'M-home' });
    expect((await at(sign({ type: 'mandate_cancel', operatorId: 'op-cashier', cancelId: 'C-far', personId: 'P1', billerId: 'elec', subscriber: '00123456', pinVerified: true }))).reason).toMatch(/^CUSTOMER_UNKNOWN/);
    expect(await mandates.list()).toEqual([expect.objectContaining({ id: 'M-home', status: 'active' })]);
    expect((await at(sign({ type: 'meter_reading', operatorId: 'op-cashier', readingId: 'RD-far', personId: 'P1', billerId: 'elec', subscriber: '00123456', reading: 3, approvedBy: 'op-far-super' }))).reason).toMatch(/^CUSTOMER_UNKNOWN/);
    expect(await readings.list()).toEqual([]);
  });
});
