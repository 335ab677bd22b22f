// Ingest through N server processes (`palmpay server --workers N`) from T terminals uploading signed purchase
// batches at once, with feed reads running beside it; the peer, in the same run and database, is a
// bare batched INSERT of the same rows through N connections.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey, type Signer } from '../../src/protocol/sign.ts';
import type { SignedRecord } from '../../src/protocol/record.ts';
import { Central } from '../../src/server/service.ts';
import { openSqlDb, join, sql } from '../../src/server/sql.ts';
import { CentreClient, LinkError } from '../../src/sync/client.ts';
import { ChainWriter, grantBenchOperator, purchaseDraft } from '../sync/loadgen.ts';
import { quantile, round } from './db.ts';
import { postgresCpuMs, treeCpuMs } from './proc-cpu.ts';

export interface IngestOptions {
  url: string;
  workers: number;
  terminals: number;
  recordsPerTerminal: number;
  batch: number;
  customers: number;
  /** PostgreSQL connections per server process. */
  pool: number;
  /** Pause between two feed reads (0: one after another). */
  readEveryMs: number;
  /** Folder for each server process's CPU profile (node --cpu-prof), written when it exits. */
  profileDir?: string;
  /** The server's `--upload-slots` (uploads each process works on at once); unset: the server's default. */
  uploadSlots?: number;
  /** The `bin/palmpay.js` the server processes run (default this checkout's): another checkout's, to compare two builds under one bench. */
  serverBin?: string;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface IngestResult {
  workers: number;
  pool: number;
  terminals: number;
  records: number;
  batch_size: number;
  ingest_seconds: number;
  ingest_records_per_s: number;
  batch_p50_ms: number;
  batch_p99_ms: number;
  accepted: number;
  /** Requests that lost their connection (retried: uploads are idempotent). */
  link_errors: number;
  /** Uploads the centre turned away with 503 (upload queue or per-terminal bound), sent again after a pause as a counter would. */
  busy_refusals: number;
  peer_bare_insert_records_per_s: number;
  ratio_to_peer: number;
  /**
   * CPU per record during the ingest phase (utime + stime from /proc; null off Linux): the server processes
   * (primary and workers), every PostgreSQL process on the machine (other sessions' too), and this bench's client.
   */
  cpu_ms_per_record: { server: number | null; postgres: number | null; client: number };
  /** The server processes ran this `bin/palmpay.js`. */
  server_bin: string;
  /** The server's --upload-slots for this run (null: its default). */
  upload_slots: number | null;
  reads: { feed_p50_ms: number; feed_p99_ms: number; count: number; every_ms: number };
}

interface BenchTerminal {
  id: string;
  signer: Signer;
  records: SignedRecord[];
  client?: CentreClient;
}

const OWN_BIN = fileURLToPath(new URL('../../bin/palmpay.js', import.meta.url));

async function startCluster(url: string, workers: number, pool: number, profileDir?: string, bin = OWN_BIN, uploadSlots?: number): Promise<{ child: ChildProcess; base: string }> {
  // node:cluster forks the workers with the primary's node flags, so each worker writes its own profile.
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(process.execPath, [...profile, bin, 'server', '--db', url, '--workers', String(workers), '--port', '0', '--pool', String(pool), ...(uploadSlots ? ['--upload-slots', String(uploadSlots)] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 180 s: ${log}`)), 180_000);
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (log += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
  return { child, base };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Customers and their funds, seeded in bulk (set-up, not measured): confirmed people with an account each, without
 * templates, at change positions after `positionBase` (the people already stored). A region has far more customers
 * than counters, so a batch's purchases rarely share a customer's balance row. Returns their person ids.
 */
export async function seedCustomers(central: Central, count: number, positionBase: number, progress: (phase: string, done: number, total: number) => void = () => undefined): Promise<string[]> {
  const customers: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const ids = Array.from({ length: Math.min(1000, count - i) }, (_, k) => i + k);
    await central.repo.db.tx(async (c) => {
      await c.run(sql`INSERT INTO persons (id, region, status, account_id, terminal_id, seq, digests, created_at, updated_at, change_pos)
        VALUES ${join(ids.map((n) => sql`(${`BC${n}`}, 'R1', 'confirmed', ${`BA${n}`}, 'SEED', ${n}, '[]', 1, 1, ${positionBase + n + 1})`))}`);
      await c.run(sql`INSERT INTO balances (account, currency, balance) VALUES ${join(ids.map((n) => sql`(${`acct:BA${n}`}, 'SYP', 1000000000)`))}`);
      // Their offline allowances, as a running centre has published them (feed.ts publishAllowances' rows; positions below).
      const allowance = (n: number, currency: string, balance: number) =>
        sql`('region:R1', 'allowance', ${`BA${n}:${currency}`}, ${JSON.stringify({ accountId: `BA${n}`, customerId: `BC${n}`, currency, amountMinor: Math.min(balance, 5_000_000), balanceMinor: balance })}, 1)`;
      await c.run(sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ${join(ids.flatMap((n) => [allowance(n, 'SYP', 1_000_000_000), allowance(n, 'USD', 0)]))}`);
    });
    for (const n of ids) customers.push(`BC${n}`);
    progress('customers', customers.length, count);
  }
  await central.repo.db.tx((c) => c.run(sql`UPDATE counters SET value = ${positionBase + count} WHERE name = 'persons'`));
  return customers;
}

