// Crash harness: a child appends records continuously; we SIGKILL it at random moments, restart it, and check
// after every kill that each acknowledged record is present (same hash), no record is partial (journal row,
// outbox row and allowance effect all or none), the chain verifies and the sequence is gapless.
// Used by crash.test.ts (CI, ≥ 200 kills) and `npm run crash` (1,000 kills).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { provisionTerminal, openTerminal, dbPath } from '../../../src/ledger/open.ts';
import { filePermissionsProtector } from '../../../src/ledger/keyprotect.ts';
import { readPublicIdentity } from '../../../src/ledger/keystore.ts';
import { verifyChain } from '../../../src/protocol/chain.ts';
import type { SignedRecord } from '../../../src/protocol/record.ts';
import { mulberry32 } from '../../../src/util/random.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../..');

export interface CrashOptions {
  kills: number;
  /** progress line every n kills */
  onProgress?: (done: number, result: CrashResult) => void;
  /** seed for the kill timing */
  seed?: number;
}

export interface CrashResult {
  kills: number;
  /** records acknowledged to the harness (after commit) */
  acked: number;
  /** records in the journal at the end (acked + committed-but-not-yet-acked at a kill) */
  records: number;
  lostAcked: number;
  problems: string[];
  durationMs: number;
  killsDuringStartup: number;
}

/**
 * Bundles the child once with esbuild: a plain `node child.cjs` starts ~4× faster than through the tsx loader,
 * which is what makes hundreds of restarts fit in a CI minute. It bundles the same src/ modules.
 */
async function bundleChild(): Promise<string> {
  const out = join(repo, 'node_modules', '.cache', 'palmpay-crash', `child-${process.pid}.cjs`);
  mkdirSync(join(out, '..'), { recursive: true });
  await build({
    entryPoints: [join(here, 'child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3'],
    outfile: out,
    logLevel: 'error',
  });
  return out;
}

/** A provisioned terminal whose customer may spend offline without limit (every append is an offline purchase). */
export function setUpCrashTerminal(dir: string): void {
  const protector = filePermissionsProtector();
  provisionTerminal(dir, 'T-CRASH', { protector });
  const t = openTerminal(dir, { protector });
  const big = { SYP: 1e15, USD: 1e15 };
  t.ledger.setLimits({ perTransactionMaxMinor: big, terminalStoredMaxMinor: big, maxStoredRecordAgeMs: 1e13, maxSinceLastSyncMs: 1e13 });
  t.ledger.noteSync(Date.now());
  t.ledger.centreCopies.grantAllowance({ customerId: 'cust-1', currency: 'SYP', limitMinor: 1e15, grantedAtMs: 0, expiresAtMs: 8e15, asOfSeq: 0 });
  t.close();
}

interface Life {
  acks: Array<[number, string]>;
  ready: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runChild(script: string, dir: string, killAfter: (child: { ready: boolean }) => number | null, rand: () => number): Promise<Life> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script, dir, '30000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const life: Life = { acks: [], ready: false, exitCode: null, signal: null, stderr: '' };
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      timer = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    const early = killAfter(life);
    if (early !== null) arm(early);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) {
          const [, seq, hash] = line.split(' ');
          life.acks.push([Number(seq), hash!]);
        } else if (line.startsWith('ready')) {
          life.ready = true;
          if (timer === undefined) arm(Math.floor(rand() * 60));
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (life.stderr += c));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      life.exitCode = code;
      life.signal = signal;
      resolvePromise(life);
    });
  });
}

export async function runCrashHarness(opts: CrashOptions): Promise<CrashResult> {
  const t0 = performance.now();
  const rand = mulberry32(opts.seed ?? 0xc0ffee);
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-crash-'));
  const script = await bundleChild();
  const result: CrashResult = { kills: 0, acked: 0, records: 0, lostAcked: 0, problems: [], durationMs: 0, killsDuringStartup: 0 };
  try {
    setUpCrashTerminal(dir);
    const { publicKey, terminalId } = readPublicIdentity(dir);
    const acked = new Map<number, string>();
    let verifiedSeq = 0;
    let verifiedHash = '0'.repeat(64);

    for (let i = 0; i < opts.kills && result.problems.length === 0; i++) {
      // One kill in five lands at a random moment from spawn (often while opening/recovering); the rest while appending.
      const startupKill = rand() < 0.2;
      const life = await runChild(script, dir, () => (startupKill ? Math.floor(rand() * 250) : null), rand);
      if (life.signal !== 'SIGKILL') {
        result.problems.push(`child ${i} exited by itself (code ${life.exitCode}): ${life.stderr.trim().slice(0, 500)}`);
        break;
      }
      result.kills++;
      if (!life.ready) result.killsDuringStartup++;
      for (const [seq, hash] of life.acks) acked.set(seq, hash);

      // The check, as a restarted terminal would see the database.
      const db = new Database(dbPath(dir));
      try {
        const rows = db.prepare('SELECT body, hash, sig FROM journal WHERE seq > ? ORDER BY seq').all(verifiedSeq) as Array<{ body: string; hash: string; sig: string }>;
        const records = rows.map((r) => ({ ...(JSON.parse(r.body) as object), hash: r.hash, sig: r.sig }) as SignedRecord);
        const chain = verifyChain(records, publicKey, { terminalId, startSeq: verifiedSeq + 1, prevHash: verifiedHash });
        if (!chain.ok) result.problems.push(`after kill ${i + 1}: chain ${chain.kind}: ${chain.message}`);
        else {
          verifiedSeq = chain.lastSeq;
          verifiedHash = chain.lastHash;
        }
        const { n, maxSeq } = db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS maxSeq FROM journal').get() as { n: number; maxSeq: number };
        if (n !== maxSeq) result.problems.push(`after kill ${i + 1}: ${n} records but head seq ${maxSeq} (gap)`);
        const outbox = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
        if (outbox !== n) result.problems.push(`after kill ${i + 1}: ${n} journal rows but ${outbox} outbox rows (partial append)`);
        const getHash = db.prepare('SELECT hash FROM journal WHERE seq = ?').pluck();
        for (const [seq, hash] of life.acks) {
          if (getHash.get(seq) !== hash) {
            result.lostAcked++;
            result.problems.push(`after kill ${i + 1}: acknowledged record seq ${seq} is missing or different`);
          }
        }
        if ((i + 1) % 100 === 0 || i + 1 === opts.kills) {
          const qc = db.pragma('quick_check', { simple: true });
          if (qc !== 'ok') result.problems.push(`after kill ${i + 1}: quick_check: ${String(qc)}`);
        }
        result.records = n;
      } finally {
        db.close();
      }
      result.acked = acked.size;
      opts.onProgress?.(i + 1, result);
    }

    // Finally, every acknowledged record of every life, once more, against the final database.
    const db = new Database(dbPath(dir), { readonly: true });
    try {
      const getHash = db.prepare('SELECT hash FROM journal WHERE seq = ?').pluck();
      for (const [seq, hash] of acked) if (getHash.get(seq) !== hash) result.problems.push(`at the end: acknowledged record seq ${seq} is missing or different`);
    } finally {
      db.close();
    }
  } finally {
    rmSync(script, { force: true });
    rmSync(dir, { recursive: true, force: true });
    result.durationMs = Math.round(performance.now() - t0);
  }
  return result;
}
