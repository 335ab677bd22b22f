// The ONE repository interface of the centre, implemented once in SQL over either backend (see sql.ts).
// Every method runs inside the caller's transaction: `repo.tx(async (r) => …)`.
import { migrate } from './schema.ts';
import { openSqlDb, type SqlConn, type SqlDb } from './sql.ts';

export type TerminalStatus = 'pending' | 'active' | 'revoked';
export interface TerminalRow {
  id: string;
  name: string;
  branch: string;
  region: string;
  status: TerminalStatus;
  code_hash: string | null;
  code_expires: number | null;
  public_key: string | null;
  enc_key: string | null;
  cert: string | null;
  created_at: number;
  revoked_at: number | null;
  last_seen: number | null;
  head_seq: number;
  head_hash: string;
}
export type RecordStatus = 'accepted' | 'review';
export interface RecordRow {
  terminal_id: string;
  seq: number;
  hash: string;
  type: string;
  body: string;
  sig: string;
  status: RecordStatus;
  reason: string | null;
  received_at: number;
}
export interface Posting {
  account: string;
  currency: string;
  /** Signed minor units: debit positive, credit negative; a transaction's postings sum to zero per currency. */
  amount: number;
}
export interface TxnRow {
  id: number;
  source: string;
  terminal_id: string | null;
  seq: number | null;
  ref: string;
  memo: string;
  voided_by: string | null;
  created_at: number;
}
export interface ReviewRow {
  id: number;
  terminal_id: string | null;
  seq: number | null;
  kind: string;
  reason: string;
  created_at: number;
  resolved_at: number | null;
}
export type PersonStatus = 'provisional' | 'confirmed' | 'duplicate_review' | 'revoked';
export interface PersonRow {
  id: string;
  region: string;
  status: PersonStatus;
  account_id: string | null;
  terminal_id: string;
  seq: number;
  digests: string;
  templates: string | null;
  duplicate_of: string | null;
  created_at: number;
  updated_at: number;
}
export interface VoucherRow {
  id: string;
  period: string;
  person_id: string;
  amount: number;
  currency: string;
  branch: string;
  lease_terminal: string;
  lease_id: string;
  status: 'open' | 'redeemed';
  redeemed_by: string | null;
  created_at: number;
}
export interface PurchaseRow {
  purchase_id: string;
  terminal_id: string;
  seq: number;
  account: string;
  amount: number;
  currency: string;
  refunded: number;
}
export interface FeedRow {
  seq: number;
  audience: string;
  kind: string;
  key: string;
  data: string;
  created_at: number;
}

/** Repository operations, all within one transaction. */
export class RepoTx {
  constructor(private readonly c: SqlConn) {}

  // ---- meta ----
  async getMeta(k: string): Promise<string | undefined> {
    return (await this.c.get<{ v: string }>('SELECT v FROM meta WHERE k = ?', [k]))?.v;
  }
  async deleteMeta(k: string): Promise<void> {
    await this.c.run('DELETE FROM meta WHERE k = ?', [k]);
  }
  async setMeta(k: string, v: string): Promise<void> {
    await this.c.run('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v', [k, v]);
  }

  // ---- terminals ----
  async insertTerminal(t: Pick<TerminalRow, 'id' | 'name' | 'branch' | 'region' | 'code_hash' | 'code_expires' | 'created_at' | 'head_hash'>): Promise<void> {
    await this.c.run(
      `INSERT INTO terminals (id, name, branch, region, status, code_hash, code_expires, created_at, head_seq, head_hash)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, 0, ?)`,
      [t.id, t.name, t.branch, t.region, t.code_hash, t.code_expires, t.created_at, t.head_hash],
    );
  }
  getTerminal(id: string): Promise<TerminalRow | undefined> {
    return this.c.get<TerminalRow>('SELECT * FROM terminals WHERE id = ?', [id]);
  }
  getTerminalByCode(codeHash: string): Promise<TerminalRow | undefined> {
    return this.c.get<TerminalRow>("SELECT * FROM terminals WHERE code_hash = ? AND status = 'pending'", [codeHash]);
  }
  listTerminals(): Promise<TerminalRow[]> {
    return this.c.all<TerminalRow>('SELECT * FROM terminals ORDER BY id');
  }
  async activateTerminal(id: string, publicKey: string, encKey: string, cert: string): Promise<void> {
    await this.c.run("UPDATE terminals SET status = 'active', public_key = ?, enc_key = ?, cert = ?, code_hash = NULL WHERE id = ?", [publicKey, encKey, cert, id]);
  }
  async revokeTerminal(id: string, at: number): Promise<boolean> {
    const r = await this.c.run("UPDATE terminals SET status = 'revoked', revoked_at = ?, code_hash = NULL WHERE id = ? AND status <> 'revoked'", [at, id]);
    return r.changes > 0;
  }
  async touchTerminal(id: string, at: number): Promise<void> {
    await this.c.run('UPDATE terminals SET last_seen = ? WHERE id = ?', [at, id]);
  }
  async setHead(id: string, seq: number, hash: string): Promise<void> {
    await this.c.run('UPDATE terminals SET head_seq = ?, head_hash = ? WHERE id = ?', [seq, hash, id]);
  }

