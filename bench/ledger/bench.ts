// `palmpay bench ledger`: signed durable appends (synchronous=FULL) against a bare SQLite insert loop (the floor),
// measured in the same run, in the same kind of temp folder; plus the crypto figures the other parts depend on
// (node:crypto vs tweetnacl signing, secretbox open, bulk template load).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import nacl from 'tweetnacl';
import { provisionTerminal, openTerminal } from '../../src/ledger/open.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';

export interface LedgerBenchOptions {
  appends: number;
  templates: number;
  templateBytes: number;
  onPhase?: (phase: string) => void;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** ops/s of fn over ~ms milliseconds. */
function rate(fn: () => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function runLedgerBench(opts: LedgerBenchOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-bench-ledger-'));
  try {
    const protector = filePermissionsProtector();
    provisionTerminal(dir, 'T-BENCH', { protector });
    const t = openTerminal(dir, { protector });
    const lat: number[] = [];
    const flat: number[] = [];
    const bodyBytes = (() => {
      t.ledger.append(draft('w-0'));
      return t.store.journal.get(1)!.body.length;
    })();

    // The floor: single-row autocommit inserts of the same size, WAL + synchronous=FULL, same folder.
    const db = new Database(join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const ins = db.prepare('INSERT INTO t (body) VALUES (?)');
    const payload = 'x'.repeat(bodyBytes);

    // Warm up (JIT, statement caches), then alternate the two in rounds so both see the same disk and CPU load
    // (this machine is shared: measuring one after the other would compare two different machines).
    for (let i = 1; i < 50; i++) t.ledger.append(draft(`w-${i}`));
    for (let i = 0; i < 50; i++) ins.run(payload);
    const rounds = 10;
    const per = Math.ceil(opts.appends / rounds);
    let ledgerS = 0;
    let floorS = 0;
    let ledgerCpuUs = 0;
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      opts.onPhase?.(`round ${round + 1}/${rounds}: ${per} signed durable appends, then ${per} bare inserts`);
      const c0 = process.cpuUsage();
      const a0 = performance.now();
      for (let i = 0; i < per; i++, n++) {
        const s = performance.now();
        t.ledger.append(draft(`p-${n}`));
        lat.push(performance.now() - s);
      }
      ledgerS += (performance.now() - a0) / 1000;
      const c = process.cpuUsage(c0);
      ledgerCpuUs += c.user + c.system;
      const f0 = performance.now();
      for (let i = 0; i < per; i++) {
        const s = performance.now();
        ins.run(payload);
        flat.push(performance.now() - s);
      }
      floorS += (performance.now() - f0) / 1000;
    }
    const appended = n;
    const sync = t.store.db.pragma('synchronous', { simple: true });
    const mode = t.store.db.pragma('journal_mode', { simple: true });
    const ledgerPages = t.store.db.pragma('page_count', { simple: true }) as number;
    const floorPages = db.pragma('page_count', { simple: true }) as number;
    t.close();
    db.close();

    opts.onPhase?.('crypto: signing, secretbox');
    const kp = nacl.sign.keyPair();
    const msg = Buffer.alloc(bodyBytes + 18, 7);
    const signer = signerFromSecretKey(kp.secretKey);
    const nodeSign = rate(() => signer.sign(msg), 500);
    const naclSign = rate(() => nacl.sign.detached(msg, kp.secretKey), 500);
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const box = nacl.secretbox(nacl.randomBytes(opts.templateBytes), nonce, key);
    const openRate = rate(() => nacl.secretbox.open(box, nonce, key), 700);

    // Bulk template load: seal N templates into the store, then time the 1:N start-up path.
    opts.onPhase?.(`templates: seal and bulk-load ${opts.templates}`);
    const t2 = openTerminal(dir, { protector });
    const plain = nacl.randomBytes(opts.templateBytes);
    t2.store.templates.addMany(
      (function* () {
        for (let i = 0; i < opts.templates; i++) {
          const id = `tpl-${i}`;
          yield { templateId: id, personId: `P-${i}`, hand: 'left' as const, sealed: t2.keys.sealer.seal(plain, id), digest: '-', provisional: false, createdAtMs: 0 };
        }
      })(),
    );
    let bytes = 0;
    const l0 = performance.now();
    const loaded = t2.store.templates.forEachOpened(t2.keys.sealer, (_id, _p, _h, tpl) => (bytes += tpl.length));
    const loadS = (performance.now() - l0) / 1000;
    // The same templates sealed with the opt-in AES-256-GCM format (native crypto).
    t2.store.db.exec('DELETE FROM templates');
    const gcm = openTerminal(dir, { protector, sealFormat: 'aes-256-gcm' });
    gcm.store.templates.addMany(
      (function* () {
        for (let i = 0; i < opts.templates; i++) {
          const id = `tpl-${i}`;
          yield { templateId: id, personId: `P-${i}`, hand: 'left' as const, sealed: gcm.keys.sealer.seal(plain, id), digest: '-', provisional: false, createdAtMs: 0 };
        }
      })(),
    );
    const g0 = performance.now();
    const loadedGcm = gcm.store.templates.forEachOpened(gcm.keys.sealer, () => {});
    const gcmS = (performance.now() - g0) / 1000;
    gcm.close();
    const r0 = performance.now();
    let rows = 0;
    for (const _ of t2.store.db.prepare('SELECT template_id, person_id, hand, sealed FROM templates').raw(true).iterate()) rows++;
    const rawS = (performance.now() - r0) / 1000;
    t2.close();

    lat.sort((a, b) => a - b);
    flat.sort((a, b) => a - b);
    const appendsPerS = appended / ledgerS;
    const floorPerS = appended / floorS;
    const loadPerS = loaded / loadS;
    return {
      appends: appended,
      rounds: 10,
      synchronous: sync === 2 ? 'FULL' : String(sync),
      journal_mode: String(mode),
      record_body_bytes: bodyBytes,
      signed_appends_per_s: Math.round(appendsPerS),
      append_p50_ms: round(percentile(lat, 50)),
      append_p99_ms: round(percentile(lat, 99)),
      append_cpu_us_per_record: Math.round(ledgerCpuUs / appended),
      db_pages_ledger: ledgerPages,
      db_pages_floor: floorPages,
      floor_bare_inserts_per_s: Math.round(floorPerS),
      floor_p50_ms: round(percentile(flat, 50)),
      floor_p99_ms: round(percentile(flat, 99)),
      ratio_to_floor: round(appendsPerS / floorPerS),
      target_appends_per_s: 1000,
      meets_target: appendsPerS >= 1000,
      sign_node_crypto_per_s: Math.round(nodeSign),
      sign_tweetnacl_per_s: Math.round(naclSign),
      ratio_node_to_tweetnacl_sign: round(nodeSign / naclSign, 1),
      template_bytes: opts.templateBytes,
      secretbox_open_per_s: Math.round(openRate),
      secretbox_open_mb_per_s: round((openRate * opts.templateBytes) / 1e6, 1),
      templates_loaded: loaded,
      template_load_per_s: Math.round(loadPerS),
      template_raw_rows_per_s: Math.round(rows / rawS),
      ratio_template_load_to_raw_rows: round(loadPerS / (rows / rawS)),
      projected_load_100k_s: round(100_000 / loadPerS, 2),
      template_load_aes_gcm_per_s: Math.round(loadedGcm / gcmS),
      ratio_aes_gcm_to_secretbox_load: round(loadedGcm / gcmS / loadPerS, 2),
      projected_load_100k_aes_gcm_s: round((100_000 * gcmS) / loadedGcm, 2),
      cores: cpus().length,
      load_average_1m: round(loadavg()[0]!, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function draft(id: string) {
  return {
    type: 'purchase' as const,
    operatorId: 'op-bench',
    purchaseId: id,
    customerId: 'cust-bench',
    accountId: 'acct-bench',
    amountMinor: 12_500,
    currency: 'SYP' as const,
    pinVerified: false,
    offline: false,
  };
}
