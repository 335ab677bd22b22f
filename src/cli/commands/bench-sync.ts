// `palmpay bench sync`: drain queued records to a local centre, end to end, against the raw ingest rate.
import type { Command } from 'commander';

export function registerBenchSync(bench: Command): void {
  bench
    .command('sync')
    .description('drain N queued signed records to a local centre over HTTP (target ≥ 5,000 records/s); peer: raw ingest without HTTP')
    .option('--records <n>', 'records to queue and drain', '100000')
    .option('--batch <n>', 'records per upload batch', '1000')
    .option('--in-process', 'run the centre inside the bench process instead of as its own `palmpay server` process')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts: { records: string; batch: string; json?: string; inProcess?: boolean }) => {
      const { runSyncBench } = await import('../../../bench/sync/bench.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      const { writeFileSync } = await import('node:fs');
      let bar: InstanceType<typeof SingleBar> | undefined;
      const result = await runSyncBench({
        records: Number(opts.records),
        batchSize: Number(opts.batch),
        serverProcess: !opts.inProcess,
        onPhase: (phase, total) => {
          bar?.stop();
          bar = new SingleBar({ format: `${phase.padEnd(38)} {bar} {value}/{total}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 }, Presets.shades_classic);
          bar.start(total, 0);
        },
        onProgress: (done) => bar?.update(done),
      });
      bar?.stop();
      console.log(
        `bench sync: ${result.records} records, end to end ${result.end_to_end_records_per_s} records/s (${result.end_to_end_seconds} s), ` +
          `raw ingest ${result.raw_ingest_records_per_s} records/s, ratio ${result.ratio_to_raw_ingest}, target ≥ ${result.target_records_per_s}: ${result.meets_target ? 'met' : 'NOT met'}; ` +
          `CPU ${result.end_to_end_cpu_us_per_record} µs/record end to end vs ${result.raw_ingest_cpu_us_per_record} raw (load average ${result.load_average_1m} on ${result.cores} cores)`,
      );
      if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    });
}