  // ---- records ----
  getRecord(terminalId: string, seq: number): Promise<RecordRow | undefined> {
    return this.c.get<RecordRow>('SELECT * FROM records WHERE terminal_id = ? AND seq = ?', [terminalId, seq]);
  }
  async insertRecord(r: RecordRow): Promise<void> {
    await this.c.run(
      'INSERT INTO records (terminal_id, seq, hash, type, body, sig, status, reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [r.terminal_id, r.seq, r.hash, r.type, r.body, r.sig, r.status, r.reason, r.received_at],
    );
  }
  listRecords(terminalId?: string): Promise<RecordRow[]> {
    return terminalId === undefined
      ? this.c.all<RecordRow>('SELECT * FROM records ORDER BY terminal_id, seq')
      : this.c.all<RecordRow>('SELECT * FROM records WHERE terminal_id = ? ORDER BY seq', [terminalId]);
  }
  async countRecords(): Promise<{ accepted: number; review: number }> {
    const rows = await this.c.all<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM records GROUP BY status');
    const out = { accepted: 0, review: 0 };
    for (const r of rows) if (r.status === 'accepted' || r.status === 'review') out[r.status] = Number(r.n);
    return out;
  }

  // ---- ledger ----
  /**
   * Balance moves not yet written: a batch touches the same few accounts many times, so the moves are summed in
   * memory and written once per account when the transaction ends (Repo.tx flushes; reads see them at once).
   */
  private readonly pendingBalances = new Map<string, { account: string; currency: string; delta: number }>();

