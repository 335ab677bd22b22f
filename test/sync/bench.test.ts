// The sync bench's plumbing on a small load (the figures themselves come from `npm run bench:sync`).
import { expect, it } from 'vitest';
import { runSyncBench } from '../../bench/sync/bench.ts';

it('drains every queued record to a centre running as its own process, and reports its figures', async () => {
  const r = await runSyncBench({ records: 1500, batchSize: 500, serverProcess: true });
  expect(r).toMatchObject({ records: 1500, centre_records: 1500, centre: 'separate process (palmpay server)', storage: 'sqlite' });
  expect(r.end_to_end_records_per_s).toBeGreaterThan(0);
  expect(r.raw_ingest_records_per_s).toBeGreaterThan(0);
  expect(r.end_to_end_cpu_us_per_record).toBeGreaterThan(r.raw_ingest_cpu_us_per_record * 0.5); // the centre's CPU is counted
  expect(r.ratio_to_raw_ingest).toBeCloseTo(r.end_to_end_records_per_s / r.raw_ingest_records_per_s, 1);
}, 60_000);
