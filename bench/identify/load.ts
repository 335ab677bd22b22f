// Start-up load of the enrolment gallery from SQLite, sealed at rest with tweetnacl secretbox, two ways:
//   per-row:  open every template (secretbox), decode, coarse-code, enrol;
//   snapshot: open one sealed index snapshot (snapshot.ts), bulk-load the codes; templates stay sealed in SQLite
//             and stage 2 opens only its K candidates.
// I/O at the edge (a temporary SQLite file); src/store owns the real schema.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { crc32, decodeTemplate, encodeTemplate } from '../../src/biometrics/template.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { type Skipped, skipReport } from '../../src/biometrics/identify/identifier.ts';
import { ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { lazyPalmIdentifier, palmIdentifier, type SealedTemplate } from '../../src/biometrics/identify/palm.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { openSnapshot, sealSnapshot } from '../../src/biometrics/identify/snapshot.ts';
import { capture, modelTemplate, person, type SyntheticModel } from '../../src/biometrics/identify/synthetic.ts';

export interface LoadResult {
  n: number;
  captures_per_template: number;
  template_bytes: number;
  per_row: { total_ms: number; sql_ms: number; open_ms: number; decode_ms: number; enrol_ms: number; meets_1s: boolean };
  snapshot: { bytes: number; total_ms: number; sql_ms: number; open_ms: number; index_ms: number; meets_1s: boolean };
  lazy_stage2: { identify_p50_ms: number; k: number };
  skipped: Skipped[];
}

export async function benchLoad(n: number, model: SyntheticModel, progress: (phase: string, done: number, total: number) => void): Promise<LoadResult> {
  const Database = (await import('better-sqlite3')).default;
  const dir = mkdtempSync(join(tmpdir(), 'palmpay-load-'));
  const db = new Database(join(dir, 'load.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE enrolment (entry_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, nonce BLOB NOT NULL, box BLOB NOT NULL)');
    db.exec('CREATE TABLE index_snapshot (id INTEGER PRIMARY KEY, blob BLOB NOT NULL)');
    const r = rng(99);
    const key = nacl.randomBytes(32);
    // 256 distinct enrolment templates of 3 captures each, reused cyclically: the load cost does not depend on content.
    const captures = 3;
    const distinct: Uint8Array[] = Array.from({ length: 256 }, () => {
      const p = person(model, r);
      const t: Template = { ...modelTemplate(model, Array.from({ length: captures }, () => capture(model, p, r))), hand: 'left' };
      return encodeTemplate(t);
    });
    const insert = db.prepare('INSERT INTO enrolment VALUES (?, ?, ?, ?)');
    const seal = (bytes: Uint8Array) => {
      const nonce = nacl.randomBytes(24);
      return [nonce, nacl.secretbox(bytes, nonce, key)] as const;
    };
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const [nonce, box] = seal(distinct[i % distinct.length]!);
        insert.run(`e${i}`, `p${i}`, nonce, box);
        if ((i & 4095) === 0) progress('load: writing sealed rows', i, n);
      }
      // One corrupt and one old-version template: must be skipped and reported, never indexed.
      const corrupt = distinct[0]!.slice();
      corrupt[100]! ^= 0xff;
      const old = distinct[1]!.slice();
      old[3] = 0;
      new DataView(old.buffer).setUint32(old.length - 4, crc32(old.subarray(0, old.length - 4)), true);
      insert.run('bad-corrupt', 'p-bad1', ...seal(corrupt));
      insert.run('bad-old-version', 'p-bad2', ...seal(old));
    })();
    progress('load: writing sealed rows', n, n);

    // Per row: everything opened and decoded at start.
    const t0 = performance.now();
    const rows = db.prepare('SELECT entry_id, person_id, nonce, box FROM enrolment').raw().all() as Array<[string, string, Uint8Array, Uint8Array]>;
    const t1 = performance.now();
    const opened: Array<[string, string, Uint8Array | null]> = rows.map(([e, p, nonce, box]) => [e, p, nacl.secretbox.open(box, nonce, key)]);
    const t2 = performance.now();
    const skipped: Skipped[] = [];
    const decoded: Array<[string, string, Template]> = [];
    for (const [e, p, bytes] of opened) {
      try {
        if (!bytes) throw new Error('secretbox authentication failed');
        decoded.push([e, p, decodeTemplate(bytes)]);
      } catch (err) {
        skipped.push(skipReport(e, err));
      }
    }
    const t3 = performance.now();
    const eager = palmIdentifier({ initialCapacity: n });
    for (const [entryId, personId, template] of decoded) eager.enrol({ entryId, personId, hand: template.hand, template });
    const t4 = performance.now();
    progress('load: per-row', 1, 1);

    // The snapshot, written once (as the store would after a change), then loaded.
    const entries = decoded.map(([entryId, personId, t]) => ({ entryId, personId, hand: t.hand }));
    const codes = new Uint8Array(entries.length * ENTRY_CODE_BYTES);
    entries.forEach((e, i) => codes.set(eager.coarseIndex.codeOf(e.entryId)!, i * ENTRY_CODE_BYTES));
    db.prepare('INSERT INTO index_snapshot VALUES (1, ?)').run(sealSnapshot(entries, codes, key));
    progress('load: per-row', 1, 1);
    const byId = db.prepare('SELECT nonce, box FROM enrolment WHERE entry_id = ?').raw();
    const s0 = performance.now();
    const blob = (db.prepare('SELECT blob FROM index_snapshot WHERE id = 1').raw().get() as [Uint8Array])[0];
    const s1 = performance.now();
    const snap = openSnapshot(blob, key);
    const s2 = performance.now();
    const lazy = lazyPalmIdentifier({ initialCapacity: snap.entries.length });
    const open = (entryId: string): Template => {
      const [nonce, box] = byId.get(entryId) as [Uint8Array, Uint8Array];
      const bytes = nacl.secretbox.open(box, nonce, key);
      if (!bytes) throw new Error('secretbox authentication failed');
      return decodeTemplate(bytes);
    };
    lazy.enrolWithCodes(
      snap.entries.map((e) => ({ ...e, template: new SealedRow(e.entryId, open) })),
      snap.codes,
    );
    const s3 = performance.now();
    progress('load: snapshot', 1, 1);

    const lat: number[] = [];
    for (let i = 0; i < 21; i++) {
      const probe: Template = { ...decodeTemplate(distinct[i]!), codes: [decodeTemplate(distinct[i]!).codes[0]!] };
      const a = performance.now();
      lazy.identify(probe);
      lat.push(performance.now() - a);
    }
    lat.sort((a, b) => a - b);
    return {
      n,
      captures_per_template: captures,
      template_bytes: distinct[0]!.length,
      per_row: { total_ms: t4 - t0, sql_ms: t1 - t0, open_ms: t2 - t1, decode_ms: t3 - t2, enrol_ms: t4 - t3, meets_1s: t4 - t0 <= 1000 },
      snapshot: { bytes: blob.length, total_ms: s3 - s0, sql_ms: s1 - s0, open_ms: s2 - s1, index_ms: s3 - s2, meets_1s: s3 - s0 <= 1000 },
      lazy_stage2: { identify_p50_ms: lat[10]!, k: lazy.k },
      skipped,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A template left sealed in the store until stage 2 asks for it. */
class SealedRow implements SealedTemplate {
  readonly kind = 'sealed';
  constructor(
    private readonly entryId: string,
    private readonly opener: (entryId: string) => Template,
  ) {}
  open(): Template {
    return this.opener(this.entryId);
  }
}
