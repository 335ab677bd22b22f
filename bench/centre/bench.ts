// `palmpay bench centre`: the centre at regional scale (issue 16). Three measurements, each on its own scratch
// schema of the given PostgreSQL database (or a temporary SQLite file without --db): ingest through N processes
// against a bare batched INSERT peer, feed reads under that load, and the enrolment duplicate check
// with P people enrolled (index start-up load included).
import { availableParallelism, loadavg } from 'node:os';
import { scratchDb } from './db.ts';
import { runDedup, type DedupResult } from './dedup.ts';
import { runIngest, type IngestResult } from './ingest.ts';

export interface CentreBenchOptions {
  db?: string;
  workers: number;
  terminals: number;
  recordsPerTerminal: number;
  batch: number;
  customers: number;
  persons: number;
  enrolments: number;
  /** How many enrolments the linear scan peer also checks (dedup.ts default). */
  peerEnrolments?: number;
  /** Terminals uploading purchases (batches of `batch`, over `customers`) beside a second set of enrolments, then alone as long (0: none). */
  uploadsDuring?: number;
  /** Every gallery palm its own latent field (dedup.ts), not the field pool `bench match` draws from. */
  distinctPalms?: boolean;
  bothHands?: boolean;
  /** PostgreSQL connections per server process (default 6). */
  pool?: number;
  /** Pause between two feed reads under ingest (0: one after another). */
  readEveryMs?: number;
  /** Folder for a CPU profile of each server process (node --cpu-prof). */
  profileDir?: string;
  /** The `bin/palmpay.js` the server processes run (another checkout's, to compare two builds under one bench). */
  serverBin?: string;
  /** The server's --upload-slots (unset: its default). */
  uploadSlots?: number;
  /** Run only one half (default both). */
  only?: 'ingest' | 'dedup';
  progress?: (phase: string, done: number, total: number) => void;
}

export interface CentreBenchResult {
  storage: 'sqlite' | 'postgres';
  cores: number;
  load_average_1m: number;
  ingest: IngestResult | null;
  dedup: DedupResult | null;
  targets: {
    ingest_records_per_s: 5000;
    ratio_to_peer: 0.5;
    check_p95_ms: 100;
    index_load_seconds_at_1e6: 10;
    read_p99_ms: 200;
    /** null: that part was not run. */
    ingest_met: boolean | null;
    ratio_met: boolean | null;
    check_met: boolean | null;
    index_load_met: boolean | null;
    reads_met: boolean | null;
  };
}

export async function runCentreBench(o: CentreBenchOptions): Promise<CentreBenchResult> {
  let ingest: IngestResult | null = null;
  let dedup: DedupResult | null = null;
  let storage: 'sqlite' | 'postgres' = o.db ? 'postgres' : 'sqlite';
  if (o.only !== 'dedup') {
    const a = await scratchDb(o.db);
    storage = a.dialect;
    try {
      ingest = await runIngest({ url: a.url, workers: o.workers, terminals: o.terminals, recordsPerTerminal: o.recordsPerTerminal, batch: o.batch, customers: o.customers, readEveryMs: o.readEveryMs ?? 0, pool: o.pool ?? 6, profileDir: o.profileDir, serverBin: o.serverBin, ...(o.uploadSlots ? { uploadSlots: o.uploadSlots } : {}), progress: o.progress });
    } finally {
      await a.drop();
    }
  }
  if (o.only !== 'ingest') {
    const b = await scratchDb(o.db);
    try {
      const uploads = o.uploadsDuring ? { terminals: o.uploadsDuring, batch: o.batch, customers: o.customers } : undefined;
      dedup = await runDedup({ url: b.url, persons: o.persons, enrolments: o.enrolments, peerEnrolments: o.peerEnrolments, uploads, distinctPalms: o.distinctPalms, bothHands: o.bothHands, progress: o.progress });
    } finally {
      await b.drop();
    }
  }
  return {
    storage,
    cores: availableParallelism(),
    load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
    ingest,
    dedup,
    targets: {
      ingest_records_per_s: 5000,
      ratio_to_peer: 0.5,
      check_p95_ms: 100,
      index_load_seconds_at_1e6: 10,
      read_p99_ms: 200,
      ingest_met: ingest && ingest.ingest_records_per_s >= 5000,
      ratio_met: ingest && ingest.ratio_to_peer >= 0.5,
      check_met: dedup && dedup.check_p95_ms <= 100,
      // The target is set at 10⁶ people; below, null.
      index_load_met: dedup && dedup.persons >= 1_000_000 ? dedup.index_load_seconds <= 10 : null,
      reads_met: ingest && ingest.reads.feed_p99_ms <= 200,
    },
  };
}

