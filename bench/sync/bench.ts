// `palmpay bench sync`: drains N queued signed records from a terminal store to a local centre over HTTP,
// end to end (outbox claim → HTTP → verify → ledger → ack), and measures the centre's raw ingest rate on the
// same records without HTTP or outbox in the same run, as the peer.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { encodeTemplate, extract, fuseTemplates, type Template } from '../../src/biometrics/index.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import type { SignedRecord } from '../../src/protocol/record.ts';
import { startServer } from '../../src/server/index.ts';
import { Central } from '../../src/server/service.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import { openStore } from '../../src/store/store.ts';
import { appendToStore, BENCH_OPERATOR, ChainWriter, grantBenchOperator, purchaseDraft } from './loadgen.ts';
import { createSync } from '../../src/sync/index.ts';

export interface SyncBenchOptions {
  records: number;
  batchSize: number;
  /** Run the centre as its own process (`palmpay server`), as deployed; otherwise in this process. */
  serverProcess?: boolean;
  onPhase?: (phase: string, total: number) => void;
  onProgress?: (done: number) => void;
}

export interface SyncBenchResult {
  records: number;
  batch_size: number;
  end_to_end_seconds: number;
  end_to_end_records_per_s: number;
  raw_ingest_seconds: number;
  raw_ingest_records_per_s: number;
  /** end to end ÷ raw ingest: what HTTP, JSON and the outbox cost on top of verifying and posting */
  ratio_to_raw_ingest: number;
  target_records_per_s: number;
  meets_target: boolean;
  centre_records: number;
  storage: string;
  centre: string;
  /** per-record statuses the centre answered during the drain (gap = a pipelined batch overtook its predecessor) */
  centre_answers: Record<string, number>;
  /** CPU time (all threads of this process, user + system) per record: a figure that contention does not distort */
  end_to_end_cpu_us_per_record: number;
  raw_ingest_cpu_us_per_record: number;
  /** the machine is shared: its 1-minute load average and core count when the run started */
  load_average_1m: number;
  cores: number;
}

/**
 * The customer's left palm as a counter enrols it: three captures of the simulator's synthetic hand through the
 * production extractor, fused (the centre audits what it is sent: src/biometrics/template-audit.ts).
 */
function enrolledPalm(identity: string): Template {
  const captures = [0, 1, 2].map((i) => {
    const r = extract(syntheticPalm(identity, 1 + i, 10_000 + i, 320, 240), { hand: 'left', purpose: 'enrol' });
    if (!r.ok) throw new Error(`bench palm capture ${i + 1} failed: ${r.reason}`);
    return r.template;
  });
  return fuseTemplates(captures);
}

async function setupCentre(central: Central, terminalId: string, publicKeyHex: string) {
  // One confirmed, funded customer whose purchases every record carries.
  const enc = newEncKeyPair();
  const setupSigner = signerFromSecretKey(randomBytes(32));
  for (const [id, pk] of [['SETUP', Buffer.from(setupSigner.publicKey).toString('hex')], [terminalId, publicKeyHex]] as const) {
    const { code } = await central.addTerminal({ id, name: id, branch: 'B1', region: 'R1' });
    await central.registerTerminal({ code, publicKey: pk, encKey: enc.publicHex });
    await grantBenchOperator(central, id);
  }
  const template = Buffer.from(encodeTemplate(enrolledPalm('bench-customer')));
  const w = new ChainWriter('SETUP', setupSigner);
  const rec = w.next({
    type: 'enrolment', operatorId: BENCH_OPERATOR, enrolmentId: 'E-C1', personId: 'C1', person: { name: 'Bench Customer', idNumber: 'B1', accountId: 'A1' },
    templateDigests: [createHash('sha256').update(template).digest('hex')], hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
  });
  await central.ingest('SETUP', [rec]);
  const t = (await central.repo.tx((r) => r.getTerminal('SETUP')))!;
  await central.uploadTemplates(t, 'C1', [template.toString('base64')]);
  await central.creditAccount('A1', 1e15, 'SYP');
}

