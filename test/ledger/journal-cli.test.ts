// `palmpay journal verify` names the first bad record for each kind of tampering done to the SQLite file.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import nacl from 'tweetnacl';
import { main } from '../../src/cli/main.ts';
import { tempDir, makeTerminal, purchase } from './helpers.ts';
import { signingMessage } from '../../src/protocol/sign.ts';
import { parseBody } from '../../src/protocol/record.ts';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  const d = tempDir();
  dir = d.dir;
  cleanup = d.cleanup;
  const t = makeTerminal(dir, 'T-CLI');
  for (let i = 1; i <= 10; i++) t.ledger.append(purchase({ amountMinor: 100 * i }));
  t.close();
});
afterEach(() => cleanup());

async function verify(...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(['node', 'palmpay', 'journal', 'verify', '--data', dir, ...extra]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** The attacker's tool: raw SQL on the file, foreign keys off. */
function tamper(sql: (db: Database.Database) => void): void {
  const db = new Database(join(dir, 'terminal.db'));
  db.pragma('foreign_keys = OFF');
  sql(db);
  db.close();
}

describe('palmpay journal verify', () => {
  it('passes an intact journal', async () => {
    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/journal OK: 10 record\(s\) of terminal T-CLI, head seq 10/);
  });

  it('edited amount in the signed body: names seq 4', async () => {
    tamper((db) => db.prepare(`UPDATE journal SET body = replace(body, '"amountMinor":400', '"amountMinor":90000') WHERE seq = 4`).run());
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/journal BAD \(edited\): record seq 4 was edited/);
  });

  it('edited amount in the query column only: names seq 6', async () => {
    tamper((db) => db.prepare(`UPDATE journal SET amount_minor = 1 WHERE seq = 6`).run());
    expect((await verify()).err).toMatch(/journal BAD \(edited\): record seq 6 was edited: amount_minor column says 1, the signed record 600/);
  });

  it('deleted row: names the record after the gap', async () => {
    tamper((db) => db.prepare(`DELETE FROM journal WHERE seq = 5`).run());
    expect((await verify()).err).toMatch(/journal BAD \(deleted\): record seq 6 follows seq 4: seq 5 is missing/);
  });

  it('reordered rows: names the first record out of place', async () => {
    tamper((db) => {
      const get = db.prepare('SELECT body, hash, sig FROM journal WHERE seq = ?');
      const a = get.get(3) as Record<string, string>;
      const b = get.get(4) as Record<string, string>;
      const put = db.prepare('UPDATE journal SET body = @body, hash = @hash, sig = @sig WHERE seq = @seq');
      put.run({ ...b, seq: 3 });
      put.run({ ...a, seq: 4 });
    });
    expect((await verify()).err).toMatch(/journal BAD \(reordered\): record seq 4 stands where seq 3 belongs/);
  });

  it('forged signature: names seq 7', async () => {
    const forger = nacl.sign.keyPair();
    tamper((db) => {
      const body = db.prepare('SELECT body FROM journal WHERE seq = 7').pluck().get() as string;
      const sig = Buffer.from(nacl.sign.detached(signingMessage(parseBody(JSON.parse(body))), forger.secretKey)).toString('hex');
      db.prepare('UPDATE journal SET sig = ? WHERE seq = 7').run(sig);
    });
    expect((await verify()).err).toMatch(/journal BAD \(forged_signature\): record seq 7 has a signature that is not this terminal's/);
  });

  it('against another public key every record fails at seq 1', async () => {
    const r = await verify('--public-key', Buffer.from(nacl.sign.keyPair().publicKey).toString('hex'));
    expect(r.err).toMatch(/journal BAD \(forged_signature\): record seq 1/);
  });

  it('says clearly when there is no database', async () => {
    const other = tempDir();
    dir = other.dir;
    try {
      expect((await verify()).err).toMatch(/no terminal database at/);
    } finally {
      other.cleanup();
    }
  });
});
