// The centre re-checks the offline limits a terminal applied (DESIGN §5): a stolen or tampered terminal with a valid
// key that signs a purchase above its per-transaction cap, or past its stored total, moves no money; the record goes
// to review as OFFLINE_LIMIT_EXCEEDED naming the limit. An honest terminal is judged by the loosest limits it could
// have held (a limit lowered after its last sync does not send its records to review).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import type { RecordDraft, SignedRecord } from '../../src/protocol/record.ts';
import type { OfflineLimits } from '../../src/protocol/offline-limits.ts';
import { MAX_CLOCK_AHEAD_MS, refusalCodeOf } from '../../src/server/invariants.ts';
import { Central } from '../../src/server/service.ts';
import { DEFAULT_OFFLINE_LIMITS } from '../../src/protocol/offline-limits.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';
import { balances, enrolCustomer, registeredTerminal, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

const limits = (perTx: number, stored = perTx * 100): OfflineLimits => ({
  perTransactionMaxMinor: { SYP: perTx, USD: 100 },
  terminalStoredMaxMinor: { SYP: stored, USD: 10_000 },
  maxStoredRecordAgeMs: 3_600_000,
  maxSinceLastSyncMs: 7_200_000,
});
/** How long after a limit is set the centre can be sure a terminal no longer holds the one before: the longest
 * time since a last sync the terminal was ever allowed (the defaults' 3 days here), and a day of clock drift. */
const WINDOW_MS = DEFAULT_OFFLINE_LIMITS.maxSinceLastSyncMs + MAX_CLOCK_AHEAD_MS;

describe.each(backends)('offline limits re-checked at the centre (%s)', (kind) => {
  let c: Central;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let n = 0;
  let clock = Date.now();
  const advance = (ms: number) => (clock += ms);
  beforeEach(async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    clock = Date.now();
    c = await Central.open(db.url, { now: () => clock });
    t1 = await registeredTerminal(c, 'T1', { branch: 'B1', region: 'R1', supervisors: ['op-super'] });
    expect((await enrolCustomer(c, t1, 'P1', 'A1')).registry.status).toBe('confirmed');
    await c.creditAccount('A1', 5_000_000_000, 'SYP');
  });
  afterEach(async () => {
    await c.close();
    await cleanup();
  });

  /** A purchase signed by T1 with the centre time it last saw (`seen`: a time the centre signed, as a feed page carries). */
  const purchase = (amount: number, seen?: { ms: number; sig: string }, over: Partial<RecordDraft> = {}) =>
    t1.chain.next({ ...purchaseDraft('T1', ++n, 'P1', 'A1', amount), ...over } as RecordDraft, clock, seen ? { serverTime: { ms: seen.ms, ref: seen.sig } } : {});
  async function review(recs: SignedRecord[], code: string, limit: string) {
    const results = await c.ingest('T1', recs);
    const last = results[results.length - 1]!;
    expect(last).toMatchObject({ status: 'review' });
    expect(refusalCodeOf(last.reason)).toBe(code);
    expect(last.reason).toContain(limit);
    return results;
  }
  const accepted = async (rec: SignedRecord) => expect((await c.ingest('T1', [rec]))[0]).toEqual({ seq: rec.seq, status: 'accepted' });

  it('a stolen terminal signs a 10⁹ SYP purchase under the default limits: review, nothing moves', async () => {
    const before = await balances(c);
    await review([purchase(1_000_000_000)], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
    // "online" is only the terminal's word: the centre decides no purchase online, so the flag waives nothing
    await review([purchase(1_000_000_000, undefined, { offline: false } as Partial<RecordDraft>)], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
    expect(await balances(c)).toEqual(before);
    await accepted(purchase(50_000_000)); // exactly the default cap
  });

  it('a purchase above the cap the centre set is refused; with a granted supervisor’s override it is accepted', async () => {
    await c.setTerminalLimits('T1', limits(1_000));
    advance(WINDOW_MS + 60_000);
    const seen = c.signedTime();
    const before = await balances(c);
    await review([purchase(2_000, seen)], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
    expect(await balances(c)).toEqual(before);
    // an override the record names, by someone the centre did not grant: the approval check refuses it first
    await review([purchase(2_000, seen, { approvedBy: 'op-nobody', overriddenLimits: ['PER_TRANSACTION_CAP'] } as Partial<RecordDraft>)], 'APPROVER_NOT_SUPERVISOR', 'op-nobody');
    // an override of the other limit waives nothing here
    await review([purchase(2_000, seen, { approvedBy: 'op-super', overriddenLimits: ['CUSTOMER_ALLOWANCE'] } as Partial<RecordDraft>)], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
    expect(await balances(c)).toEqual(before);
    await accepted(purchase(2_000, seen, { approvedBy: 'op-super', overriddenLimits: ['PER_TRANSACTION_CAP'] } as Partial<RecordDraft>));
    await accepted(purchase(1_000, seen));
    // a raise the terminal may have taken from a page of a pull still running, before its centre time moved on
    await c.setTerminalLimits('T1', limits(5_000));
    await accepted(purchase(4_000, seen));
  });

  it('a limit lowered after the terminal last synced does not send its honest records to review', async () => {
    await c.setTerminalLimits('T1', limits(100_000_000));
    advance(WINDOW_MS + 60_000);
    const synced = c.signedTime(); // the terminal's last feed page: cap 100,000,000
    advance(60_000);
    await c.setTerminalLimits('T1', limits(1_000)); // lowered while the terminal is offline
    advance(3_600_000);
    await accepted(purchase(80_000_000, synced));
    // a time after the lowering may have come with an upload or a feed pull cut short: the terminal may still hold
    // the cap it last pulled whole, for as long as it may decide offline after that pull
    await accepted(purchase(80_000_000, c.signedTime()));
    // past that window it cannot
    advance(WINDOW_MS);
    await review([purchase(2_000, c.signedTime())], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
    // without any centre time the terminal could have held any limits it was ever given: the loosest of them
    await accepted(purchase(100_000_000));
    await review([purchase(100_000_001)], 'OFFLINE_LIMIT_EXCEEDED', 'PER_TRANSACTION_CAP');
  });

  it('a batch of purchases past the terminal’s stored total: the one past it is refused', async () => {
    await c.setTerminalLimits('T1', limits(50_000, 100_000));
    advance(WINDOW_MS + 60_000);
    const seen = c.signedTime();
    const before = await balances(c);
    // the three were unsynced together (the centre first sees them in one batch): 40,000 + 40,000 + 40,000 > 100,000
    const results = await review([purchase(40_000, seen), purchase(40_000, seen), purchase(40_000, seen)], 'OFFLINE_LIMIT_EXCEEDED', 'TERMINAL_STORED_TOTAL');
    expect(results.slice(0, 2).map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect((await balances(c))['acct:A1 SYP']).toBe(before['acct:A1 SYP']! - 80_000);
    // uploaded one by one, the centre cannot tell they were held together: each is within the cap (the stored total
    // then rests on the terminal, the funds check and the cap)
    await accepted(purchase(40_000, seen));
  });
});
