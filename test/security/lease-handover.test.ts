// Attack on the salary rule "each voucher is leased to one terminal, which alone may redeem it offline, so two
// offline counters can never pay the same salary" (DESIGN.md §5). A lease used to move when the holder had been
// *heard from* within an online window; being heard from a moment ago proves nothing about the moment after: the
// holder pays the salary offline, its link drops, the admin moves the lease, and the new holder pays the same
// salary from its drawer — the cash left twice. Now a move only withdraws the lease; the holder gives it back with a
// signed `lease_release` in its own chain (so any payout it signed before is already on the books), and only that
// release grants the lease elsewhere.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_OPERATOR } from '../../src/protocol/record.ts';
import { Central } from '../../src/server/service.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';
import { balanceOf, registeredTerminal, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(backends)('salary lease handover (%s)', (kind) => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let clock = Date.now();
  let terminals: Record<string, TestTerminal>;
  let holder: TestTerminal;
  let target: TestTerminal;
  const voucherId = 'V-2026-11-E1';
  const voucher = async () => (await central.repo.tx((r) => r.getVoucher(voucherId)))!;
  const feedOf = async (t: TestTerminal) => (await central.feed((await central.repo.tx((r) => r.getTerminal(t.id)))!, 0)).events.filter((e) => e.key === voucherId);
  const payout = (t: TestTerminal, leaseId: string) =>
    t.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId, leaseId, personId: 'E1', accountId: 'E1', period: '2026-11', amountMinor: 150000, currency: 'SYP' });
  const release = (t: TestTerminal, leaseId: string) => t.chain.next({ type: 'lease_release', operatorId: SYSTEM_OPERATOR, voucherId, leaseId });

  beforeEach(async () => {
    clock = Date.now();
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url, { now: () => clock });
    const operators = { 'op-1': 'supervisor', op: 'paymaster' } as const; // `op` pays the salaries
    terminals = { T1: await registeredTerminal(central, 'T1', { branch: 'B1', operators }), T2: await registeredTerminal(central, 'T2', { branch: 'B1', operators }), T3: await registeredTerminal(central, 'T3', { branch: 'B2', operators }) };
    await central.importPayroll('period,person,amount,currency,branch\n2026-11,E1,150000,SYP,B1');
    const v = await voucher();
    holder = terminals[v.lease_terminal]!;
    target = holder.id === 'T1' ? terminals.T2! : terminals.T1!;
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  it('a lease moved seconds after the holder was last heard from is not payable at the new counter while the holder may have paid offline', async () => {
    const v = await voucher();
    await central.repo.tx((r) => r.touchTerminal(holder.id, clock)); // the holder syncs: "online"
    // 10 s later the holder pays E1 offline from its drawer (record before cash), and its link drops.
    clock += 10_000;
    const first = payout(holder, v.lease_id);
    // 20 s later, still inside the window, the admin moves the lease: it is only withdrawn.
    clock += 20_000;
    expect(await central.moveLease(v.id, target.id)).toEqual({ status: 'pending', holder: holder.id });
    // The target may hold a payable lease only once the holder can no longer pay: it cannot know that yet.
    expect(await feedOf(target)).toEqual([]);
    expect((await feedOf(holder)).map((e) => e.kind)).toEqual(['voucher', 'voucher_withdrawn']);
    // …and the holder's payout, arriving late, is the one that is booked; the move is void.
    clock += 60_000;
    const [res] = await central.ingest(holder.id, [first]);
    expect(res).toEqual({ seq: first.seq, status: 'accepted' });
    expect(await voucher()).toMatchObject({ status: 'redeemed', lease_terminal: holder.id, lease_pending: null });
    expect(await feedOf(target)).toEqual([]);
    await expect(central.moveLease(v.id, target.id)).rejects.toMatchObject({ code: 'LEASE_MOVE_REFUSED' });
  });

  it('the holder gives the unpaid lease back with a signed release: only then is it granted to the target, which pays it once', async () => {
    const v = await voucher();
    await central.moveLease(v.id, target.id);
    const withdrawn = (await feedOf(holder)).find((e) => e.kind === 'voucher_withdrawn')!;
    expect(withdrawn.data).toEqual({ voucherId, leaseId: v.lease_id }); // the holder learns which lease to give back
    const [rel] = await central.ingest(holder.id, [release(holder, v.lease_id)]);
    expect(rel).toMatchObject({ status: 'accepted' });
    const moved = await voucher();
    expect(moved).toMatchObject({ lease_terminal: target.id, lease_pending: null, status: 'open' });
    expect(moved.lease_id).not.toBe(v.lease_id);
    const granted = (await feedOf(target)).find((e) => e.kind === 'voucher')!;
    expect(granted.data.leaseId).toBe(moved.lease_id);
    // The old holder, paying after it gave the lease back (a tampered terminal), is refused: no second payout.
    const [late] = await central.ingest(holder.id, [payout(holder, v.lease_id)]);
    expect(late).toMatchObject({ status: 'review', reason: expect.stringMatching(/not leased to this terminal/) });
    const [ok] = await central.ingest(target.id, [payout(target, moved.lease_id)]);
    expect(ok).toMatchObject({ status: 'accepted' });
    expect(await balanceOf(central, `cash:${target.id}`)).toBe(150000);
    expect(await balanceOf(central, `cash:${holder.id}`)).toBe(0);
  });

  it('a release that is not the holder’s current lease, or not from the holder, grants nothing', async () => {
    const v = await voucher();
    await central.moveLease(v.id, target.id);
    // The target (or any terminal) cannot release a lease it does not hold and so grant itself the voucher.
    const [byTarget] = await central.ingest(target.id, [release(target, v.lease_id)]);
    expect(byTarget).toMatchObject({ status: 'review', reason: expect.stringMatching(/LEASE_RELEASE_REFUSED/) });
    // The holder releasing a lease id it never held.
    const [forged] = await central.ingest(holder.id, [release(holder, 'L-forged')]);
    expect(forged).toMatchObject({ status: 'review', reason: expect.stringMatching(/LEASE_RELEASE_REFUSED/) });
    expect(await voucher()).toMatchObject({ lease_terminal: holder.id, lease_id: v.lease_id, lease_pending: target.id });
    expect((await feedOf(target)).filter((e) => e.kind === 'voucher')).toEqual([]);
  });

  it('a release with no move pending (a move to the holder cancelled it) gives the holder a fresh lease back', async () => {
    const v = await voucher();
    await central.moveLease(v.id, target.id);
    expect(await central.moveLease(v.id, holder.id)).toEqual({ status: 'cancelled', holder: holder.id });
    const [rel] = await central.ingest(holder.id, [release(holder, v.lease_id)]);
    expect(rel).toMatchObject({ status: 'accepted' });
    const back = await voucher();
    expect(back).toMatchObject({ lease_terminal: holder.id, lease_pending: null });
    expect(back.lease_id).not.toBe(v.lease_id);
    expect((await feedOf(holder)).filter((e) => e.kind === 'voucher').at(-1)!.data.leaseId).toBe(back.lease_id);
  });

  it('a move is refused to a terminal of another branch, to an inactive one, and once the voucher is paid', async () => {
    const v = await voucher();
    await expect(central.moveLease(v.id, 'T3')).rejects.toMatchObject({ code: 'LEASE_MOVE_REFUSED' });
    await expect(central.moveLease(v.id, 'T-none')).rejects.toMatchObject({ code: 'LEASE_MOVE_REFUSED' });
    expect(await voucher()).toMatchObject({ lease_pending: null });
  });

  it('a revoked holder cannot give anything back: its lease moves at once (the admin accepted what it may have paid)', async () => {
    const v = await voucher();
    await central.revokeTerminal(holder.id);
    expect(await central.moveLease(v.id, target.id)).toMatchObject({ status: 'moved', holder: target.id });
    expect(await voucher()).toMatchObject({ lease_terminal: target.id, lease_pending: null });
    expect((await feedOf(target)).some((e) => e.kind === 'voucher')).toBe(true);
  });
});
