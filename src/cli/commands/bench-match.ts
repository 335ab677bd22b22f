// `palmpay bench match`: 1:N identification at branch scale (bench/identify/match.ts does the work).
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';

interface BenchMatchCli {
  n: number[];
  k: string;
  queries: string;
  jsQueries: string;
  usearchMax: string;
  kSweep: string;
  seed: string;
  load: string;
  screenFraction?: string;
  json?: string;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new PalmPayError('BENCH_USAGE', `${name} must be a non-negative integer, got ${v}`);
  return n;
}

function fraction(name: string, v: string): number {
  const f = Number(v);
  if (!(f > 0 && f <= 1)) throw new PalmPayError('BENCH_USAGE', `${name} must be a number in (0, 1], got ${v}`);
  return f;
}

export function registerBenchMatch(bench: Command): void {
  bench
    .command('match')
    .description('1:N identification: latency p50/p99 per N, stage-1 bytes/s vs the read floor, plain JS, usearch HNSW, memory per palm')
    .option('--n <count>', 'gallery size (repeat for several)', (v: string, acc: number[]) => [...acc, positiveInt('--n', v)], [] as number[])
    .option('--k <count>', 'stage-1 candidates re-scored by stage 2', '32')
    .option('--queries <count>', 'mated probes per N (and as many non-mated)', '100')
    .option('--js-queries <count>', 'probes for the plain-JS peer', '5')
    .option('--usearch-max <count>', 'build usearch HNSW only up to this N (slow on one core)', '100000')
    .option('--k-sweep <list>', 'K values whose cost in accuracy is reported', '4,8,16,32,64,128,256')
    .option('--seed <int>', 'random seed of the synthetic gallery', '1')
    .option('--screen-fraction <f>', 'fraction of each block the screening pass keeps for exact scoring (default 1/128)')
    .option('--load <count>', 'also time loading this many sealed templates from SQLite (0 = skip)', '100000')
    .option('--json <file>', 'write every figure as JSON')
    .action(async (o: BenchMatchCli) => {
      const ns = o.n.length > 0 ? o.n : [100_000];
      const { writeFileSync } = await import('node:fs');
      const { SingleBar, Presets } = await import('cli-progress');
      const { runBenchMatch, formatBenchMatch } = await import('../../../bench/identify/run.ts');
      // Progress also when stderr is not a terminal (CI logs), every few seconds.
      const bar = new SingleBar(
        { format: '{phase} [{bar}] {value}/{total}', hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 },
        Presets.shades_classic,
      );
      let phase = '';
      const report = await runBenchMatch({
        ns,
        k: positiveInt('--k', o.k),
        queries: positiveInt('--queries', o.queries),
        jsQueries: positiveInt('--js-queries', o.jsQueries),
        usearchMax: positiveInt('--usearch-max', o.usearchMax),
        kSweep: o.kSweep.split(',').map((v) => positiveInt('--k-sweep', v.trim())),
        seed: positiveInt('--seed', o.seed),
        load: positiveInt('--load', o.load),
        ...(o.screenFraction !== undefined ? { screen: { ...(await import('../../biometrics/identify/coarse-index.ts')).DEFAULT_SCREEN, fraction: fraction('--screen-fraction', o.screenFraction) } } : {}),
        progress: (p, done, total) => {
          if (p !== phase) {
            if (phase) bar.stop();
            phase = p;
            bar.start(total, 0, { phase: p });
          }
          bar.setTotal(total);
          bar.update(done, { phase: p });
        },
        log: (line) => {
          if (phase) {
            bar.stop();
            phase = '';
          }
          console.log(line);
        },
      });
      bar.stop();
      console.log(formatBenchMatch(report));
      if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2));
    });
}