export async function runSyncBench(o: SyncBenchOptions): Promise<SyncBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-bench-sync-'));
  try {
    const signer = signerFromSecretKey(randomBytes(32));
    const pk = Buffer.from(signer.publicKey).toString('hex');
    const chain = new ChainWriter('T1', signer);
    o.onPhase?.('signing records', o.records);
    const records: SignedRecord[] = [];
    for (let i = 0; i < o.records; i++) {
      records.push(chain.next(purchaseDraft('T1', i, 'C1', 'A1', 1 + (i % 997))));
      if (i % 5000 === 0) o.onProgress?.(i);
    }
    o.onProgress?.(o.records);

    // Peer: the centre's raw ingest rate (verify + chain + ledger + SQLite), no HTTP, no outbox.
    o.onPhase?.('raw ingest (peer)', o.records);
    const raw = await Central.open(`sqlite:${join(dir, 'raw.db')}`);
    await setupCentre(raw, 'T1', pk);
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    // Two batches in flight, as the uploader does, so verification of one overlaps the ledger writes of the other.
    let retry: SignedRecord[] = [];
    let inFlight: Promise<void> | undefined;
    for (let i = 0; i < records.length; i += o.batchSize) {
      const batch = records.slice(i, i + o.batchSize);
      const p = raw.ingest('T1', batch).then((res) => {
        res.forEach((r, k) => r.status === 'gap' && retry.push(batch[k]!));
        o.onProgress?.(Math.min(records.length, i + o.batchSize));
      });
      if (inFlight) await inFlight;
      inFlight = p;
    }
    await inFlight;
    while (retry.length) {
      const again = retry;
      retry = [];
      const res = await raw.ingest('T1', again);
      res.forEach((r, k) => r.status === 'gap' && retry.push(again[k]!));
    }
    const rawSeconds = (performance.now() - t0) / 1000;
    const rawCpu = cpuSince(cpu0);
    await raw.close();

    // End to end: terminal store outbox → HTTP → centre.
    o.onPhase?.('queueing in the outbox', o.records);
    const store = openStore(join(dir, 'terminal.db'));
    appendToStore(store, records, 5000);
    const centreDb = `sqlite:${join(dir, 'centre.db')}`;
    let server: { url: string; close(): Promise<void> };
    if (o.serverProcess) server = await spawnCentre(centreDb, (c) => setupCentre(c, 'T1', pk));
    else {
      const s = await startServer({ db: centreDb, port: 0 });
      await setupCentre(s.central, 'T1', pk);
      server = s;
    }
    const serverCpu0 = o.serverProcess ? await centreCpuUs(server.url) : 0;
    const sync = createSync({ store, serverUrl: server.url, signer, terminalId: 'T1', batchSize: o.batchSize, feedIntervalMs: 3_600_000 });
    sync.on('progress', (p) => o.onProgress?.(p.sent));
    o.onPhase?.('draining to the centre (end to end)', o.records);
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    sync.start();
    await sync.drained(30 * 60_000);
    const e2eSeconds = (performance.now() - t0) / 1000;
    // This process, plus the centre's own process when it runs apart (its /metrics reports its CPU).
    const e2eCpu = cpuSince(cpu0) + (o.serverProcess ? (await centreCpuUs(server.url)) - serverCpu0 : 0);
    await sync.stop();
    const statuses = await centreStatuses(server.url);
    await server.close();
    store.close();
    const check = await Central.open(centreDb);
    const counts = await check.repo.tx((r) => r.countRecords());
    await check.close();

    const e2e = o.records / e2eSeconds;
    const rawRate = o.records / rawSeconds;
    return {
      records: o.records,
      batch_size: o.batchSize,
      end_to_end_seconds: round(e2eSeconds),
      end_to_end_records_per_s: Math.round(e2e),
      raw_ingest_seconds: round(rawSeconds),
      raw_ingest_records_per_s: Math.round(rawRate),
      ratio_to_raw_ingest: round(e2e / rawRate),
      target_records_per_s: 5000,
      meets_target: e2e >= 5000,
      centre_records: counts.accepted + counts.review - 1, // minus the set-up enrolment
      storage: 'sqlite',
      centre: o.serverProcess ? 'separate process (palmpay server)' : 'in the bench process',
      centre_answers: statuses,
      end_to_end_cpu_us_per_record: Math.round(e2eCpu / o.records),
      raw_ingest_cpu_us_per_record: Math.round(rawCpu / o.records),
      load_average_1m: round(loadavg()[0]!),
      cores: availableParallelism(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function centreStatuses(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^palmpay_records_total\{status="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

async function centreCpuUs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^process_cpu_seconds_total ([\d.]+)$/m.exec(text);
  return m ? Number(m[1]) * 1e6 : 0;
}

/** Prepares the centre's database, then starts `palmpay server` on it as a child process (loopback, port 0). */
async function spawnCentre(db: string, setup: (c: Central) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const c = await Central.open(db);
  await setup(c);
  await c.close();
  const bin = fileURLToPath(new URL('../../bin/palmpay.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'server', '--db', db, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`palmpay server exited (${code}) before listening: ${out}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const cpuSince = (c: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c);
  return d.user + d.system;
};