  /** Writes one balanced transaction and moves the balances. Returns its id. */
  async postTxn(t: { source: string; terminalId: string | null; seq: number | null; ref: string; memo: string; at: number; postings: Posting[] }): Promise<number> {
    const row = await this.c.get<{ id: number }>(
      'INSERT INTO txns (source, terminal_id, seq, ref, memo, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      [t.source, t.terminalId, t.seq, t.ref, t.memo, t.at],
    );
    const id = Number(row!.id);
    if (t.postings.length > 0) {
      const values = t.postings.map(() => '(?, ?, ?, ?)').join(', ');
      await this.c.run(`INSERT INTO postings (txn_id, account, currency, amount) VALUES ${values}`, t.postings.flatMap((p) => [id, p.account, p.currency, p.amount]));
    }
    for (const p of t.postings) {
      const key = `${p.account}\u0000${p.currency}`;
      const cur = this.pendingBalances.get(key);
      if (cur) cur.delta += p.amount;
      else this.pendingBalances.set(key, { account: p.account, currency: p.currency, delta: p.amount });
    }
    return id;
  }
  /** Writes the summed balance moves (called by Repo.tx before commit, and before whole-table reads). */
  async flush(): Promise<void> {
    for (const [key, b] of this.pendingBalances) {
      const cached = this.storedBalances.get(key);
      if (cached !== undefined) this.storedBalances.set(key, cached + b.delta);
      if (b.delta === 0) continue;
      await this.c.run(
        'INSERT INTO balances (account, currency, balance) VALUES (?, ?, ?) ON CONFLICT (account, currency) DO UPDATE SET balance = balances.balance + excluded.balance',
        [b.account, b.currency, b.delta],
      );
    }
    this.pendingBalances.clear();
  }
  /** Stored balances read in this transaction (safe to keep: every change inside it goes through pendingBalances). */
  private readonly storedBalances = new Map<string, number>();
  async balance(account: string, currency: string): Promise<number> {
    const key = `${account}\u0000${currency}`;
    let stored = this.storedBalances.get(key);
    if (stored === undefined) {
      stored = Number((await this.c.get<{ balance: number }>('SELECT balance FROM balances WHERE account = ? AND currency = ?', [account, currency]))?.balance ?? 0);
      this.storedBalances.set(key, stored);
    }
    return stored + (this.pendingBalances.get(key)?.delta ?? 0);
  }
  async listBalances(prefix = ''): Promise<Array<{ account: string; currency: string; balance: number }>> {
    await this.flush();
    return this.c.all('SELECT account, currency, balance FROM balances WHERE account LIKE ? ORDER BY account, currency', [`${prefix}%`]);
  }
  txnOfRecord(terminalId: string, seq: number): Promise<TxnRow | undefined> {
    return this.c.get<TxnRow>("SELECT * FROM txns WHERE source = 'record' AND terminal_id = ? AND seq = ?", [terminalId, seq]);
  }
  postingsOf(txnId: number): Promise<Array<Posting & { id: number }>> {
    return this.c.all('SELECT id, account, currency, amount FROM postings WHERE txn_id = ? ORDER BY id', [txnId]);
  }
  async markVoided(txnId: number, by: string): Promise<void> {
    await this.c.run('UPDATE txns SET voided_by = ? WHERE id = ?', [by, txnId]);
  }
  /** Postings of an account with the record each comes from (the audit trail). */
  accountHistory(account: string): Promise<Array<{ txn_id: number; source: string; terminal_id: string | null; seq: number | null; ref: string; memo: string; currency: string; amount: number; created_at: number }>> {
    return this.c.all(
      `SELECT p.txn_id, t.source, t.terminal_id, t.seq, t.ref, t.memo, p.currency, p.amount, t.created_at
       FROM postings p JOIN txns t ON t.id = p.txn_id WHERE p.account = ? ORDER BY p.id`,
      [account],
    );
  }
  async ledgerTotals(): Promise<{ txns: number; postings: number; unbalanced: number }> {
    const t = await this.c.get<{ n: number }>('SELECT COUNT(*) AS n FROM txns');
    const p = await this.c.get<{ n: number }>('SELECT COUNT(*) AS n FROM postings');
    const u = await this.c.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM (SELECT txn_id, currency FROM postings GROUP BY txn_id, currency HAVING SUM(amount) <> 0) x',
    );
    return { txns: Number(t?.n ?? 0), postings: Number(p?.n ?? 0), unbalanced: Number(u?.n ?? 0) };
  }

  // ---- review queue ----
  async addReview(r: { terminalId: string | null; seq: number | null; kind: string; reason: string; at: number }): Promise<void> {
    await this.c.run('INSERT INTO review (terminal_id, seq, kind, reason, created_at) VALUES (?, ?, ?, ?, ?)', [r.terminalId, r.seq, r.kind, r.reason, r.at]);
  }
  listReview(includeResolved = false): Promise<ReviewRow[]> {
    return this.c.all<ReviewRow>(`SELECT * FROM review ${includeResolved ? '' : 'WHERE resolved_at IS NULL'} ORDER BY id`);
  }
  async resolveReview(id: number, at: number): Promise<boolean> {
    return (await this.c.run('UPDATE review SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL', [at, id])).changes > 0;
  }

  // ---- persons (enrolment registry) ----
  getPerson(id: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>('SELECT * FROM persons WHERE id = ?', [id]);
  }
  async insertPerson(p: PersonRow): Promise<void> {
    await this.c.run(
      `INSERT INTO persons (id, region, status, account_id, terminal_id, seq, digests, templates, duplicate_of, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [p.id, p.region, p.status, p.account_id, p.terminal_id, p.seq, p.digests, p.templates, p.duplicate_of, p.created_at, p.updated_at],
    );
  }
  async setPersonTemplates(id: string, templates: string, at: number): Promise<void> {
    await this.c.run('UPDATE persons SET templates = ?, updated_at = ? WHERE id = ?', [templates, at, id]);
  }
  async setPersonStatus(id: string, status: PersonStatus, duplicateOf: string | null, at: number): Promise<void> {
    await this.c.run('UPDATE persons SET status = ?, duplicate_of = ?, updated_at = ? WHERE id = ?', [status, duplicateOf, at, id]);
  }
  /** People whose templates an older centre stored in plaintext (sealed ones start with ["s1:). */
  personsWithPlainTemplates(): Promise<PersonRow[]> {
    return this.c.all<PersonRow>(`SELECT * FROM persons WHERE templates IS NOT NULL AND templates NOT LIKE '["s1:%'`);
  }
  /** Everyone whose templates a new enrolment is checked against (all but the rejected). */
  galleryPersons(excludeId: string): Promise<PersonRow[]> {
    return this.c.all<PersonRow>("SELECT * FROM persons WHERE id <> ? AND templates IS NOT NULL AND status IN ('confirmed', 'provisional', 'duplicate_review')", [excludeId]);
  }
  personByAccount(accountId: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>('SELECT * FROM persons WHERE account_id = ?', [accountId]);
  }
  /** The person an account is bound to now (revoked enrolments release their account). One owner per account. */
  accountOwner(accountId: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>("SELECT * FROM persons WHERE account_id = ? AND status <> 'revoked' ORDER BY created_at, id LIMIT 1", [accountId]);
  }

  // ---- vouchers ----
  async insertVoucher(v: VoucherRow): Promise<void> {
    await this.c.run(
      `INSERT INTO vouchers (id, period, person_id, amount, currency, branch, lease_terminal, lease_id, status, redeemed_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [v.id, v.period, v.person_id, v.amount, v.currency, v.branch, v.lease_terminal, v.lease_id, v.status, v.redeemed_by, v.created_at],
    );
  }
  getVoucher(id: string): Promise<VoucherRow | undefined> {
    return this.c.get<VoucherRow>('SELECT * FROM vouchers WHERE id = ?', [id]);
  }
  voucherFor(personId: string, period: string): Promise<VoucherRow | undefined> {
    return this.c.get<VoucherRow>('SELECT * FROM vouchers WHERE person_id = ? AND period = ?', [personId, period]);
  }
  async setLease(id: string, terminalId: string, leaseId: string): Promise<void> {
    await this.c.run('UPDATE vouchers SET lease_terminal = ?, lease_id = ? WHERE id = ?', [terminalId, leaseId, id]);
  }
  async redeemVoucher(id: string, by: string): Promise<void> {
    await this.c.run("UPDATE vouchers SET status = 'redeemed', redeemed_by = ? WHERE id = ?", [by, id]);
  }
  async reopenVoucher(id: string): Promise<void> {
    await this.c.run("UPDATE vouchers SET status = 'open', redeemed_by = NULL WHERE id = ?", [id]);
  }
  async leaseCounts(branch: string): Promise<Map<string, number>> {
    const rows = await this.c.all<{ t: string; n: number }>("SELECT lease_terminal AS t, COUNT(*) AS n FROM vouchers WHERE branch = ? AND status = 'open' GROUP BY lease_terminal", [branch]);
    return new Map(rows.map((r) => [r.t, Number(r.n)]));
  }
  async payrollImported(fileSha256: string, rows: number, at: number): Promise<void> {
    await this.c.run('INSERT INTO payroll_imports (file_sha256, rows, created_at) VALUES (?, ?, ?)', [fileSha256, rows, at]);
  }

  // ---- purchases (for refunds) ----
  getPurchase(purchaseId: string): Promise<PurchaseRow | undefined> {
    return this.c.get<PurchaseRow>('SELECT * FROM purchases WHERE purchase_id = ?', [purchaseId]);
  }
  /** False when the purchase id is already taken (nothing written). */
  async insertPurchase(p: PurchaseRow): Promise<boolean> {
    return (await this.c.run('INSERT INTO purchases (purchase_id, terminal_id, seq, account, amount, currency, refunded) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (purchase_id) DO NOTHING', [
      p.purchase_id, p.terminal_id, p.seq, p.account, p.amount, p.currency, p.refunded,
    ])).changes === 1;
  }
  async addRefunded(purchaseId: string, amount: number): Promise<void> {
    await this.c.run('UPDATE purchases SET refunded = refunded + ? WHERE purchase_id = ?', [amount, purchaseId]);
  }

  // ---- feed ----
  /** Appends a feed event. The feed carries latest state: an older event of the same audience, kind and key is
   * dropped (a terminal that had not read it reads this one, which comes later), so the feed does not grow per batch. */
  async appendFeed(audience: string, kind: string, key: string, data: unknown, at: number): Promise<number> {
    await this.c.run('DELETE FROM feed WHERE audience = ? AND kind = ? AND key = ?', [audience, kind, key]);
    const row = await this.c.get<{ seq: number }>('INSERT INTO feed (audience, kind, key, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq', [
      audience, kind, key, JSON.stringify(data), at,
    ]);
    return Number(row!.seq);
  }
  feedSince(audiences: string[], since: number, limit: number): Promise<FeedRow[]> {
    const marks = audiences.map(() => '?').join(', ');
    return this.c.all<FeedRow>(`SELECT * FROM feed WHERE seq > ? AND audience IN (${marks}) ORDER BY seq LIMIT ?`, [since, ...audiences, limit]);
  }
  async feedHead(): Promise<number> {
    return Number((await this.c.get<{ s: number | null }>('SELECT MAX(seq) AS s FROM feed'))?.s ?? 0);
  }
}

/** The repository: a database plus the transaction entry point. */
export class Repo {
  private constructor(readonly db: SqlDb) {}

  static async open(url: string): Promise<Repo> {
    const db = await openSqlDb(url);
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new Repo(db);
  }

  tx<T>(fn: (r: RepoTx) => Promise<T>): Promise<T> {
    return this.db.tx(async (c) => {
      const r = new RepoTx(c);
      const out = await fn(r);
      await r.flush();
      return out;
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
