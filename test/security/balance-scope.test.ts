// A customer's palm reaches only their region's terminals (person events go to the region alone). So (1) the account
// balance that travels with the offline allowance in the signed feed (issue 18) goes to that region only: a terminal
// of another region, or any terminal for an account nobody is enrolled on, must not learn it; and (2) a terminal of
// another region, which can never have identified the customer, cannot charge them: refused exactly as an unknown
// customer (the upload result does not tell it who is enrolled elsewhere).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import type { TerminalRow } from '../../src/server/repo.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal, tempDb } from '../server/helpers.ts';

describe('a customer’s balance and money stay with their region’s terminals', () => {
  let central: Central;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  const row = async (id: string) => (await central.repo.tx((r) => r.getTerminal(id))) as TerminalRow;
  const allowances = async (id: string) => (await central.feed(await row(id), 0, 10_000)).events.filter((e) => e.kind === 'allowance').map((e) => e.data);

  it('a terminal of another region gets no allowance and no balance; the region’s terminals do, also for money that came before the enrolment', async () => {
    const home = await registeredTerminal(central, 'T-HOME', { region: 'R1', branch: 'B1' });
    await registeredTerminal(central, 'T-NEAR', { region: 'R1', branch: 'B2' });
    await registeredTerminal(central, 'T-AWAY', { region: 'R2', branch: 'B3' });
    // Money in before anyone is enrolled on the account: published to nobody yet.
    await central.creditAccount('A1', 123_456_789, 'SYP');
    await central.creditAccount('A-NOBODY', 987_654_321, 'SYP');
    for (const t of ['T-HOME', 'T-NEAR', 'T-AWAY']) expect(await allowances(t)).toEqual([]);
    // Enrolled and confirmed in R1: R1's terminals receive the allowance with the balance.
    await enrolCustomer(central, home, 'P1', 'A1');
    for (const t of ['T-HOME', 'T-NEAR']) expect(await allowances(t)).toContainEqual(expect.objectContaining({ accountId: 'A1', customerId: 'P1', currency: 'SYP', balanceMinor: 123_456_789 }));
    // Later money moves: still the region only.
    await central.creditAccount('A1', 1, 'SYP');
    expect(await allowances('T-NEAR')).toContainEqual(expect.objectContaining({ accountId: 'A1', balanceMinor: 123_456_790 }));
    const away = JSON.stringify(await central.feed(await row('T-AWAY'), 0, 10_000));
    expect(away).not.toMatch(/A1|P1|123456|A-NOBODY|987654/);
    expect(await allowances('T-HOME')).not.toContainEqual(expect.objectContaining({ accountId: 'A-NOBODY' }));
  });

  it('a purchase signed by a terminal of another region on a funded customer moves nothing and reads as an unknown customer', async () => {
    const home = await registeredTerminal(central, 'T-HOME', { region: 'R1' });
    const away = await registeredTerminal(central, 'T-AWAY', { region: 'R2' });
    await enrolCustomer(central, home, 'P1', 'A1');
    await central.creditAccount('A1', 50_000, 'SYP');
    const [charged, nobody] = await central.ingest('T-AWAY', [away.chain.next(purchaseDraft('T-AWAY', 1, 'P1', 'A1', 40_000)), away.chain.next(purchaseDraft('T-AWAY', 2, 'P404', 'A404', 40_000))]);
    expect(charged).toMatchObject({ status: 'review' });
    expect(charged!.reason!.replace('P1', 'X')).toBe(nobody!.reason!.replace('P404', 'X'));
    expect(await central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(50_000);
    expect(await central.repo.tx((r) => r.balance('merchant:T-AWAY', 'SYP'))).toBe(0);
    // The customer's own region's terminal still charges them.
    expect((await central.ingest('T-HOME', [home.chain.next(purchaseDraft('T-HOME', 1, 'P1', 'A1', 40_000))]))[0]).toMatchObject({ status: 'accepted' });
  });
});