/**
 * Statistics for the seeded tables, as a centre that has been running has them (autovacuum's analyse) and as
 * PostgreSQL asks after a bulk load: without them the planner guessed thousands of rows for a batch's 50 and
 * scanned balances and persons whole at every batch, and with an empty feed it judged the region's allowances
 * one row and scanned them all at each batch's republication (found with EXPLAIN and pg_stat_activity samples;
 * PostgreSQL used twice the CPU of the server processes).
 */
export async function analyseSeeded(central: Central): Promise<void> {
  await central.repo.catchUp('feed');
  if (central.repo.db.dialect === 'postgres') await central.repo.db.exec('ANALYZE');
}

export async function runIngest(o: IngestOptions): Promise<IngestResult> {
  const progress = o.progress ?? (() => undefined);
  // Set-up in this process: terminals, customers enrolled through the real path, and funds.
  const central = await Central.open(o.url);
  const terminals: BenchTerminal[] = [];
  let customers: string[] = [];
  try {
    for (let i = 0; i < o.terminals; i++) {
      const id = `BT${String(i).padStart(4, '0')}`;
      const { code } = await central.addTerminal({ id, name: id, branch: `B${i % 20}`, region: 'R1' });
      const signer = signerFromSecretKey(randomBytes(32));
      await central.registerTerminal({ code, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex });
      await grantBenchOperator(central, id);
      terminals.push({ id, signer, records: [] });
      progress('terminals', i + 1, o.terminals);
    }
    customers = await seedCustomers(central, o.customers, 0, progress);
    await analyseSeeded(central);
    // Every terminal's records, signed before the clock starts (signing is the terminals' work, not the centre's).
    for (const [ti, t] of terminals.entries()) {
      const w = new ChainWriter(t.id, t.signer);
      for (let k = 0; k < o.recordsPerTerminal; k++) {
        const c = (ti * 7919 + k * 104729) % customers.length;
        t.records.push(w.next(purchaseDraft(t.id, k, customers[c]!, `BA${c}`, 1 + ((ti + k) % 500))));
      }
      progress('signing', ti + 1, o.terminals);
    }
  } finally {
    await central.close();
  }

  const { child, base } = await startCluster(o.url, o.workers, o.pool, o.profileDir, o.serverBin, o.uploadSlots);
  const cpu = { server: null as number | null, postgres: null as number | null, client: 0 };
  const latencies: number[] = [];
  const reads = { feed: [] as number[] };
  let accepted = 0;
  let seconds = 0;
  let linkErrors = 0;
  let busyRefusals = 0;
  try {
    for (const t of terminals) t.client = new CentreClient({ baseUrl: base, credentials: { terminalId: t.id, sign: (m) => t.signer.sign(m) }, timeoutMs: 120_000 });
    const total = terminals.length * o.recordsPerTerminal;
    let done = 0;
    let running = true;
    // Reads under load: one terminal after another pages its feed (a terminal reads no statement from the centre).
    const reader = (async () => {
      let n = 0;
      const cursors = new Map<string, number>();
      while (running) {
        const t = terminals[n % terminals.length]!;
        try {
          const s = performance.now();
          const page = await t.client!.feed(cursors.get(t.id) ?? 0, 100);
          reads.feed.push(performance.now() - s);
          cursors.set(t.id, page.cursor);
        } catch (err) {
          if (!(err instanceof LinkError)) throw err;
          linkErrors++;
        }
        n++;
        if (o.readEveryMs > 0) await new Promise((r) => setTimeout(r, o.readEveryMs));
      }
    })();
    const t0 = performance.now();
    const server0 = treeCpuMs(child.pid!);
    const postgres0 = postgresCpuMs();
    const client0 = process.cpuUsage();
    await Promise.all(
      terminals.map(async (t) => {
        for (let i = 0; i < t.records.length; i += o.batch) {
          const batch = t.records.slice(i, i + o.batch);
          const s = performance.now();
          let res: Awaited<ReturnType<CentreClient['upload']>> | undefined;
          // An upload may be retried forever and is applied once: a dropped connection is retried, and counted.
          for (let attempt = 0; !res; attempt++) {
            try {
              res = await t.client!.upload(batch);
            } catch (err) {
              // A 503 is the centre saying "later" (its upload queue is full): a counter's outbox backs off and sends
              // again, so the bench does too, without counting it against the link. Anything else: 5 tries.
              if (err instanceof LinkError && /HTTP 503/.test(err.message) && busyRefusals < 100_000) {
                busyRefusals++;
                await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
                attempt--;
                continue;
              }
              if (!(err instanceof LinkError) || attempt >= 5) throw err;
              linkErrors++;
            }
          }
          latencies.push(performance.now() - s);
          accepted += res.results.filter((r) => r.status === 'accepted').length;
          done += batch.length;
          progress('ingest', done, total);
        }
      }),
    );
    seconds = (performance.now() - t0) / 1000;
    const server1 = treeCpuMs(child.pid!);
    const postgres1 = postgresCpuMs();
    const client = process.cpuUsage(client0);
    cpu.server = server0 === null || server1 === null ? null : server1 - server0;
    cpu.postgres = postgres0 === null || postgres1 === null ? null : postgres1 - postgres0;
    cpu.client = (client.user + client.system) / 1000;
    running = false;
    await reader;
  } finally {
    await stop(child);
  }

  // The peer: the same rows, bare batched INSERTs through as many connections as there were workers.
  const db = await openSqlDb(o.url, { poolMax: o.workers });
  let peerSeconds = 0;
  try {
    await db.exec(`CREATE TABLE peer_records (terminal_id TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
      sig TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, received_at BIGINT NOT NULL, PRIMARY KEY (terminal_id, seq))`);
    const queue = terminals.flatMap((t) => Array.from({ length: Math.ceil(t.records.length / o.batch) }, (_, i) => t.records.slice(i * o.batch, (i + 1) * o.batch)));
    const p0 = performance.now();
    await Promise.all(
      Array.from({ length: o.workers }, async () => {
        for (let b = queue.shift(); b; b = queue.shift()) {
          const rows = b;
          await db.tx((c) =>
            c.run(sql`INSERT INTO peer_records (terminal_id, seq, hash, type, body, sig, status, reason, received_at) VALUES ${join(
              rows.map((r) => {
                const { hash, sig, ...body } = r;
                return sql`(${r.terminalId}, ${r.seq}, ${hash}, ${r.type}, ${JSON.stringify(body)}, ${sig}, 'accepted', ${null}, ${Date.now()})`;
              }),
            )}`),
          );
        }
      }),
    );
    peerSeconds = (performance.now() - p0) / 1000;
  } finally {
    await db.close();
  }
  const records = terminals.length * o.recordsPerTerminal;
  const rate = records / seconds;
  const peer = records / peerSeconds;
  return {
    workers: o.workers,
    pool: o.pool,
    terminals: o.terminals,
    records,
    batch_size: o.batch,
    ingest_seconds: round(seconds, 2),
    ingest_records_per_s: Math.round(rate),
    batch_p50_ms: round(quantile(latencies, 0.5)),
    batch_p99_ms: round(quantile(latencies, 0.99)),
    accepted,
    link_errors: linkErrors,
    busy_refusals: busyRefusals,
    peer_bare_insert_records_per_s: Math.round(peer),
    ratio_to_peer: round(rate / peer, 2),
    cpu_ms_per_record: {
      server: cpu.server === null ? null : round(cpu.server / records, 3),
      postgres: cpu.postgres === null ? null : round(cpu.postgres / records, 3),
      client: round(cpu.client / records, 3),
    },
    server_bin: o.serverBin ?? OWN_BIN,
    upload_slots: o.uploadSlots ?? null,
    reads: {
      feed_p50_ms: round(quantile(reads.feed, 0.5)),
      feed_p99_ms: round(quantile(reads.feed, 0.99)),
      count: reads.feed.length,
      every_ms: o.readEveryMs,
    },
  };
}
