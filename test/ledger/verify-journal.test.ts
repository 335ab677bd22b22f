// verifyJournal streams the journal in windows: whatever the window size, it names the same first bad record
// as verifyChain over the whole list (with a far-away reorder still called a reorder).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { tempDir, makeTerminal, purchase } from './helpers.ts';
import { openStore } from '../../src/store/store.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';
import { readPublicIdentity } from '../../src/ledger/keystore.ts';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  const d = tempDir();
  dir = d.dir;
  cleanup = d.cleanup;
  const t = makeTerminal(dir, 'T-W');
  for (let i = 1; i <= 12; i++) t.ledger.append(purchase({ amountMinor: 10 * i }));
  t.store.db.pragma('wal_checkpoint(TRUNCATE)');
  t.close();
});
afterAll(() => cleanup());

/** Runs verifyJournal on a tampered copy of the database with several window sizes. */
function verifyCopy(tamper: (db: Database.Database) => void) {
  const work = mkdtempSync(join(tmpdir(), 'palmpay-vj-'));
  try {
    const file = join(work, 'terminal.db');
    copyFileSync(join(dir, 'terminal.db'), file);
    const db = new Database(file);
    db.pragma('foreign_keys = OFF');
    tamper(db);
    db.close();
    const store = openStore(file);
    const { publicKey } = readPublicIdentity(dir);
    try {
      return [1, 2, 3, 5, 100].map((w) => verifyJournal(store, publicKey, 'T-W', { window: w }));
    } finally {
      store.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const swap = (a: number, b: number) => (db: Database.Database) => {
  const get = db.prepare('SELECT body, hash, sig FROM journal WHERE seq = ?');
  const ra = get.get(a) as object;
  const rb = get.get(b) as object;
  const put = db.prepare('UPDATE journal SET body = @body, hash = @hash, sig = @sig WHERE seq = @seq');
  put.run({ ...rb, seq: a });
  put.run({ ...ra, seq: b });
};

describe('verifyJournal in windows', () => {
  it.each([
    ['intact', () => {}, { ok: true, count: 12, lastSeq: 12 }],
    ['edited body at 7', (db: Database.Database) => db.prepare(`UPDATE journal SET body = replace(body, '"amountMinor":70', '"amountMinor":71') WHERE seq = 7`).run(), { ok: false, seq: 7, kind: 'edited', index: 6 }],
    ['edited column at 11', (db: Database.Database) => db.prepare('UPDATE journal SET amount_minor = 0 WHERE seq = 11').run(), { ok: false, seq: 11, kind: 'edited', index: 10 }],
    ['deleted 4', (db: Database.Database) => db.prepare('DELETE FROM journal WHERE seq = 4').run(), { ok: false, seq: 5, kind: 'deleted', index: 3 }],
    ['deleted last-but-one', (db: Database.Database) => db.prepare('DELETE FROM journal WHERE seq = 11').run(), { ok: false, seq: 12, kind: 'deleted' }],
    ['adjacent swap 3↔4', swap(3, 4), { ok: false, seq: 4, kind: 'reordered', index: 2 }],
    ['far swap 2↔10', swap(2, 10), { ok: false, seq: 10, kind: 'reordered', index: 1 }],
    ['forged sig at 12 (last)', (db: Database.Database) => db.prepare(`UPDATE journal SET sig = ? WHERE seq = 12`).run('ab'.repeat(64)), { ok: false, seq: 12, kind: 'forged_signature' }],
    ['forged sig at 6', (db: Database.Database) => db.prepare(`UPDATE journal SET sig = ? WHERE seq = 6`).run('ab'.repeat(64)), { ok: false, seq: 6, kind: 'forged_signature' }],
  ])('%s', (_name, tamper, expected) => {
    for (const r of verifyCopy(tamper)) expect(r).toMatchObject(expected);
  });
});
