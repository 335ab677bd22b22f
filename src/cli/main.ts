// `palmpay`: every command a person runs. Each concern registers its own subcommands in ./commands.
import { Command, CommanderError } from 'commander';
import { PalmPayError } from '../util/errors.ts';
import { commands } from './commands/index.ts';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../util/repo-root.ts';

/** The installed version (package.json), for `palmpay --version` and support calls. */
export function palmpayVersion(): string {
  return (JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('palmpay')
    .description('PalmPay: offline-first palm-vein payment terminal')
    .version(palmpayVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print stack traces on error')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Our typed errors (PalmPayError in src/, DriverError in drivers/) and Node's system errors carry a string code. */
function isTypedError(err: unknown): err is Error & { code: string } {
  return err instanceof PalmPayError || (err instanceof Error && typeof (err as { code?: unknown }).code === 'string');
}

/** Runs the CLI and returns the exit code. Errors become one clear line, not a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const debug = argv.includes('--debug');
    if (isTypedError(err)) {
      console.error(`palmpay: ${err.message}`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`palmpay: unexpected error: ${message}${debug ? '' : ' (run with --debug for details)'}`);
    }
    if (debug && err instanceof Error) console.error(err.stack);
    return 1;
  }
}
