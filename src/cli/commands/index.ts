// The subcommands of `palmpay`, one module each. Modules load their heavy dependencies lazily in their actions.
import type { Command } from 'commander';
import { registerTerminal } from './terminal.ts';

export const commands: Array<(program: Command) => void> = [registerTerminal];
