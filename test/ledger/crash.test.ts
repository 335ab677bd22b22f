// Power-cut safety: ≥ 200 SIGKILLs of a child appending continuously (see crash/harness.ts); `npm run crash` does 1,000.
import { describe, expect, it } from 'vitest';
import { runCrashHarness } from './crash/harness.ts';

const KILLS = Number(process.env.PALMPAY_CRASH_KILLS ?? 200);

describe('crash harness', () => {
  it(`loses no acknowledged record and leaves no partial one over ${KILLS} SIGKILLs`, async () => {
    const r = await runCrashHarness({ kills: KILLS, seed: Date.now() & 0xffff });
    console.log(`crash: ${r.kills} kills (${r.killsDuringStartup} during start-up), ${r.acked} acknowledged, ${r.records} records, ${r.lostAcked} lost, ${r.durationMs} ms`);
    expect(r.problems).toEqual([]);
    expect(r.kills).toBe(KILLS);
    expect(r.lostAcked).toBe(0);
    // The kills must land while appending, not only at start-up, for the test to mean anything.
    expect(r.acked).toBeGreaterThan(KILLS / 4);
    expect(r.records).toBeGreaterThanOrEqual(r.acked);
  }, 300_000);
});
