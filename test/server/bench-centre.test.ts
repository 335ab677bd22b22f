// `palmpay bench centre` works end to end on a tiny run (the figures come from the full-size run, not from here).
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { formatCentreBench, runCentreBench } from '../../bench/centre/bench.ts';
import { buildGallery } from '../../bench/centre/dedup.ts';
import { ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { decodeTemplate } from '../../src/biometrics/template.ts';
import { keyDirFor, loadCentreKeys, openTemplates } from '../../src/server/keys.ts';
import { openSqlDb, sql } from '../../src/server/sql.ts';
import { PG_URL, tempDb } from './helpers.ts';

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
  expect(formatCentreBench(r)).toMatch(/linear scan peer \(the check before the index, same gallery, 4 enrolments\)/);
  // A run with more server processes than cores says what that costs, and what to run instead.
  expect(formatCentreBench(r)).not.toMatch(/server processes on/);
  expect(formatCentreBench({ ...r, ingest: { ...r.ingest, workers: r.cores + 2 } })).toMatch(new RegExp(`note: ${r.cores + 2} server processes on ${r.cores} cores; \`palmpay server --workers auto\``));
}, 300_000);

it('runs the duplicate check with uploads beside it: every row of a gallery over several chunks, both upload phases accepted', async () => {
  // 4,500 people: the gallery is written in chunks of 2,000, one in flight while the next is generated; a lost or
  // doubled chunk shows in the index's entries.
  const r = await runCentreBench({ db: PG_URL, workers: 1, terminals: 1, recordsPerTerminal: 12, batch: 5, customers: 20, persons: 4500, enrolments: 4, only: 'dedup', uploadsDuring: 3, peerEnrolments: 0 });
  if (!r.dedup?.uploads) throw new Error('the duplicate check with uploads ran');
  // No peer asked for: its figures are absent, not zero, and the report says it did not run.
  expect(r.dedup).toMatchObject({ peer_linear_enrolments: 0, peer_linear_p50_ms: null, peer_linear_p95_ms: null, speedup_p50: null, speedup_p95: null });
  expect(formatCentreBench(r)).toContain('linear scan peer: not run (--peer-enrolments 0)');
  expect(r.ingest).toBeNull();
  expect(r.targets.ingest_met).toBeNull();
  expect(r.targets.index_load_met).toBeNull();
  expect(r.dedup.index_entries).toBe(4500);
  expect(r.dedup.gallery_build_seconds).toBeGreaterThan(0);
  expect(r.dedup.index_load_cpu_seconds).toBeGreaterThan(0);
  expect(r.dedup.check_cpu_p50_ms).toBeGreaterThan(0);
  expect(r.dedup.check_cpu_p95_ms).toBeGreaterThanOrEqual(r.dedup.check_cpu_p50_ms);
  expect(r.dedup.peak_rss_mb).toBeGreaterThanOrEqual(r.dedup.rss_after_index_load_mb);
  expect(r.dedup.duplicates_flagged_of_mated).toBe('2/2');
  expect(r.dedup.missed_mates_beyond_matcher_threshold).toBe(0);
  expect(r.dedup.mates_flagged_as_other_person).toBe(0);
  expect(r.dedup.false_alarms_of_new).toBe('0/2');
  const u = r.dedup.uploads;
  // Both phases uploaded, every purchase accepted.
  expect(u.alone.records).toBeGreaterThan(0);
  expect(u.with_enrolments.records).toBeGreaterThan(0);
  expect(u.accepted).toBe(`${u.alone.records + u.with_enrolments.records}/${u.alone.records + u.with_enrolments.records}`);
  expect(u.alone.batch_p99_ms).toBeGreaterThan(0);
  expect(u.with_enrolments.batch_p99_ms).toBeGreaterThan(0);
  // The second set of enrolments (new people, new re-enrolments of stored palms) is checked as the first.
  expect(u.enrolments_under_uploads.enrolments).toBe(4);
  expect(u.enrolments_under_uploads.duplicates_flagged_of_mated).toBe('2/2');
  expect(u.enrolments_under_uploads.false_alarms_of_new).toBe('0/2');
}, 300_000);

it('--both-hands stores a left and a right palm per person (two sealed templates, two stage-1 codes), and left-hand probes', async () => {
  const db = await tempDb(PG_URL ? 'postgres' : 'sqlite');
  try {
    const { probes } = await buildGallery(db.url, 20, 4, 9, undefined, { bothHands: true });
    expect(probes.every((p) => p.t.hand === 'left')).toBe(true);
    const conn = await openSqlDb(db.url, { poolMax: 1 });
    try {
      const rows = await conn.tx((c) => c.all<{ id: string; templates: Uint8Array; digests: string; codes: Uint8Array; code_hands: string }>(sql`SELECT id, templates, digests, codes, code_hands FROM persons WHERE id LIKE 'G%'`));
      expect(rows).toHaveLength(20);
      const key = Buffer.from(loadCentreKeys(keyDirFor(db.url)).templateKey, 'base64');
      for (const r of rows) {
        expect(JSON.parse(r.code_hands)).toEqual(['left', 'right']);
        expect(r.codes.byteLength).toBe(2 * ENTRY_CODE_BYTES);
        const templates = openTemplates(key, r.id, r.templates);
        expect(templates.map((t) => decodeTemplate(t).hand)).toEqual(['left', 'right']);
        expect(JSON.parse(r.digests)).toEqual(templates.map((t) => createHash('sha256').update(t).digest('hex')));
      }
    } finally {
      await conn.close();
    }
  } finally {
    await db.cleanup();
  }
}, 120_000);

it('writes the gallery sealed with the centre\'s template key, as the centre stores it (nothing left for Central.open to reseal)', async () => {
  const db = await tempDb(PG_URL ? 'postgres' : 'sqlite');
  try {
    await buildGallery(db.url, 50, 2, 9);
    const conn = await openSqlDb(db.url, { poolMax: 1 });
    try {
      const rows = await conn.tx((c) => c.all<{ id: string; templates: Uint8Array; templates_json: string | null }>(sql`SELECT id, templates, templates_json FROM persons WHERE id LIKE 'G%'`));
      expect(rows).toHaveLength(50);
      const key = Buffer.from(loadCentreKeys(keyDirFor(db.url)).templateKey, 'base64');
      for (const r of rows) {
        expect(r.templates_json).toBeNull(); // nothing in the column of before migration 18
        // Opens with the centre's key under its own person id (the id is bound in: another row's id fails).
        expect(openTemplates(key, r.id, r.templates)[0]!.length).toBeGreaterThan(100);
        expect(() => openTemplates(key, r.id === 'G0' ? 'G1' : 'G0', r.templates)).toThrow();
      }
    } finally {
      await conn.close();
    }
  } finally {
    await db.cleanup();
  }
}, 120_000);
