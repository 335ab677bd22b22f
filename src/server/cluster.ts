// `palmpay server --workers N`: N server processes on one database and one port (node:cluster shares the listening
// socket). The primary migrates the database and creates the server key once, before any worker starts, then only
// supervises: a worker that dies is replaced, and SIGTERM/SIGINT are passed on so each worker finishes the batches
// it has in flight (startServer's graceful close) before it exits. The workers share nothing but the database:
// per-terminal row locks and sorted balance locks (repo.ts) keep them correct together.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { PalmPayError } from '../util/errors.ts';
import { Central } from './service.ts';
import { checkTrustProxy, startServer, type StartServerOptions } from './index.ts';

export interface ClusterOptions extends Omit<StartServerOptions, 'db'> {
  db: string;
  workers: number;
  /** Called once every worker listens (primary only). */
  onListening?: (url: string) => void;
  /** Printed by the primary (default console.log). */
  say?: (line: string) => void;
}

/** The most server processes one `palmpay server` starts. */
export const MAX_WORKERS = 64;

/**
 * `--workers N|auto`. auto: one process per core this one may use on PostgreSQL, one on SQLite (its one write lock
 * queues the rest). A process beyond the cores adds no CPU, only a turn to wait for it: on the 2-core bench machine
 * 2 took as many records/s as 4 and answered reads sooner (README, *issue 16n*).
 */
export function workerCount(v: string, postgres: boolean, cores = availableParallelism()): number {
  // auto stays within the bound too: a 96-core host must still start (the systemd unit runs auto).
  const n = v === 'auto' ? (postgres ? Math.min(cores, MAX_WORKERS) : 1) : Number(v);
  checkWorkers(n, v);
  return n;
}

function checkWorkers(n: number, asGiven: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new PalmPayError('BAD_ARGUMENT', `--workers must be 1…${MAX_WORKERS} or auto, got ${asGiven}`);
}

/** Runs in both the primary and the workers (cluster.fork re-runs the same command). Resolves at shutdown. */
export async function runCluster(opts: ClusterOptions): Promise<void> {
  checkWorkers(opts.workers, String(opts.workers));
  if (cluster.isPrimary) return runPrimary(opts);
  return runWorker(opts);
}

async function runPrimary(opts: ClusterOptions): Promise<void> {
  const say = opts.say ?? console.log;
  checkTrustProxy(opts.trustProxy ?? []); // refused here once, not by every worker in a restart loop
  // Migrate and create the key once, so the workers start on a current database and agree on one key.
  const central = await Central.open(opts.db, { storage: { ...opts.storage, poolMax: 1 }, say });
  const dialect = central.repo.db.dialect;
  await central.close();
  if (dialect === 'sqlite' && opts.workers > 1) say('palmpay server: several workers on SQLite queue on its one write lock; PostgreSQL is the backend for --workers');
  let stopping = false;
  const listening = new Set<number>();
  let url = '';
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: { listening?: string }) => {
      if (!m?.listening) return;
      listening.add(w.id);
      url = m.listening;
      if (listening.size === opts.workers) {
        say(`palmpay server listening on ${url} (${dialect}, ${opts.workers} worker processes)`);
        opts.onListening?.(url);
      }
    });
    return w;
  };
  for (let i = 0; i < opts.workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) return;
    say(`palmpay server: worker ${w.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      say('palmpay server: shutting down (each worker finishes its requests in flight)');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      const check = setInterval(() => {
        if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function runWorker(opts: ClusterOptions): Promise<void> {
  const running = await startServer({ ...opts, storage: { ...opts.storage, migrate: false } });
  process.send?.({ listening: running.url });
  await new Promise<void>((resolve) => {
    const stop = () => void running.close().then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', () => undefined); // the primary decides (a terminal's Ctrl-C reaches every process)
  });
  process.exit(0);
}
