// The link to the centre for a self-contained terminal: the in-process reference server (src/server, its own
// SQLite file in the data folder), registered on first start, reached through a loopback proxy that can cut
// the link (test hook: "link down"), and the sync engine (src/sync) uploading the outbox and pulling feeds.
import { join } from 'node:path';
import type { Terminal } from '../../ledger/open.ts';
import { startServer, type RunningServer } from '../../server/index.ts';
import { startFaultProxy, type FaultProxy } from '../../sync/fault-proxy.ts';
import { createSync, registerWithCentre, SETTINGS } from '../../sync/index.ts';
import type { Link } from '../link.ts';
import { seedDemoCentre } from './centre-seed.ts';

/** The demo's link: the centre runs inside this process; `setUp(false)` cuts the loopback proxy. */
export async function startEmbeddedLink(terminal: Terminal, dataDir: string, opts: { fastRetry?: boolean; demo?: boolean } = {}): Promise<Link & { centre: RunningServer }> {
  const server = await startServer({ db: `sqlite:${join(dataDir, 'centre.db')}` });
  let proxy: FaultProxy | undefined;
  try {
    proxy = await startFaultProxy({ target: server.url, faultRate: 0, kinds: ['drop'] });
    const { store, keys, ledger } = terminal;
    if (!store.settings.get(SETTINGS.certificate)) {
      const { code } = await server.central.addTerminal({ id: ledger.terminalId, name: 'this counter', branch: 'local', region: 'local' });
      await registerWithCentre({ store, serverUrl: proxy.url, code, signer: keys.signer, sealer: keys.sealer }); // X25519 key sealed at rest
    }
    // The demo's biller, subscribers and bills (centre-seed.ts): they reach the counter in the first feed.
    if (opts.demo) {
      const palmsOf = (personId: string) => store.templates.byPerson(personId).map((r) => keys.sealer.open(r.sealed, r.templateId));
      await seedDemoCentre(server.central, ledger.terminalId, 'local', Date.now(), palmsOf);
    }
    const sync = createSync({
      store, serverUrl: proxy.url, signer: keys.signer, ledger, sealer: keys.sealer,
      ...(opts.fastRetry ? { backoff: { baseMs: 200, maxMs: 1500, factor: 2 }, requestTimeoutMs: 2000 } : {}),
    });
    sync.start();
    const p = proxy;
    return {
      sync,
      server: 'in-process',
      centre: server,
      status: () => sync.status(),
      setUp: (up) => p.setFaultRate(up ? 0 : 1),
      async close() {
        await sync.stop();
        await p.close();
        await server.close();
      },
    };
  } catch (err) {
    await proxy?.close();
    await server.close();
    throw err;
  }
}
