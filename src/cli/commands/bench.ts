// `palmpay bench <what>`: every benchmark, one subcommand module each (bench-<what>.ts).
// Each prints its figures as ratios against a peer measured in the same run and takes --json FILE.
import type { Command } from 'commander';
import { registerBenchMatch } from './bench-match.ts';
import { registerBenchSync } from './bench-sync.ts';
import { registerBenchExtract } from './bench-extract.ts';
import { registerBenchDrivers } from './bench-drivers.ts';
import { registerBenchLedger } from './bench-ledger.ts';
import { registerBenchCentre } from './bench-centre.ts';
import { registerBenchTerminal } from './bench-terminal.ts';

type BenchRegistrar = (bench: Command) => void;

/** Add one line here per benchmark module. */
const benches: BenchRegistrar[] = [registerBenchSync, registerBenchMatch, registerBenchDrivers, registerBenchExtract, registerBenchLedger, registerBenchCentre, registerBenchTerminal];

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (ratios against a peer measured in the same run)');
  for (const register of benches) register(bench);
}
