// `palmpay bench centre`: the centre at regional scale (bench/centre does the work).
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';

function count(name: string, v: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new PalmPayError('BENCH_USAGE', `${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
}

function usage(message: string): never {
  throw new PalmPayError('BENCH_USAGE', message);
}

export function registerBenchCentre(bench: Command): void {
  bench
    .command('centre')
    .description('the centre at scale: ingest through N processes vs a bare INSERT peer, reads under load, enrolment duplicate check with P people')
    .option('--db <url>', 'PostgreSQL to run on (a scratch schema, dropped after); default PALMPAY_TEST_PG, else a temporary SQLite file')
    .option('--workers <n>', 'server processes', '4')
    .option('--terminals <n>', 'terminals uploading at once', '200')
    .option('--records <n>', 'signed records per terminal', '250')
    .option('--batch <n>', 'records per upload', '50')
    .option('--customers <n>', 'customers the purchases are spread over (seeded in bulk)', '50000')
    .option('--only <part>', 'run only ingest, or dedup (alias duplicate)')
    .option('--persons <n>', 'people enrolled for the duplicate check', '100000')
    .option('--enrolments <n>', 'new enrolments checked (half re-enrolments)', '40')
    .option('--peer-enrolments <n>', 'enrolments the linear scan peer also checks (default all up to 20,000 people, else 10)')
    .option('--distinct-palms', 'duplicate check: every gallery palm its own latent field, not drawn from the field pool bench match uses (slower to build)')
    .option('--both-hands', 'duplicate check: each person stores a left and a right palm (two entries, as a real enrolment of both hands), the probes are left hands')
    .option('--uploads-during <n>', 'duplicate check: N terminals upload purchases (--batch records a batch, over --customers) into the same process beside a second set of --enrolments enrolments, then alone as long (default 0: none)', '0')
    .option('--pool <n>', 'PostgreSQL connections per server process (its --pool)', '6')
    .option('--read-every <ms>', 'pause between two feed reads under ingest (default 0: one read after another)', '0')
    .option('--upload-slots <n>', "the server's --upload-slots (default: the server's own)")
    .option('--profile <dir>', 'write a CPU profile (.cpuprofile) of each server process into this folder')
    .option('--server-bin <path>', "the bin/palmpay.js the server processes run (default this checkout's): another checkout's, to compare two builds in one bench")
    .option('--json <file>', 'write the figures as JSON')
    .action(async (o: { serverBin?: string; db?: string; workers: string; terminals: string; records: string; batch: string; customers: string; persons: string; enrolments: string; peerEnrolments?: string; uploadsDuring: string; distinctPalms?: boolean; bothHands?: boolean; only?: string; readEvery: string; pool: string; uploadSlots?: string; profile?: string; json?: string }) => {
      const { runCentreBench, formatCentreBench } = await import('../../../bench/centre/bench.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      const { writeFileSync } = await import('node:fs');
      const bar = new SingleBar({ format: '{phase} [{bar}] {value}/{total}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 }, Presets.shades_classic);
      let phase = '';
      const result = await runCentreBench({
        db: o.db ?? process.env.PALMPAY_TEST_PG,
        workers: count('--workers', o.workers),
        terminals: count('--terminals', o.terminals),
        recordsPerTerminal: count('--records', o.records),
        batch: count('--batch', o.batch),
        customers: count('--customers', o.customers),
        persons: count('--persons', o.persons),
        enrolments: count('--enrolments', o.enrolments, 2),
        peerEnrolments: o.peerEnrolments === undefined ? undefined : count('--peer-enrolments', o.peerEnrolments, 0),
        uploadsDuring: count('--uploads-during', o.uploadsDuring, 0),
        distinctPalms: o.distinctPalms === true,
        bothHands: o.bothHands === true,
        readEveryMs: count('--read-every', o.readEvery, 0),
        pool: count('--pool', o.pool),
        profileDir: o.profile,
        serverBin: o.serverBin,
        ...(o.uploadSlots !== undefined ? { uploadSlots: count('--upload-slots', o.uploadSlots) } : {}),
        only: o.only === undefined ? undefined : o.only === 'ingest' || o.only === 'dedup' ? o.only : o.only === 'duplicate' ? 'dedup' : usage(`--only must be ingest, dedup or duplicate, got ${o.only}`),
        progress: (p, done, total) => {
          if (p !== phase) {
            if (phase) bar.stop();
            phase = p;
            bar.start(total, 0, { phase: p });
          }
          bar.update(done, { phase: p });
        },
      });
      bar.stop();
      console.log(formatCentreBench(result));
      if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    });
}
