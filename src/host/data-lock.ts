// One process at a time writes a counter's data folder: the terminal, `terminal enrol-operator` and `terminal
// provision` each hold this lock while they run. Two writers would each sign records from their own copy of the
// chain head (one would fail, or worse, reuse a sequence number) and both would drive the one scanner.
// proper-lockfile: a lock directory whose time the holder refreshes; a holder that died leaves it stale, and the next
// start takes it over after STALE_MS (a counter restarted after a power cut waits that long at most).
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { PalmPayError } from '../util/errors.ts';

const STALE_MS = 10_000;

/** Takes the data folder's lock or refuses with DATA_FOLDER_IN_USE; returns the release. */
export async function lockDataFolder(dataDir: string, what: string, o: { staleMs?: number; waitMs?: number } = {}): Promise<() => Promise<void>> {
  const stale = o.staleMs ?? STALE_MS;
  // A start right after a crash finds the dead holder's lock still fresh: wait a little longer than it takes to go stale.
  const wait = o.waitMs ?? stale * 1.4;
  try {
    const release = await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, 'palmpay.lock'),
      stale,
      update: stale / 2,
      retries: wait > 0 ? { retries: Math.ceil(wait / 1000), minTimeout: 1000, maxTimeout: 1000, factor: 1 } : 0,
      realpath: false,
      onCompromised: (err) => {
        // The lock was taken from under us (clock jump, or its directory removed): stop writing rather than share the folder.
        process.stderr.write(`palmpay: the data folder lock was lost (${err.message}); stopping\n`);
        process.exit(75);
      },
    });
    return release;
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') {
      throw new PalmPayError('DATA_FOLDER_IN_USE', `${what}: another PalmPay process is using ${dataDir} (a running terminal, enrol-operator or provision); stop it first`);
    }
    throw err;
  }
}
