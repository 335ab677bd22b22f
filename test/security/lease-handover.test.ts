// Attack on the salary rule "each voucher is leased to one terminal, which alone may redeem it offline, so two
// offline counters can never pay the same salary; moving a lease needs the link" (DESIGN.md §5).
// The centre moves a lease when the holder was *heard from* within the online window (payroll.ts,
// leaseMoveRefusal). Being heard from a moment ago proves nothing about the moment after: the holder pays the
// salary offline, its link drops, and the admin moves the lease inside the window. The new holder then pays the
// same salary from its drawer; the first payout arrives later and only goes to review — the cash left twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';
import { registeredTerminal, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(backends)('salary lease handover (%s)', (kind) => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let clock = Date.now();
  let terminals: Record<string, TestTerminal>;
  beforeEach(async () => {
    clock = Date.now();
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url, { now: () => clock, onlineWindowMs: 60_000 });
    terminals = { T1: await registeredTerminal(central, 'T1', { branch: 'B1' }), T2: await registeredTerminal(central, 'T2', { branch: 'B1' }) };
    await central.importPayroll('period,person,amount,currency,branch\n2026-11,E1,150000,SYP,B1');
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  // HOLE, not yet fixed (see the red-team report on branch `redteam`): the lease must be handed over in two
  // steps — withdrawn from the holder, and granted to the target only once the holder has acknowledged the
  // withdrawal after uploading every record it signed before it (so a payout made before it is on the books).
  it.skip('a lease moved seconds after the holder was last heard from is not payable at the new counter while the holder may have paid offline', async () => {
    const v = (await central.repo.tx((r) => r.getVoucher('V-2026-11-E1')))!;
    const holder = terminals[v.lease_terminal]!;
    const target = holder.id === 'T1' ? terminals.T2! : terminals.T1!;
    await central.repo.tx((r) => r.touchTerminal(holder.id, clock)); // the holder syncs: "online"
    // 10 s later the holder pays E1 offline from its drawer (record before cash), and its link drops.
    clock += 10_000;
    const first = holder.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: 'E1', accountId: 'E1', period: '2026-11', amountMinor: 150000, currency: 'SYP' });
    // 20 s later, still inside the window, the admin moves the lease.
    clock += 20_000;
    await central.moveLease(v.id, target.id).catch((e: unknown) => expect(e).toMatchObject({ code: 'LEASE_MOVE_REFUSED' }));
    const targetRow = (await central.repo.tx((r) => r.getTerminal(target.id)))!;
    const granted = (await central.feed(targetRow, 0)).events.find((e) => e.kind === 'voucher' && e.key === v.id);
    // The target may hold a payable lease only once the holder can no longer pay: it cannot know that yet.
    expect(granted).toBeUndefined();
    // …and the holder's payout, arriving late, is the one that is booked.
    clock += 60_000;
    const [res] = await central.ingest(holder.id, [first]);
    expect(res).toEqual({ seq: first.seq, status: 'accepted' });
  });
});