export function formatCentreBench(r: CentreBenchResult): string {
  const i = r.ingest;
  const d = r.dedup;
  const lines = [`bench centre (${r.storage}, ${r.cores} cores, load ${r.load_average_1m})`];
  if (i) {
    lines.push(
    `ingest: ${i.records} records from ${i.terminals} terminals through ${i.workers} processes (pool ${i.pool} each): ${i.ingest_records_per_s} records/s ` +
      `(batch of ${i.batch_size}: p50 ${i.batch_p50_ms} ms, p99 ${i.batch_p99_ms} ms); bare batched INSERT peer ${i.peer_bare_insert_records_per_s} records/s, ratio ${i.ratio_to_peer} ` +
      `(targets ≥ 5,000: ${r.targets.ingest_met ? 'met' : 'NOT met'}; ≥ 0.5: ${r.targets.ratio_met ? 'met' : 'NOT met'}); accepted ${i.accepted}, dropped connections retried ${i.link_errors}`,
    `CPU per record (utime + stime, ingest phase): server processes ${i.cpu_ms_per_record.server ?? 'n/a'} ms, PostgreSQL (every process on this machine) ${i.cpu_ms_per_record.postgres ?? 'n/a'} ms, bench client ${i.cpu_ms_per_record.client} ms; server ran ${i.server_bin}`,
    `reads under ingest: feed p50 ${i.reads.feed_p50_ms} / p99 ${i.reads.feed_p99_ms} ms (${i.reads.count} reads, one every ${i.reads.every_ms} ms after the last; target p99 ≤ 200: ${r.targets.reads_met ? 'met' : 'NOT met'})`,
    );
    // More server processes than cores wait for each other's CPU, and a read waits with them (SCALING.md).
    if (i.workers > r.cores) lines.push(`note: ${i.workers} server processes on ${r.cores} cores; \`palmpay server --workers auto\` runs one per core (src/server/SCALING.md, "One process per core")`);
  }
  if (d) {
    lines.push(
    `enrolment duplicate check with ${d.persons} people (${d.gallery}; built in ${d.gallery_build_seconds} s): index start-up load ${d.index_load_seconds} s (${d.index_load_cpu_seconds} s of this process's CPU; ${d.index_entries} entries${r.targets.index_load_met === null ? '' : `; target ≤ 10 s at 10⁶: ${r.targets.index_load_met ? 'met' : 'NOT met'}`}), ` +
      `RSS ${d.rss_after_index_load_mb} MB once loaded, peak ${d.peak_rss_mb} MB; ` +
      `per enrolment p50 ${d.check_p50_ms} ms, p95 ${d.check_p95_ms} ms incl. the re-check on commit (CPU p50 ${d.check_cpu_p50_ms} / p95 ${d.check_cpu_p95_ms} ms; target p95 ≤ 100: ${r.targets.check_met ? 'met' : 'NOT met'}); ` +
      `re-enrolments flagged ${d.duplicates_flagged_of_mated} (of those missed, ${d.missed_mates_beyond_matcher_threshold} scored above the 1:1 threshold by the full matcher itself, ${d.mates_flagged_as_other_person} held as someone else's duplicate), false alarms on new people ${d.false_alarms_of_new}`,
    d.peer_linear_enrolments === 0
      ? 'linear scan peer: not run (--peer-enrolments 0)'
      : `linear scan peer (the check before the index, same gallery, ${d.peer_linear_enrolments} enrolments): p50 ${d.peer_linear_p50_ms} ms, p95 ${d.peer_linear_p95_ms} ms; ` +
        `index ${d.speedup_p50} × faster at p50, ${d.speedup_p95} × at p95; decisions identical to the linear scan ${d.decisions_identical_to_linear}`,
    );
    const u = d.uploads;
    if (u) {
      const phase = (p: typeof u.alone) =>
        `${p.records} records in ${p.seconds} s (${p.records_per_s}/s), batch p50 ${p.batch_p50_ms} / p99 ${p.batch_p99_ms} / max ${p.batch_max_ms} ms, event loop delay p99 ${p.event_loop_delay_p99_ms} / max ${p.event_loop_delay_max_ms} ms`;
      const e = u.enrolments_under_uploads;
      lines.push(
        `uploads into the same process (${u.terminals} terminals one batch of ${u.batch_size} after another; accepted ${u.accepted}): while enrolling ${phase(u.with_enrolments)}; ` +
          `alone, as long ${phase(u.alone)}; batch p99 with / alone ${u.batch_p99_ratio}`,
        `the ${e.enrolments} enrolments beside those uploads: p50 ${e.check_p50_ms} ms, p95 ${e.check_p95_ms} ms; flagged ${e.duplicates_flagged_of_mated} (missed beyond the matcher's threshold ${e.missed_mates_beyond_matcher_threshold}), false alarms ${e.false_alarms_of_new}`,
      );
    }
  }
  return lines.join('\n');
}
