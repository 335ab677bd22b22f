// A local user deletes the newest records from the terminal's journal (issue 13, item 7): the chain that is left
// is valid, so only the signed head anchor outside the database tells. `journal verify` must say BAD, and the
// ledger must refuse to sign a new record onto the truncated chain (an offline payout cannot silently vanish).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './harness.ts';
import { ANCHOR_FILE } from '../../src/ledger/anchor.ts';
import { dbPath } from '../../src/ledger/open.ts';
import { makeTerminal, purchase, reopen, tempDir } from '../ledger/helpers.ts';

const verify = (dir: string) => runCli('journal', 'verify', '--data', dir);

describe('journal truncation', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    const t = makeTerminal(dir);
    for (let i = 0; i < 5; i++) t.ledger.append(purchase());
    t.close();
  });
  afterEach(() => cleanup());

  const deleteAbove = (seq: number) => {
    const db = new Database(dbPath(dir));
    db.prepare('DELETE FROM outbox WHERE seq > ?').run(seq);
    db.prepare('DELETE FROM journal WHERE seq > ?').run(seq);
    db.close();
  };
  const deleteNewest = (n: number) => deleteAbove(5 - n);

  it('an intact journal verifies and appends', async () => {
    expect((await verify(dir)).out).toMatch(/journal OK: 5 record/);
    const t = reopen(dir);
    expect(t.ledger.append(purchase()).seq).toBe(6);
    t.close();
  });

  it('after the last two records are deleted, verify says BAD and the ledger refuses to append', async () => {
    deleteNewest(2);
    const v = await verify(dir);
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/journal BAD \(truncated\): the journal ends at seq 3, but seq 5 was written: 2 newest record\(s\) were deleted/);
    const t = reopen(dir);
    try {
      expect(t.ledger.truncation).toMatch(/ends at seq 3/);
      expect(() => t.ledger.append(purchase())).toThrow(expect.objectContaining({ code: 'JOURNAL_TRUNCATED' }));
      expect(t.store.journal.count()).toBe(3); // nothing signed onto the truncated chain
    } finally {
      t.close();
    }
  });

  it('a record rolled back by an outer transaction does not move the anchor (no false truncation at restart)', async () => {
    const t = reopen(dir);
    try {
      expect(() =>
        t.store.transaction(() => {
          t.ledger.append(purchase());
          throw new Error('the caller failed after the append');
        }),
      ).toThrow('the caller failed');
      expect(t.store.journal.count()).toBe(5);
    } finally {
      t.close();
    }
    expect((await verify(dir)).out).toMatch(/journal OK: 5 record/);
    const again = reopen(dir);
    try {
      expect(again.ledger.truncation).toBeUndefined();
      expect(again.ledger.append(purchase()).seq).toBe(6);
    } finally {
      again.close();
    }
  });

  it('a record committed by an outer transaction moves the anchor with it', async () => {
    const t = reopen(dir);
    try {
      t.store.transaction(() => t.ledger.append(purchase()));
    } finally {
      t.close();
    }
    deleteAbove(5);
    expect((await verify(dir)).err).toMatch(/the journal ends at seq 5, but seq 6 was written/);
  });

  it('a forged anchor (a lower head, not signed by the terminal) is refused, not believed', async () => {
    deleteNewest(2);
    writeFileSync(join(dir, ANCHOR_FILE), JSON.stringify({ terminalId: 'T-1', seq: 3, hash: 'a'.repeat(64), sig: 'b'.repeat(128) }));
    expect(await verify(dir)).toMatchObject({ code: 1, err: expect.stringMatching(/not signed by terminal T-1/) });
    expect(() => reopen(dir)).toThrow(expect.objectContaining({ code: 'JOURNAL_ANCHOR_BAD' }));
  });

  it('deleting the anchor file together with the newest records is detected, not re-anchored on the short chain', async () => {
    deleteNewest(2);
    rmSync(join(dir, ANCHOR_FILE));
    const v = await verify(dir);
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/JOURNAL_ANCHOR_MISSING|journal BAD \(anchor missing\)/);
    const t = reopen(dir);
    try {
      expect(() => t.ledger.append(purchase())).toThrow(expect.objectContaining({ code: 'JOURNAL_ANCHOR_MISSING' }));
      expect(t.store.journal.count()).toBe(3);
    } finally {
      t.close();
    }
  });
});
