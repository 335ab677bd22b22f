import type { Command } from 'commander';

export function registerTerminal(program: Command): void {
  program
    .command('terminal')
    .description('run the counter terminal (Electron when installed, otherwise the browser kiosk)')
    .action(async () => {
      throw new Error('terminal: not built yet');
    });
}
