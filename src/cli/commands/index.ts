// The subcommands of `palmpay`, one module each. Modules load their heavy dependencies lazily in their actions.
import type { Command } from 'commander';
import { registerTerminal } from './terminal.ts';
import { registerBuild } from './build.ts';
import { registerBench } from './bench.ts';
import { registerJournal } from './journal.ts';
import { registerEval } from './eval.ts';
import { registerServer } from './server.ts';
import { registerOutbox } from './outbox.ts';
import { registerSim } from './sim.ts';
import { registerPrinter } from './printer.ts';
import { registerScanner } from './scanner.ts';

export const commands: Array<(program: Command) => void> = [registerTerminal, registerBuild, registerBench, registerJournal, registerEval, registerServer, registerOutbox, registerSim, registerScanner, registerPrinter];
