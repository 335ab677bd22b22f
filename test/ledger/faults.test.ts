// Bad input and bad luck: a full disk, a damaged database, a wrong key, a template that does not decrypt.
// Each gives a typed error and a safe state: nothing earlier harmed, nothing signed, nothing silently dropped.
import { closeSync, openSync, readFileSync, statSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { tempDir, makeTerminal, reopen, purchase } from './helpers.ts';
import { openTerminal, type Terminal } from '../../src/ledger/open.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';
import { passphraseProtector } from '../../src/ledger/keyprotect.ts';
import { provisionIdentity, keyFilePath } from '../../src/ledger/keystore.ts';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  const d = tempDir();
  dir = d.dir;
  cleanup = d.cleanup;
});
afterEach(() => cleanup());

describe('full disk (max_page_count)', () => {
  it('fails the append with STORE_FULL, keeps every earlier record, and continues gapless once space returns', () => {
    let t: Terminal = makeTerminal(dir);
    const before = [1, 2, 3].map(() => t.ledger.append(purchase()));
    const pages = t.store.db.pragma('page_count', { simple: true }) as number;
    t.close();
    t = reopen(dir, { store: { maxPageCount: pages } });
    let err: unknown;
    let appended = 0;
    try {
      for (let i = 0; i < 10_000; i++, appended++) t.ledger.append(purchase({ purchaseId: `big-${i}`, customerId: 'c'.repeat(60) }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'STORE_FULL' });
    expect((err as Error).message).toMatch(/NOT saved/);
    const head = t.ledger.head();
    expect(head.seq).toBe(3 + appended);
    expect(verifyJournal(t.store, t.keys.publicKey)).toMatchObject({ ok: true, count: head.seq });
    for (const r of before) expect(t.store.journal.get(r.seq)?.hash).toBe(r.hash);
    expect(t.store.outbox.stats().pending).toBe(head.seq);
    t.close();
    t = reopen(dir);
    expect(t.ledger.append(purchase())).toMatchObject({ seq: head.seq + 1, prevHash: head.hash });
    t.close();
  });
});

describe('damaged database', () => {
  it('a damaged page is found by quick_check at open (STORE_CORRUPT): payments refused', () => {
    const t = makeTerminal(dir);
    for (let i = 0; i < 300; i++) t.ledger.append(purchase());
    t.store.db.pragma('wal_checkpoint(TRUNCATE)');
    t.close();
    const file = join(dir, 'terminal.db');
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    expect(() => reopen(dir, { store: { quickCheck: true } })).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('a journal whose last record was edited is refused at open (JOURNAL_INVALID)', () => {
    const t = makeTerminal(dir);
    t.ledger.append(purchase({ amountMinor: 500 }));
    t.close();
    const db = new Database(join(dir, 'terminal.db'));
    db.prepare(`UPDATE journal SET body = replace(body, '"amountMinor":500', '"amountMinor":5000')`).run();
    db.close();
    expect(() => reopen(dir)).toThrow(expect.objectContaining({ code: 'JOURNAL_INVALID' }));
  });
});

describe('wrong key', () => {
  it('a wrong passphrase gives KEY_UNSEAL_FAILED and no signer', () => {
    const cost = { N: 1 << 10, r: 8, p: 1 };
    provisionIdentity(dir, 'T-P', passphraseProtector('correct horse', cost));
    expect(() => openTerminal(dir, { protector: passphraseProtector('wrong horse', cost) })).toThrow(expect.objectContaining({ code: 'KEY_UNSEAL_FAILED' }));
    const t = openTerminal(dir, { protector: passphraseProtector('correct horse', cost) });
    expect(t.ledger.append(purchase()).seq).toBe(1);
    t.close();
  });

  it('a database bound to another terminal key is refused (KEY_MISMATCH)', () => {
    const t = makeTerminal(dir);
    t.ledger.append(purchase());
    t.close();
    const other = tempDir();
    try {
      makeTerminal(other.dir, 'T-1').close();
      writeFileSync(keyFilePath(dir), readFileSync(keyFilePath(other.dir)), { mode: 0o600 });
      expect(() => reopen(dir)).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }));
    } finally {
      other.cleanup();
    }
  });
});

describe('templates', () => {
  it('a template that does not decrypt stops the bulk load with TEMPLATE_UNSEAL_FAILED (never skipped)', () => {
    const t = makeTerminal(dir);
    const sealer = t.keys.sealer;
    const tpl = (id: string) => ({ templateId: id, personId: `P-${id}`, hand: 'left' as const, sealed: sealer.seal(Buffer.alloc(1200, id.length), id), digest: 'd', provisional: false, createdAtMs: 1 });
    t.store.templates.addMany([tpl('a'), tpl('bb'), tpl('ccc')]);
    const seen: string[] = [];
    expect(t.store.templates.forEachOpened(sealer, (id) => seen.push(id))).toBe(3);
    // damage one byte of one sealed template
    const sealed = Buffer.from(t.store.templates.get('bb')!.sealed);
    sealed[sealed.length - 1]! ^= 1;
    t.store.db.prepare('UPDATE templates SET sealed = ? WHERE template_id = ?').run(sealed, 'bb');
    expect(() => t.store.templates.forEachOpened(sealer, () => {})).toThrow(expect.objectContaining({ code: 'TEMPLATE_UNSEAL_FAILED' }));
    t.close();
  });
});
