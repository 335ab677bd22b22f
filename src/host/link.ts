// The terminal's link to its centre: the sync engine (src/sync) uploading the outbox and pulling signed feeds.
// A deployed counter reaches its regional centre by URL, with the registration made at provisioning
// (provision.ts); the demo's embedded centre is the other implementation (demo/link.ts).
import type { Terminal } from '../ledger/open.ts';
import { createSync, SETTINGS, type Sync, type SyncStatus } from '../sync/index.ts';
import { PalmPayError } from '../util/errors.ts';

export interface Link {
  sync: Sync;
  /** What the status bar names: the centre's URL, or 'in-process'. */
  server: string;
  status(): SyncStatus;
  /** Test hook: cut or restore the link (only the demo's link can). */
  setUp(up: boolean): void;
  close(): Promise<void>;
}

/** Starts syncing with a remote centre this terminal was provisioned for. */
export function startRemoteLink(terminal: Terminal, url: string, opts: { fastRetry?: boolean; insecureHttp?: boolean } = {}): Link {
  const { store, keys, ledger } = terminal;
  if (!store.settings.get(SETTINGS.certificate)) {
    throw new PalmPayError('NOT_PROVISIONED', `this terminal is not registered with ${url}: run palmpay terminal provision --centre ${url} --code CODE`);
  }
  const sync = createSync({
    store, serverUrl: url, signer: keys.signer, ledger, sealer: keys.sealer, insecureHttp: opts.insecureHttp,
    // Tests (--test-hooks): quick retries, and the feed pulled every second, so a lease move or an enrolment made
    // at the centre reaches the counter without waiting for the minute's pull.
    ...(opts.fastRetry ? { backoff: { baseMs: 200, maxMs: 1500, factor: 2 }, requestTimeoutMs: 2000, feedIntervalMs: 1000 } : {}),
  });
  sync.start();
  return {
    sync,
    server: url,
    status: () => sync.status(),
    setUp: () => {
      throw new PalmPayError('TEST_HOOK_UNAVAILABLE', 'only the demo link can be cut from the API');
    },
    close: () => sync.stop(),
  };
}
