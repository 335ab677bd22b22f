// `palmpay bench centre` works end to end on a tiny run (the figures come from the full-size run, not from here).
import { expect, it } from 'vitest';
import { runCentreBench } from '../../bench/centre/bench.ts';
import { PG_URL } from './helpers.ts';

it('runs the centre bench small: ingest through 2 processes, reads, the duplicate check', async () => {
  const r = await runCentreBench({ db: PG_URL, workers: PG_URL ? 2 : 1, terminals: 3, recordsPerTerminal: 10, batch: 5, customers: 3, persons: 300, enrolments: 4 });
  if (!r.ingest || !r.dedup) throw new Error('both halves run by default');
  expect(r.ingest.records).toBe(30);
  expect(r.ingest.accepted).toBe(30);
  expect(r.ingest.ingest_records_per_s).toBeGreaterThan(0);
  expect(r.ingest.peer_bare_insert_records_per_s).toBeGreaterThan(0);
  expect(r.ingest.reads.count).toBeGreaterThan(0);
  expect(r.dedup.index_entries).toBe(300);
  // Re-enrolments of a stored palm are caught; new people are not flagged.
  expect(r.dedup.duplicates_flagged_of_mated).toBe('2/2');
  expect(r.dedup.false_alarms_of_new).toBe('0/2');
  // The linear scan peer ran on each enrolment and decided as the index path did.
  expect(r.dedup.peer_linear_enrolments).toBe(4);
  expect(r.dedup.decisions_identical_to_linear).toBe('4/4');
  expect(r.dedup.peer_linear_p50_ms).toBeGreaterThan(0);
}, 300_000);
