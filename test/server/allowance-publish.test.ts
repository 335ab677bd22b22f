// The offline allowance a region's counters approve against is republished for exactly the balances a batch moved:
// a purchase, refund or void in one currency rewrites that currency's allowance and leaves the other's row as it was
// (half the feed rows of an upload, PostgreSQL's larger share of its work: SCALING.md), and every allowance still
// equals its balance after the batch, on both backends.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('allowances republished per currency moved (%s)', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let t: TestTerminal;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t = await registeredTerminal(central, 'T1', { region: 'R1', supervisors: ['sup'] });
    await enrolCustomer(central, t, 'P1', 'A1');
    await central.creditAccount('A1', 10_000, 'SYP');
    await central.creditAccount('A1', 500, 'USD');
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  /** The account's allowance rows in the feed: each currency's row (its seq changes when it is rewritten) and amount. */
  const allowances = async () => {
    const rows = await central.repo.db.tx((c) => c.all<{ seq: number | string; key: string; data: string }>(sql`SELECT seq, key, data FROM feed WHERE kind = 'allowance' AND key LIKE ${'A1:%'} ORDER BY key`));
    return Object.fromEntries(rows.map((r) => [r.key, { seq: Number(r.seq), amountMinor: (JSON.parse(r.data) as { amountMinor: number }).amountMinor }]));
  };
  const buy = (purchaseId: string, amountMinor: number, currency: 'SYP' | 'USD') =>
    t.chain.next({ type: 'purchase', operatorId: 'op-1', purchaseId, customerId: 'P1', accountId: 'A1', amountMinor, currency, pinVerified: false, offline: true });

  it.skipIf(skip)('a SYP purchase rewrites the SYP allowance only; a USD one the USD allowance only; a void of the SYP purchase the SYP one', async () => {
    const before = await allowances();
    expect(before).toMatchObject({ 'A1:SYP': { amountMinor: 10_000 }, 'A1:USD': { amountMinor: 500 } });

    const syp = buy('PU-1', 2_500, 'SYP');
    expect((await central.ingest('T1', [syp])).map((r) => r.status)).toEqual(['accepted']);
    const afterSyp = await allowances();
    expect(afterSyp['A1:SYP']!.amountMinor).toBe(7_500);
    expect(afterSyp['A1:SYP']!.seq).toBeGreaterThan(before['A1:SYP']!.seq);
    expect(afterSyp['A1:USD']).toEqual(before['A1:USD']); // not rewritten: its balance did not move

    expect((await central.ingest('T1', [buy('PU-2', 120, 'USD')])).map((r) => r.status)).toEqual(['accepted']);
    const afterUsd = await allowances();
    expect(afterUsd['A1:USD']!.amountMinor).toBe(380);
    expect(afterUsd['A1:SYP']).toEqual(afterSyp['A1:SYP']);

    const voided = t.chain.next({ type: 'void', operatorId: 'op-1', voidId: 'VD-1', targetTerminalId: 'T1', targetSeq: syp.seq, targetType: 'purchase', targetId: 'PU-1', amountMinor: 2_500, currency: 'SYP', approvedBy: 'sup', reason: 'returned' });
    expect((await central.ingest('T1', [voided])).map((r) => r.status)).toEqual(['accepted']);
    const afterVoid = await allowances();
    expect(afterVoid['A1:SYP']!.amountMinor).toBe(10_000);
    expect(afterVoid['A1:USD']).toEqual(afterUsd['A1:USD']);
    // Every allowance equals its balance after all of it.
    for (const cur of ['SYP', 'USD']) expect(afterVoid[`A1:${cur}`]!.amountMinor).toBe(await central.repo.tx((r) => r.balance('acct:A1', cur)));
  });
});
