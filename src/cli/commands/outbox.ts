// `palmpay outbox …`: the terminal's queue of signed records for the centre.
import type { Command } from 'commander';

async function openTerminalStore(data: string | undefined) {
  const { prepareDataDir } = await import('../../util/paths.ts');
  const { join } = await import('node:path');
  const { openStore, DB_FILE_NAME } = await import('../../store/store.ts');
  return openStore(join(prepareDataDir(data), DB_FILE_NAME));
}

export function registerOutbox(program: Command): void {
  const outbox = program.command('outbox').description("the terminal's queue of signed records for the centre");
  outbox
    .command('export <file>')
    .description('write records not yet acknowledged by the centre to FILE (for a USB stick); the queue is kept')
    .option('--data <dir>', 'terminal data folder')
    .option('--all', 'export the whole journal, not only the unacknowledged records')
    .action(async (file: string, opts: { data?: string; all?: boolean }) => {
      const { exportOutbox } = await import('../../sync/sneakernet.ts');
      const store = await openTerminalStore(opts.data);
      try {
        const h = exportOutbox(store, file, { all: Boolean(opts.all) });
        console.log(`exported ${h.count} records of ${h.terminalId}${h.count ? ` (seq ${h.firstSeq}..${h.lastSeq})` : ''} to ${file}`);
      } finally {
        store.close();
      }
    });
  outbox
    .command('status')
    .description('how many records wait for the centre')
    .option('--data <dir>', 'terminal data folder')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const store = await openTerminalStore(opts.data);
      try {
        const s = store.outbox.stats();
        if (opts.json) {
          return console.log(JSON.stringify({ pending: s.pending, in_flight: s.inFlight, journal_records: store.journal.count(), next_attempt_ms: s.nextAttemptAtMs ?? null }, null, 2));
        }
        console.log(`pending=${s.pending} in_flight=${s.inFlight} journal=${store.journal.count()}${s.nextAttemptAtMs ? ` next_attempt=${new Date(s.nextAttemptAtMs).toISOString()}` : ''}`);
      } finally {
        store.close();
      }
    });
}
