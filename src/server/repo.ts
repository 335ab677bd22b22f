// The ONE repository interface of the centre, implemented once in SQL over either backend (see sql.ts).
// Every method runs inside the caller's transaction: `repo.tx(async (r) => …)`.
// Over 400 lines because it is every query of the centre in one place (each a few lines of SQL), so a schema change
// and the queries it touches are read and reviewed together, next to migrations.ts.
import { assertCurrent, migrate } from './migrations.ts';
import { ensureRecordMonths } from './record-months.ts';
import { hasUnpublished, publish, Publisher, type Published } from './sequencer.ts';
import { ADVISORY_LOCK, anyOf, dialect, FOR_UPDATE, join, list, lockNames, openSqlDb, prepared, raw, sql, textArray, type Fragment, type OpenSqlOptions, type SqlConn, type SqlDb } from './sql.ts';

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
  /** Sealed at rest, one blob per person (keys.ts sealTemplates); NULL until the templates arrive. */
  templates: Uint8Array | null;
  duplicate_of: string | null;
  created_at: number;
  updated_at: number;
  /** Commit-ordered position of the row's last change (NULL until published): the palm index follows it. */
  change_pos?: number | null;
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
  /** A lease move waiting for the holder's signed release: the terminal it then goes to (migration 14). */
  lease_pending?: string | null;
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

/** A feed event queued by appendFeedMany (latest state per audience, kind and key), written with the batch's other rows. */
type QueuedFeed = { audience: string; kind: string; key: string; data: string; at: number };
/** A balance row's summed move, written at the end of the transaction (flush). */
type BalanceMove = { account: string; currency: string; delta: number };
/** A record's ledger transaction, queued (queueTxn) to be written with the batch's others in one statement. */
type QueuedTxn = { terminalId: string; seq: number; ref: string; memo: string; at: number; postings: Posting[] };
/** Connections of a process's side pool (PostgreSQL): the publisher's one, and three for terminals' reads (their authentication included). */
const SIDE_POOL = 4;
/** Rows per multi-row INSERT (well under both backends' limits on bound values). */
const CHUNK = 500;
const chunks = <T>(rows: readonly T[]): T[][] => Array.from({ length: Math.ceil(rows.length / CHUNK) }, (_, i) => rows.slice(i * CHUNK, (i + 1) * CHUNK));

/**
 * A purchase id taken by a transaction that committed after this one looked it up. SQLSTATE 40001 (serialisation
 * failure), so `SqlDb.tx` runs the whole transaction again from the start, where it sees the id as taken.
 */
export class PurchaseIdTakenMeanwhile extends Error {
  readonly code = '40001';
  constructor() {
    super('a purchase id of this batch was booked by another transaction meanwhile: retry');
  }
}

/** Repository operations, all within one transaction. */
/** An operator's role at one terminal (operator_grants, centre migration 8); active is 1 or 0. */
export interface OperatorGrantRow {
  terminal_id: string;
  operator_id: string;
  name: string;
  role: string;
  active: number;
  updated_at: number;
}

type QueuedHead = { id: string; seq: number; hash: string; lastSeen?: number };
/** The chain head (and the terminal's last contact) as one UPDATE. */
function headUpdate(h: QueuedHead): Fragment {
  return h.lastSeen === undefined
    ? sql`UPDATE terminals SET head_seq = ${h.seq}, head_hash = ${h.hash} WHERE id = ${h.id}`
    : sql`UPDATE terminals SET head_seq = ${h.seq}, head_hash = ${h.hash}, last_seen = ${h.lastSeen} WHERE id = ${h.id}`;
}

/** The columns of PersonRow (named, so a prepared read's result does not change shape with a migration). */
const PERSON_COLUMNS = raw('id, region, status, account_id, terminal_id, seq, digests, templates, duplicate_of, created_at, updated_at, change_pos');
type OwnerRow = { id: string; account_id: string | null; region: string; status: string };
type OwnersAndRegions = { owners: Map<string, string>; regions: Map<string, Set<string>> };
/** The persons an account belongs to: its person's account_id, or the person's id when none was given. */
const ownedBy = (accounts: readonly string[]): Fragment => sql`(${anyOf(raw('account_id'), accounts)} OR (account_id IS NULL AND ${anyOf(raw('id'), accounts)}))`;
/** ownersAndRegionsByAccount from its rows, ordered by (account_id, created_at, id). */
function ownersAndRegionsOf(rows: readonly OwnerRow[]): OwnersAndRegions {
  const owners = new Map<string, string>();
  const regions = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.account_id !== null && !owners.has(r.account_id)) owners.set(r.account_id, r.id);
    if (r.status === 'revoked') continue;
    const acct = r.account_id ?? r.id;
    if (!regions.has(acct)) regions.set(acct, new Set());
    regions.get(acct)!.add(r.region);
  }
  return { owners, regions };
}
function onlyAccounts(all: OwnersAndRegions, ids: readonly string[]): OwnersAndRegions {
  const owners = new Map<string, string>();
  const regions = new Map<string, Set<string>>();
  for (const id of ids) {
    const owner = all.owners.get(id);
    if (owner !== undefined) owners.set(id, owner);
    const to = all.regions.get(id);
    if (to) regions.set(id, to);
  }
  return { owners, regions };
}

/** Queued feed events by audience and kind (each group's older events are dropped by one DELETE). */
function feedGroups(feed: readonly QueuedFeed[]): Map<string, QueuedFeed[]> {
  const groups = new Map<string, QueuedFeed[]>();
  for (const e of feed) {
    const g = `${e.audience}\u0000${e.kind}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(e);
  }
  return groups;
}
/** Drops the older events of these keys (one audience and kind): the feed carries the latest state per key. */
function feedDrop(events: readonly QueuedFeed[]): Fragment {
  return sql`DELETE FROM feed WHERE audience = ${events[0]!.audience} AND kind = ${events[0]!.kind} AND ${anyOf(raw('key'), events.map((e) => e.key))}`;
}
/** No position yet: it is given after commit, in commit order (sequencer.ts), and only then can a terminal read it. */
function feedInsert(events: readonly QueuedFeed[]): Fragment {
  return sql`INSERT INTO feed (audience, kind, key, data, created_at) VALUES ${join(events.map((e) => sql`(${e.audience}, ${e.kind}, ${e.key}, ${e.data}, ${e.at})`))}`;
}
function balanceUpsert(moves: readonly BalanceMove[]): Fragment {
  return sql`INSERT INTO balances (account, currency, balance) VALUES ${join(moves.map((b) => sql`(${b.account}, ${b.currency}, ${b.delta})`))}
        ON CONFLICT (account, currency) DO UPDATE SET balance = balances.balance + excluded.balance`;
}

export class RepoTx {
  /** Tables this transaction wrote rows to that wait for a commit-ordered position (see sequencer.ts). */
  readonly written = new Set<Published>();
  /**
   * Every query goes through this connection, which first writes the queued rows (queueRecord, queueTxn,
   * queuePurchase, appendFeedMany): a read of any table, by any module, sees every write before it, as if nothing
   * were queued. A batch of purchases reads nothing between its records, so their rows go in a few multi-row
   * INSERTs at the end (on PostgreSQL one statement, with the balance moves: see flush).
   */
  private readonly c: SqlConn;
  private queued = RepoTx.nothingQueued();
  private static nothingQueued() {
    return { records: [] as RecordRow[], txns: [] as QueuedTxn[], purchases: [] as PurchaseRow[], feed: new Map<string, QueuedFeed>() };
  }
  private anythingQueued(): boolean {
    return this.queued.records.length + this.queued.txns.length + this.queued.purchases.length + this.queued.feed.size > 0;
  }
  /** The chain head a batch moved to (setHead), written with the queued rows: one round trip fewer per batch. */
  private queuedHead: QueuedHead | undefined;
  constructor(private readonly raw: SqlConn) {
    const first = async () => {
      if (this.anythingQueued() || this.queuedHead) await this.writeQueued();
    };
    this.c = {
      dialect: raw.dialect,
      all: async <T>(q: Fragment) => {
        await first();
        return raw.all<T>(q);
      },
      get: async <T>(q: Fragment) => {
        await first();
        return raw.get<T>(q);
      },
      run: async (q: Fragment) => {
        await first();
        return raw.run(q);
      },
    };
  }

  /**
   * Writes the queued rows: ledger transactions (then their postings), purchases, records, feed events, and the
   * balance moves when flush passes them; a few statements.
   */
  private async writeQueued(moves: readonly BalanceMove[] = []): Promise<void> {
    const { records, txns, purchases } = this.queued;
    const feed = [...this.queued.feed.values()];
    const head = this.queuedHead;
    this.queued = RepoTx.nothingQueued();
    this.queuedHead = undefined;
    const postingCount = txns.reduce((n, t) => n + t.postings.length, 0);
    if (this.raw.dialect === 'postgres' && records.length + txns.length + purchases.length + feed.length + moves.length > 0 && Math.max(records.length, txns.length, purchases.length, postingCount, feed.length, moves.length) <= CHUNK) {
      return this.writeQueuedAtOnce(records, txns, purchases, feed, moves, head);
    }
    for (const part of chunks(txns)) {
      const ids = await this.raw.all<{ id: number; terminal_id: string; seq: number }>(sql`INSERT INTO txns (source, terminal_id, seq, ref, memo, created_at)
        VALUES ${join(part.map((t) => sql`('record', ${t.terminalId}, ${t.seq}, ${t.ref}, ${t.memo}, ${t.at})`))} RETURNING id, terminal_id, seq`);
      const idOf = new Map(ids.map((r) => [`${r.terminal_id}\u0000${Number(r.seq)}`, Number(r.id)]));
      const postings = part.flatMap((t) => t.postings.map((p) => sql`(${idOf.get(`${t.terminalId}\u0000${t.seq}`)!}, ${p.account}, ${p.currency}, ${p.amount})`));
      for (const values of chunks(postings)) await this.raw.run(sql`INSERT INTO postings (txn_id, account, currency, amount) VALUES ${join(values)}`);
    }
    for (const part of chunks(purchases)) {
      const wrote = await this.raw.all<{ purchase_id: string }>(sql`INSERT INTO purchases (purchase_id, terminal_id, seq, account, amount, currency, refunded)
        VALUES ${join(part.map((p) => sql`(${p.purchase_id}, ${p.terminal_id}, ${p.seq}, ${p.account}, ${p.amount}, ${p.currency}, ${p.refunded})`))} ON CONFLICT (purchase_id) DO NOTHING RETURNING purchase_id`);
      // The batch looked its purchase ids up before another terminal's batch with the same id committed: its
      // money would move for a purchase that is not booked. Run the batch again; it then finds the id taken.
      if (wrote.length !== part.length) throw new PurchaseIdTakenMeanwhile();
    }
    for (const part of chunks(records)) {
      await this.raw.run(sql`INSERT INTO records (terminal_id, seq, hash, type, body, sig, status, reason, received_at)
        VALUES ${join(part.map((r) => sql`(${r.terminal_id}, ${r.seq}, ${r.hash}, ${r.type}, ${r.body}, ${r.sig}, ${r.status}, ${r.reason}, ${r.received_at})`))}`);
    }
    if (head) await this.raw.run(headUpdate(head));
    for (const [, events] of feedGroups(feed)) {
      for (const part of chunks(events)) {
        const drop = feedDrop(part);
        const add = feedInsert(part);
        if (this.raw.dialect === 'postgres') {
          await this.raw.run(sql`WITH d AS (${drop}) ${add}`); // one round trip; the DELETE sees only the older rows
        } else {
          await this.raw.run(drop);
          await this.raw.run(add);
        }
      }
    }
    for (const part of chunks(moves)) await this.raw.run(balanceUpsert(part));
  }

  /**
   * writeQueued in ONE statement on PostgreSQL (a batch's usual size): data-modifying CTEs insert the ledger
   * transactions, their postings (joined to the new ids), the purchases, the records and the feed events (each
   * DELETE of an older event sees only the rows before this statement), and move the balances, in one round trip.
   */
  private async writeQueuedAtOnce(records: RecordRow[], txns: QueuedTxn[], purchases: PurchaseRow[], feed: QueuedFeed[], moves: readonly BalanceMove[], head?: QueuedHead): Promise<void> {
    const parts: Fragment[] = [];
    // The terminal's row is this transaction's (locked by lockTerminal); nothing else in the statement reads it.
    if (head) parts.push(sql`h AS (${headUpdate(head)})`);
    if (txns.length > 0) {
      parts.push(sql`t AS (INSERT INTO txns (source, terminal_id, seq, ref, memo, created_at)
        VALUES ${join(txns.map((t) => sql`('record', ${t.terminalId}, ${t.seq}, ${t.ref}, ${t.memo}, ${t.at})`))} RETURNING id, terminal_id, seq)`);
      const postings = txns.flatMap((t) => t.postings.map((p) => ({ t, p })));
      if (postings.length > 0) {
        // In the order the postings were made (their ids order a statement's lines), each joined to its transaction's new id.
        parts.push(sql`p AS (INSERT INTO postings (txn_id, account, currency, amount)
          SELECT t.id, v.account, v.currency, v.amount FROM (VALUES ${join(postings.map(({ t, p }, i) => sql`(${i}::bigint, ${t.terminalId}::text, ${t.seq}::bigint, ${p.account}::text, ${p.currency}::text, ${p.amount}::bigint)`))})
            AS v(ord, terminal_id, seq, account, currency, amount) JOIN t ON t.terminal_id = v.terminal_id AND t.seq = v.seq ORDER BY v.ord)`);
      }
    }
    if (purchases.length > 0) {
      parts.push(sql`u AS (INSERT INTO purchases (purchase_id, terminal_id, seq, account, amount, currency, refunded)
        VALUES ${join(purchases.map((p) => sql`(${p.purchase_id}, ${p.terminal_id}, ${p.seq}, ${p.account}, ${p.amount}, ${p.currency}, ${p.refunded})`))} ON CONFLICT (purchase_id) DO NOTHING RETURNING 1)`);
    }
    if (records.length > 0) {
      parts.push(sql`r AS (INSERT INTO records (terminal_id, seq, hash, type, body, sig, status, reason, received_at)
        VALUES ${join(records.map((r) => sql`(${r.terminal_id}, ${r.seq}, ${r.hash}, ${r.type}, ${r.body}, ${r.sig}, ${r.status}, ${r.reason}, ${r.received_at})`))})`);
    }
    if (feed.length > 0) {
      [...feedGroups(feed).values()].forEach((events, i) => parts.push(sql`${raw(`d${i}`)} AS (${feedDrop(events)})`));
      parts.push(sql`f AS (${feedInsert(feed)})`);
    }
    if (moves.length > 0) parts.push(sql`b AS (${balanceUpsert(moves)})`);
    const row = await this.raw.get<{ purchases: number }>(sql`WITH ${join(parts)} SELECT ${purchases.length > 0 ? sql`(SELECT COUNT(*) FROM u)` : sql`0`} AS purchases`);
    // As in writeQueued: a purchase id another batch booked meanwhile runs this batch again.
    if (Number(row?.purchases ?? 0) !== purchases.length) throw new PurchaseIdTakenMeanwhile();
  }

  /** The connection, for modules that own their own queries (enrolment-check.ts). */
  get conn(): SqlConn {
    return this.c;
  }

  // ---- meta ----
  async getMeta(k: string): Promise<string | undefined> {
    return (await this.c.get<{ v: string }>(sql`SELECT v FROM meta WHERE k = ${k}`))?.v;
  }
  async insertMetaIfAbsent(k: string, v: string): Promise<void> {
    await this.c.run(sql`INSERT INTO meta (k, v) VALUES (${k}, ${v}) ON CONFLICT (k) DO NOTHING`);
  }
  async deleteMeta(k: string): Promise<void> {
    await this.c.run(sql`DELETE FROM meta WHERE k = ${k}`);
  }
  async setMeta(k: string, v: string): Promise<void> {
    await this.c.run(sql`INSERT INTO meta (k, v) VALUES (${k}, ${v}) ON CONFLICT (k) DO UPDATE SET v = excluded.v`);
  }

  // ---- terminals ----
  async insertTerminal(t: Pick<TerminalRow, 'id' | 'name' | 'branch' | 'region' | 'code_hash' | 'code_expires' | 'created_at' | 'head_hash'>): Promise<void> {
    await this.c.run(sql`INSERT INTO terminals (id, name, branch, region, status, code_hash, code_expires, created_at, head_seq, head_hash)
       VALUES (${t.id}, ${t.name}, ${t.branch}, ${t.region}, 'pending', ${t.code_hash}, ${t.code_expires}, ${t.created_at}, 0, ${t.head_hash})`);
  }
  getTerminal(id: string): Promise<TerminalRow | undefined> {
    return this.c.get<TerminalRow>(sql`SELECT * FROM terminals WHERE id = ${id}`);
  }
  /** Locked: two registrations racing with one code cannot both activate the terminal (the second finds none). */
  getTerminalByCode(codeHash: string): Promise<TerminalRow | undefined> {
    return this.c.get<TerminalRow>(sql`SELECT * FROM terminals WHERE code_hash = ${codeHash} AND status = 'pending'${FOR_UPDATE}`);
  }
  /**
   * Serialises the transactions that bind these accounts to people (enrolments; rule 3): each then finds the owner
   * the other committed (sql.ts lockNames).
   */
  lockAccountBindings(accounts: readonly string[]): Promise<void> {
    return lockNames(this.c, ADVISORY_LOCK.accountBinding, accounts);
  }
  /**
   * The terminal's row, locked until commit: each terminal's chain is independent, so ingestion serialises per
   * terminal on this lock, not on one lock for the whole centre. Revocation waits for the batch in progress.
   */
  lockTerminal(id: string): Promise<TerminalRow | undefined> {
    return this.c.get<TerminalRow>(sql`SELECT * FROM terminals WHERE id = ${id}${FOR_UPDATE}`);
  }
  listTerminals(): Promise<TerminalRow[]> {
    return this.c.all<TerminalRow>(sql`SELECT * FROM terminals ORDER BY id`);
  }
  async activateTerminal(id: string, publicKey: string, encKey: string, cert: string): Promise<void> {
    await this.c.run(sql`UPDATE terminals SET status = 'active', public_key = ${publicKey}, enc_key = ${encKey}, cert = ${cert}, code_hash = NULL WHERE id = ${id}`);
  }
  async revokeTerminal(id: string, at: number): Promise<boolean> {
    const r = await this.c.run(sql`UPDATE terminals SET status = 'revoked', revoked_at = ${at}, code_hash = NULL WHERE id = ${id} AND status <> 'revoked'`);
    return r.changes > 0;
  }
  async touchTerminal(id: string, at: number): Promise<void> {
    await this.c.run(sql`UPDATE terminals SET last_seen = ${at} WHERE id = ${id}`);
  }
  /**
   * touchTerminal for a read (a feed page): skipped while the terminal's upload holds its row (which sets last_seen
   * itself), so a read never waits behind a batch in progress.
   */
  async touchTerminalUnlessBusy(id: string, at: number): Promise<void> {
    await this.c.run(sql`UPDATE terminals SET last_seen = ${at} WHERE id = ${id}${dialect({ postgres: sql` AND id IN (SELECT id FROM terminals WHERE id = ${id} FOR UPDATE SKIP LOCKED)`, sqlite: '' })}`);
  }
  /** Claims a signed request's nonce: false when it was claimed before and has not expired (a replay). */
  async claimRequestNonce(terminalId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const r = await this.c.run(sql`INSERT INTO request_nonces (terminal_id, nonce, expires_at) VALUES (${terminalId}, ${nonce}, ${expiresAt}) ON CONFLICT (terminal_id, nonce) DO NOTHING`);
    return r.changes === 1;
  }
  /** Forgets nonces whose window has closed (a request that old is refused for its time anyway); how many went. */
  async purgeRequestNonces(now: number): Promise<number> {
    return (await this.c.run(sql`DELETE FROM request_nonces WHERE expires_at <= ${now}`)).changes;
  }
  /** An operator's role at a terminal, as the centre granted it. */
  async putOperatorGrant(g: OperatorGrantRow): Promise<void> {
    await this.c.run(sql`INSERT INTO operator_grants (terminal_id, operator_id, name, role, active, updated_at)
      VALUES (${g.terminal_id}, ${g.operator_id}, ${g.name}, ${g.role}, ${g.active}, ${g.updated_at})
      ON CONFLICT (terminal_id, operator_id) DO UPDATE SET name = excluded.name, role = excluded.role, active = excluded.active, updated_at = excluded.updated_at`);
  }
  getOperatorGrant(terminalId: string, operatorId: string): Promise<OperatorGrantRow | undefined> {
    return this.c.get<OperatorGrantRow>(sql`SELECT * FROM operator_grants WHERE terminal_id = ${terminalId} AND operator_id = ${operatorId}`);
  }
  /** Keeps a version of a terminal's offline limits (the feed holds only the latest): ingest judges purchases by them. */
  async addTerminalLimits(terminalId: string, at: number, limits: unknown): Promise<void> {
    await this.c.run(sql`INSERT INTO terminal_limits (terminal_id, set_at, limits) VALUES (${terminalId}, ${at}, ${JSON.stringify(limits)})`);
  }
  /** Every version of a terminal's offline limits, oldest first (none: it was never given any, so holds the defaults). */
  async terminalLimitsHistory(terminalId: string): Promise<Array<{ setAt: number; limits: string }>> {
    const rows = await this.c.all<{ set_at: number | string; limits: string }>(sql`SELECT set_at, limits FROM terminal_limits WHERE terminal_id = ${terminalId} ORDER BY set_at, id`);
    return rows.map((r) => ({ setAt: Number(r.set_at), limits: r.limits }));
  }
  listOperatorGrants(): Promise<OperatorGrantRow[]> {
    return this.c.all<OperatorGrantRow>(sql`SELECT * FROM operator_grants ORDER BY terminal_id, operator_id`);
  }
  /** Failed registrations from an address in its current window (0 when none, or the window has closed). */
  async registerFailures(address: string, now: number): Promise<number> {
    const r = await this.c.get<{ failures: number | string }>(sql`SELECT failures FROM register_failures WHERE address = ${address} AND window_until > ${now}`);
    return r ? Number(r.failures) : 0;
  }
  /** Counts one failed registration from an address (a closed window starts anew); the count after it. */
  async noteRegisterFailure(address: string, now: number, windowMs: number): Promise<number> {
    await this.c.run(sql`INSERT INTO register_failures (address, failures, window_until) VALUES (${address}, 1, ${now + windowMs})
      ON CONFLICT (address) DO UPDATE SET
        failures = CASE WHEN register_failures.window_until > ${now} THEN register_failures.failures + 1 ELSE 1 END,
        window_until = CASE WHEN register_failures.window_until > ${now} THEN register_failures.window_until ELSE ${now + windowMs} END`);
    return this.registerFailures(address, now);
  }
  /** Forgets the addresses whose window has closed. */
  async purgeRegisterFailures(now: number): Promise<number> {
    return (await this.c.run(sql`DELETE FROM register_failures WHERE window_until <= ${now}`)).changes;
  }
  async countRequestNonces(): Promise<number> {
    return Number((await this.c.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM request_nonces`))!.n);
  }
  /** The chain head after a batch; with `lastSeen`, the terminal's last contact in the same statement (one round trip). */
  async setHead(id: string, seq: number, hash: string, lastSeen?: number): Promise<void> {
    const head = { id, seq, hash, ...(lastSeen === undefined ? {} : { lastSeen }) };
    // With rows queued (a batch's records) it goes in their statement (before the next query, or at commit).
    if (this.anythingQueued()) this.queuedHead = head;
    else await this.c.run(headUpdate(head));
  }

  // ---- records ----
  getRecord(terminalId: string, seq: number): Promise<RecordRow | undefined> {
    return this.c.get<RecordRow>(sql`SELECT * FROM records WHERE terminal_id = ${terminalId} AND seq = ${seq}`);
  }
  /** insertRecord, written with the batch's other queued rows before the next query (or at commit). */
  queueRecord(r: RecordRow): void {
    this.queued.records.push(r);
  }
  async insertRecord(r: RecordRow): Promise<void> {
    await this.c.run(sql`INSERT INTO records (terminal_id, seq, hash, type, body, sig, status, reason, received_at) VALUES (${r.terminal_id}, ${r.seq}, ${r.hash}, ${r.type}, ${r.body}, ${r.sig}, ${r.status}, ${r.reason}, ${r.received_at})`);
  }
  listRecords(terminalId?: string): Promise<RecordRow[]> {
    return terminalId === undefined
      ? this.c.all<RecordRow>(sql`SELECT * FROM records ORDER BY terminal_id, seq`)
      : this.c.all<RecordRow>(sql`SELECT * FROM records WHERE terminal_id = ${terminalId} ORDER BY seq`);
  }
  async countRecords(): Promise<{ accepted: number; review: number }> {
    const rows = await this.c.all<{ status: string; n: number }>(sql`SELECT status, COUNT(*) AS n FROM records GROUP BY status`);
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
    const row = await this.c.get<{ id: number }>(sql`INSERT INTO txns (source, terminal_id, seq, ref, memo, created_at) VALUES (${t.source}, ${t.terminalId}, ${t.seq}, ${t.ref}, ${t.memo}, ${t.at}) RETURNING id`);
    const id = Number(row!.id);
    if (t.postings.length > 0) {
      const values = join(t.postings.map((p) => sql`(${id}, ${p.account}, ${p.currency}, ${p.amount})`));
      await this.c.run(sql`INSERT INTO postings (txn_id, account, currency, amount) VALUES ${values}`);
    }
    this.moveBalances(t.postings);
    return id;
  }
  /** A record's balanced transaction (postTxn without the id): written with the batch's other queued rows. */
  queueTxn(t: QueuedTxn): void {
    this.queued.txns.push(t);
    this.moveBalances(t.postings);
  }
  private moveBalances(postings: readonly Posting[]): void {
    for (const p of postings) {
      const key = `${p.account}\u0000${p.currency}`;
      const cur = this.pendingBalances.get(key);
      if (cur) cur.delta += p.amount;
      else this.pendingBalances.set(key, { account: p.account, currency: p.currency, delta: p.amount });
    }
  }
  /** Writes the queued rows and the summed balance moves (called by Repo.tx before commit, and before whole-table reads). */
  async flush(): Promise<void> {
    // In a fixed order (account, currency), so two transactions never wait on each other's balance rows crosswise;
    // one multi-row upsert (its rows are distinct, and PostgreSQL takes their locks in this order), written after
    // the queued rows (on PostgreSQL in their one statement: a batch's writes are one round trip).
    const moves: BalanceMove[] = [];
    for (const [key, b] of [...this.pendingBalances].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const cached = this.storedBalances.get(key);
      if (cached !== undefined) this.storedBalances.set(key, cached + b.delta);
      if (b.delta !== 0) moves.push(b);
    }
    this.pendingBalances.clear();
    if (moves.length > 0 || this.anythingQueued() || this.queuedHead) await this.writeQueued(moves);
  }
  /** Stored balances read in this transaction (safe to keep: every change inside it goes through pendingBalances). */
  private readonly storedBalances = new Map<string, number>();
  async balance(account: string, currency: string): Promise<number> {
    const key = `${account}\u0000${currency}`;
    let stored = this.storedBalances.get(key);
    if (stored === undefined) {
      // FOR UPDATE: a check against this balance (funds for a purchase) holds until commit; see lockBalances.
      stored = Number((await this.c.get<{ balance: number }>(sql`SELECT balance FROM balances WHERE account = ${account} AND currency = ${currency}${FOR_UPDATE}`))?.balance ?? 0);
      this.storedBalances.set(key, stored);
    }
    return stored + (this.pendingBalances.get(key)?.delta ?? 0);
  }
  /**
   * Locks the balance rows a transaction is about to check and move, all at once and sorted by (account,
   * currency): concurrent batches then queue on them in one order instead of deadlocking crosswise. Rows that do
   * not exist yet are not created (a missing balance is 0). Later `balance()` reads of these rows cost nothing.
   */
  async lockBalances(keys: Array<{ account: string; currency: string }>): Promise<void> {
    const wanted = [...new Map(keys.map((k) => [`${k.account}\u0000${k.currency}`, k])).entries()]
      .filter(([key]) => !this.storedBalances.has(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (wanted.length === 0) return;
    const accounts = [...new Set(wanted.map(([, k]) => k.account))];
    const rows = await this.c.all<{ account: string; currency: string; balance: number }>(
      prepared(sql`SELECT account, currency, balance FROM balances WHERE ${anyOf(raw('account'), accounts)} ORDER BY account, currency${FOR_UPDATE}`),
    );
    for (const [key] of wanted) this.storedBalances.set(key, 0);
    for (const r of rows) this.storedBalances.set(`${r.account}\u0000${r.currency}`, Number(r.balance));
  }
  async listBalances(prefix = ''): Promise<Array<{ account: string; currency: string; balance: number }>> {
    await this.flush();
    return this.c.all(sql`SELECT account, currency, balance FROM balances WHERE account LIKE ${`${prefix}%`} ORDER BY account, currency`);
  }
  txnOfRecord(terminalId: string, seq: number): Promise<TxnRow | undefined> {
    return this.c.get<TxnRow>(sql`SELECT * FROM txns WHERE source = 'record' AND terminal_id = ${terminalId} AND seq = ${seq}`);
  }
  postingsOf(txnId: number): Promise<Array<Posting & { id: number }>> {
    return this.c.all(sql`SELECT id, account, currency, amount FROM postings WHERE txn_id = ${txnId} ORDER BY id`);
  }
  async markVoided(txnId: number, by: string): Promise<void> {
    await this.c.run(sql`UPDATE txns SET voided_by = ${by} WHERE id = ${txnId}`);
  }
  /** Postings of an account with the record each comes from (the audit trail). */
  accountHistory(account: string): Promise<Array<{ txn_id: number; source: string; terminal_id: string | null; seq: number | null; ref: string; memo: string; currency: string; amount: number; created_at: number }>> {
    return this.c.all(
      sql`SELECT p.txn_id, t.source, t.terminal_id, t.seq, t.ref, t.memo, p.currency, p.amount, t.created_at
       FROM postings p JOIN txns t ON t.id = p.txn_id WHERE p.account = ${account} ORDER BY p.id`,
    );
  }
  async ledgerTotals(): Promise<{ txns: number; postings: number; unbalanced: number }> {
    const t = await this.c.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM txns`);
    const p = await this.c.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM postings`);
    const u = await this.c.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM (SELECT txn_id, currency FROM postings GROUP BY txn_id, currency HAVING SUM(amount) <> 0) x`);
    return { txns: Number(t?.n ?? 0), postings: Number(p?.n ?? 0), unbalanced: Number(u?.n ?? 0) };
  }

  // ---- review queue ----
  async addReview(r: { terminalId: string | null; seq: number | null; kind: string; reason: string; at: number }): Promise<void> {
    await this.c.run(sql`INSERT INTO review (terminal_id, seq, kind, reason, created_at) VALUES (${r.terminalId}, ${r.seq}, ${r.kind}, ${r.reason}, ${r.at})`);
  }
  listReview(includeResolved = false): Promise<ReviewRow[]> {
    return includeResolved ? this.c.all<ReviewRow>(sql`SELECT * FROM review ORDER BY id`) : this.c.all<ReviewRow>(sql`SELECT * FROM review WHERE resolved_at IS NULL ORDER BY id`);
  }
  /** One terminal's review rows for records of one kind, resolved or not (the review queue is small: exceptions only). */
  reviewsOf(terminalId: string, kind: string): Promise<ReviewRow[]> {
    return this.c.all<ReviewRow>(sql`SELECT * FROM review WHERE terminal_id = ${terminalId} AND kind = ${kind} ORDER BY id`);
  }
  async resolveReview(id: number, at: number): Promise<boolean> {
    return (await this.c.run(sql`UPDATE review SET resolved_at = ${at} WHERE id = ${id} AND resolved_at IS NULL`)).changes > 0;
  }

  // ---- persons (enrolment registry) ----
  getPerson(id: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>(sql`SELECT * FROM persons WHERE id = ${id}`);
  }
  /** getPerson for many at once (a batch's customers): id → row, undefined for the unknown. */
  async getPersons(ids: readonly string[]): Promise<Map<string, PersonRow | undefined>> {
    const out = new Map<string, PersonRow | undefined>(ids.map((id) => [id, undefined]));
    for (const part of chunks([...out.keys()])) {
      for (const p of await this.c.all<PersonRow>(prepared(sql`SELECT ${PERSON_COLUMNS} FROM persons WHERE ${anyOf(raw('id'), part)}`))) out.set(p.id, p);
    }
    return out;
  }
  /**
   * For an upload's allowance republication, in one statement (two before: one round trip per batch fewer):
   * `owners`, account → the id of its earliest person; `regions`, account → the regions whose terminals may
   * recognise someone paying from it (an account is its person's account_id, or the person id when none was
   * given). Revoked persons count for no region. Answered without a query when `purchaseBatchFacts` read these
   * accounts earlier in this transaction and no person has been written since.
   */
  async ownersAndRegionsByAccount(accountIds: readonly string[]): Promise<OwnersAndRegions> {
    const ids = [...new Set(accountIds)];
    const early = this.earlyOwners;
    if (early && !this.written.has('persons') && ids.every((id) => early.accounts.has(id))) return onlyAccounts(early, ids);
    const rows: OwnerRow[] = [];
    for (const part of chunks(ids)) rows.push(...(await this.c.all<OwnerRow>(prepared(sql`SELECT id, account_id, region, status FROM persons WHERE ${ownedBy(part)} ORDER BY account_id, created_at, id`))));
    return ownersAndRegionsOf(rows);
  }
  /**
   * What a batch of purchases looks up before it applies them, in ONE statement on PostgreSQL (three before): its
   * customers (getPersons), which of its purchase ids are taken (takenPurchaseIds), and the owners and regions of
   * its accounts (ownersAndRegionsByAccount, kept for the allowance republication at the end of the batch). Read
   * after the batch's balance rows are locked, as the three reads were.
   */
  async purchaseBatchFacts(customerIds: readonly string[], purchaseIds: readonly string[], accountIds: readonly string[]): Promise<{ people: Map<string, PersonRow | undefined>; taken: Set<string> }> {
    const customers = [...new Set(customerIds)];
    const purchases = [...new Set(purchaseIds)];
    const accounts = [...new Set(accountIds)];
    if (this.c.dialect !== 'postgres' || Math.max(customers.length, purchases.length, accounts.length) > CHUNK || customers.length * purchases.length === 0) {
      const people = await this.getPersons(customers);
      const taken = await this.takenPurchaseIds(purchases);
      if (accounts.length > 0) this.earlyOwners = { accounts: new Set(accounts), ...(await this.ownersAndRegionsByAccount(accounts)) };
      return { people, taken };
    }
    const row = await this.c.get<{ people: PersonRow[]; taken: string[]; owners: OwnerRow[] }>(prepared(sql`SELECT
      (SELECT COALESCE(json_agg(p), '[]'::json) FROM (SELECT ${PERSON_COLUMNS} FROM persons WHERE ${anyOf(raw('id'), customers)}) p) AS people,
      (SELECT COALESCE(json_agg(purchase_id), '[]'::json) FROM purchases WHERE ${anyOf(raw('purchase_id'), purchases)}) AS taken,
      ${accounts.length === 0 ? sql`'[]'::json` : sql`(SELECT COALESCE(json_agg(o ORDER BY o.account_id, o.created_at, o.id), '[]'::json) FROM (SELECT id, account_id, region, status, created_at FROM persons WHERE ${ownedBy(accounts)}) o)`} AS owners`));
    const people = new Map<string, PersonRow | undefined>(customers.map((id) => [id, undefined]));
    for (const p of row!.people) people.set(p.id, p);
    if (accounts.length > 0) this.earlyOwners = { accounts: new Set(accounts), ...ownersAndRegionsOf(row!.owners) };
    return { people, taken: new Set(row!.taken) };
  }
  /** Owners and regions read by purchaseBatchFacts, for these accounts (see ownersAndRegionsByAccount). */
  private earlyOwners: (OwnersAndRegions & { accounts: Set<string> }) | undefined;
  async insertPerson(p: Omit<PersonRow, 'change_pos'>): Promise<void> {
    this.written.add('persons');
    await this.c.run(sql`INSERT INTO persons (id, region, status, account_id, terminal_id, seq, digests, templates, duplicate_of, created_at, updated_at)
       VALUES (${p.id}, ${p.region}, ${p.status}, ${p.account_id}, ${p.terminal_id}, ${p.seq}, ${p.digests}, ${p.templates}, ${p.duplicate_of}, ${p.created_at}, ${p.updated_at})`);
  }
  /** Stores the templates, and the palm index's stage-1 codes made from them (null when they do not decode). */
  async setPersonTemplates(id: string, templates: Uint8Array, at: number, index: { codes: Uint8Array; hands: string[] } | null = null): Promise<void> {
    this.written.add('persons');
    await this.c.run(sql`UPDATE persons SET templates = ${templates}, codes = ${index?.codes ?? null}, code_hands = ${index ? JSON.stringify(index.hands) : null},
      updated_at = ${at}, change_pos = NULL WHERE id = ${id}`);
  }
  /** How many people's templates are still in the JSON column of before migration 18. */
  async countLegacyTemplates(): Promise<number> {
    return Number((await this.c.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM persons WHERE templates_json IS NOT NULL`))?.n ?? 0);
  }
  /**
   * Moves people's templates from the JSON column of before migration 18 into the blob (same templates: codes,
   * digests and positions stay); a row another process moved first is left as it is. Returns how many moved.
   */
  async moveLegacyTemplates(moves: ReadonlyArray<{ id: string; sealed: Buffer }>): Promise<number> {
    if (moves.length === 0) return 0;
    if (this.c.dialect === 'postgres') {
      // One statement a page, not one a person (10⁵ people took 43 s of a start that way).
      return (await this.c.run(sql`UPDATE persons AS p SET templates = decode(m.hex, 'hex'), templates_json = NULL
        FROM unnest(${textArray(moves.map((m) => m.id))}, ${textArray(moves.map((m) => m.sealed.toString('hex')))}) AS m(id, hex)
        WHERE p.id = m.id AND p.templates_json IS NOT NULL`)).changes;
    }
    let moved = 0;
    for (const m of moves) moved += (await this.c.run(sql`UPDATE persons SET templates = ${m.sealed}, templates_json = NULL WHERE id = ${m.id} AND templates_json IS NOT NULL`)).changes;
    return moved;
  }
  async setPersonStatus(id: string, status: PersonStatus, duplicateOf: string | null, at: number): Promise<void> {
    this.written.add('persons');
    await this.c.run(sql`UPDATE persons SET status = ${status}, duplicate_of = ${duplicateOf}, updated_at = ${at}, change_pos = NULL WHERE id = ${id}`);
  }
  /**
   * The next `limit` people after `afterId` (by id) whose templates are still in the JSON column of before migration
   * 18. From a key, not an offset: a page never walks again over the people moved before it.
   */
  personsWithLegacyTemplates(afterId: string, limit: number): Promise<Array<{ id: string; templates_json: string }>> {
    return this.c.all(sql`SELECT id, templates_json FROM persons WHERE id > ${afterId} AND templates_json IS NOT NULL ORDER BY id LIMIT ${limit}`);
  }
  /** Everyone whose templates a new enrolment is checked against (all but the rejected). */
  galleryPersons(excludeId: string): Promise<PersonRow[]> {
    return this.c.all<PersonRow>(sql`SELECT * FROM persons WHERE id <> ${excludeId} AND templates IS NOT NULL AND status IN ('confirmed', 'provisional', 'duplicate_review')`);
  }
  personByAccount(accountId: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>(sql`SELECT * FROM persons WHERE account_id = ${accountId}`);
  }
  /** The palm module feature of this family stored for a person (sealed; issue 14 §2), if any. */
  moduleFeatureOf(personId: string, family: string): Promise<{ digest: string; sealed: string } | undefined> {
    return this.c.get<{ digest: string; sealed: string }>(sql`SELECT digest, sealed FROM person_module_features WHERE person_id = ${personId} AND family = ${family}`);
  }
  /**
   * The person an account is bound to now, one owner per account: a person naming it, or one naming none whose id it
   * is (ownersAndRegionsByAccount). Revoked enrolments release their account.
   */
  accountOwner(accountId: string): Promise<PersonRow | undefined> {
    return this.c.get<PersonRow>(sql`SELECT * FROM persons WHERE (account_id = ${accountId} OR (account_id IS NULL AND id = ${accountId})) AND status <> 'revoked' ORDER BY created_at, id LIMIT 1`);
  }

  // ---- vouchers ----
  async insertVoucher(v: VoucherRow): Promise<void> {
    await this.c.run(sql`INSERT INTO vouchers (id, period, person_id, amount, currency, branch, lease_terminal, lease_id, status, redeemed_by, created_at)
       VALUES (${v.id}, ${v.period}, ${v.person_id}, ${v.amount}, ${v.currency}, ${v.branch}, ${v.lease_terminal}, ${v.lease_id}, ${v.status}, ${v.redeemed_by}, ${v.created_at})`);
  }
  getVoucher(id: string): Promise<VoucherRow | undefined> {
    // Locked: a payout and a lease move of the same voucher run one after the other.
    return this.c.get<VoucherRow>(sql`SELECT * FROM vouchers WHERE id = ${id}${FOR_UPDATE}`);
  }
  voucherFor(personId: string, period: string): Promise<VoucherRow | undefined> {
    return this.c.get<VoucherRow>(sql`SELECT * FROM vouchers WHERE person_id = ${personId} AND period = ${period}`);
  }
  /** A new lease (any pending move is done with). */
  async setLease(id: string, terminalId: string, leaseId: string): Promise<void> {
    await this.c.run(sql`UPDATE vouchers SET lease_terminal = ${terminalId}, lease_id = ${leaseId}, lease_pending = NULL WHERE id = ${id}`);
  }
  /** Unpaid vouchers, optionally only those whose lease move waits for the holder's release (oldest period first). */
  openVouchers(onlyMoving: boolean): Promise<VoucherRow[]> {
    return onlyMoving
      ? this.c.all<VoucherRow>(sql`SELECT * FROM vouchers WHERE status = 'open' AND lease_pending IS NOT NULL ORDER BY period, id`)
      : this.c.all<VoucherRow>(sql`SELECT * FROM vouchers WHERE status = 'open' ORDER BY period, id`);
  }
  /** A terminal's unpaid vouchers whose lease is moving away, locked. */
  leasesMovingFrom(terminalId: string): Promise<VoucherRow[]> {
    return this.c.all<VoucherRow>(sql`SELECT * FROM vouchers WHERE lease_terminal = ${terminalId} AND lease_pending IS NOT NULL AND status = 'open' ORDER BY id${FOR_UPDATE}`);
  }
  /** Where the lease goes once the holder releases it (null: nowhere, the holder gets it back). */
  async setLeasePending(id: string, terminalId: string | null): Promise<void> {
    await this.c.run(sql`UPDATE vouchers SET lease_pending = ${terminalId} WHERE id = ${id}`);
  }
  /** Paid: a lease move still waiting is void (the holder paid before it gave the lease back). */
  async redeemVoucher(id: string, by: string): Promise<void> {
    await this.c.run(sql`UPDATE vouchers SET status = 'redeemed', redeemed_by = ${by}, lease_pending = NULL WHERE id = ${id}`);
  }
  async reopenVoucher(id: string): Promise<void> {
    await this.c.run(sql`UPDATE vouchers SET status = 'open', redeemed_by = NULL WHERE id = ${id}`);
  }
  async leaseCounts(branch: string): Promise<Map<string, number>> {
    const rows = await this.c.all<{ t: string; n: number }>(sql`SELECT lease_terminal AS t, COUNT(*) AS n FROM vouchers WHERE branch = ${branch} AND status = 'open' GROUP BY lease_terminal`);
    return new Map(rows.map((r) => [r.t, Number(r.n)]));
  }
  async payrollImported(fileSha256: string, rows: number, at: number): Promise<void> {
    await this.c.run(sql`INSERT INTO payroll_imports (file_sha256, rows, created_at) VALUES (${fileSha256}, ${rows}, ${at})`);
  }

  // ---- purchases (for refunds) ----
  getPurchase(purchaseId: string): Promise<PurchaseRow | undefined> {
    // Locked: refunds from two terminals (or a refund and a void) of one purchase check what remains one at a time.
    return this.c.get<PurchaseRow>(sql`SELECT * FROM purchases WHERE purchase_id = ${purchaseId}${FOR_UPDATE}`);
  }
  /** Which of these purchase ids are taken (a batch's purchases, checked at once). */
  async takenPurchaseIds(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks([...new Set(ids)])) {
      for (const r of await this.c.all<{ purchase_id: string }>(prepared(sql`SELECT purchase_id FROM purchases WHERE ${anyOf(raw('purchase_id'), part)}`))) out.add(r.purchase_id);
    }
    return out;
  }
  /** insertPurchase, written with the batch's other queued rows (a purchase id taken meanwhile is left as it was). */
  queuePurchase(p: PurchaseRow): void {
    this.queued.purchases.push(p);
  }
  /** False when the purchase id is already taken (nothing written). */
  async insertPurchase(p: PurchaseRow): Promise<boolean> {
    return (await this.c.run(sql`INSERT INTO purchases (purchase_id, terminal_id, seq, account, amount, currency, refunded) VALUES (${p.purchase_id}, ${p.terminal_id}, ${p.seq}, ${p.account}, ${p.amount}, ${p.currency}, ${p.refunded}) ON CONFLICT (purchase_id) DO NOTHING`)).changes === 1;
  }
  async addRefunded(purchaseId: string, amount: number): Promise<void> {
    await this.c.run(sql`UPDATE purchases SET refunded = refunded + ${amount} WHERE purchase_id = ${purchaseId}`);
  }

  // ---- feed ----
  /** Appends a feed event. The feed carries latest state: an older event of the same audience, kind and key is
   * dropped (a terminal that had not read it reads this one, which comes later), so the feed does not grow per batch. */
  async appendFeed(audience: string, kind: string, key: string, data: unknown, at: number): Promise<void> {
    await this.appendFeedMany(audience, kind, [{ key, data }], at);
  }
  /**
   * appendFeed for many keys of one audience and kind. Queued, and written with the transaction's other queued
   * rows (before its next read, or at flush); an event queued again for the same key replaces the one queued
   * before, as the DELETE of its older events would have.
   */
  async appendFeedMany(audience: string, kind: string, events: ReadonlyArray<{ key: string; data: unknown }>, at: number): Promise<void> {
    for (const e of events) {
      const id = `${audience}\u0000${kind}\u0000${e.key}`;
      this.queued.feed.delete(id); // re-queued at the end: it comes after everything queued before it
      this.queued.feed.set(id, { audience, kind, key: e.key, data: JSON.stringify(e.data), at });
    }
    if (events.length > 0) this.written.add('feed');
  }
  /** Published events after position `since` (`seq` is the position terminals page by). */
  feedSince(audiences: string[], since: number, limit: number): Promise<FeedRow[]> {
    return this.c.all<FeedRow>(
      sql`SELECT pos AS seq, audience, kind, key, data, created_at FROM feed WHERE pos > ${since} AND audience IN (${list(audiences)}) ORDER BY pos LIMIT ${limit}`,
    );
  }
  async feedHead(): Promise<number> {
    return Number((await this.c.get<{ s: number | null }>(sql`SELECT MAX(pos) AS s FROM feed`))?.s ?? 0);
  }
}

export interface RepoOptions extends OpenSqlOptions {
  /** Apply pending migrations on open (default). When false, a database that is not current is refused. */
  migrate?: boolean;
}

/** The repository: a database plus the transaction entry point. */
export class Repo {
  /** Hands out commit-ordered positions after commit, one run at a time per process, shared by the commits waiting. */
  private readonly publisher: Publisher;
  /**
   * @param side On PostgreSQL, a few connections of their own for the publisher and for a terminal's reads (feed
   *   page, statement): under an upload burst the main pool's queue is long, and neither the step every commit waits
   *   for nor a read should wait in it. On SQLite the same database (one writer anyway).
   */
  private constructor(readonly db: SqlDb, private readonly side: SqlDb) {
    this.publisher = new Publisher((what) =>
      this.side.tx(async (c) => {
        for (const w of what) await publish(c, w);
      }),
    );
  }

  static async open(url: string, opts: RepoOptions = {}): Promise<Repo> {
    const db = await openSqlDb(url, opts);
    let side = db;
    try {
      if (opts.migrate === false) await assertCurrent(db);
      else await migrate(db);
      if (db.dialect === 'postgres') side = await openSqlDb(url, { ...opts, poolMax: SIDE_POOL });
    } catch (err) {
      await db.close();
      throw err;
    }
    const repo = new Repo(db, side);
    await repo.keepRecordMonths();
    return repo;
  }

  private monthsCheckedAt = 0;
  /**
   * Makes the coming months' partitions of `records` (PostgreSQL; record-months.ts) at open and then twice a day,
   * by the wall clock (not a centre's test clock), so a long-running server never writes into the default one.
   */
  async keepRecordMonths(): Promise<void> {
    const now = Date.now();
    if (now - this.monthsCheckedAt < 12 * 3_600_000) return;
    this.monthsCheckedAt = now;
    await ensureRecordMonths(this.db, now);
  }

  /**
   * A terminal's read (feed page, statement) on the side connections, so it does not queue behind an upload burst
   * for a pooled connection. The same transaction as `tx` otherwise (it may write, e.g. a terminal's last_seen).
   */
  readTx<T>(fn: (r: RepoTx) => Promise<T>): Promise<T> {
    return this.tx(fn, this.side);
  }

  /**
   * A terminal's read of published rows (a feed page) on the side connections, each statement on its own: no
   * BEGIN/COMMIT and no connection held between statements, so a read makes the fewest trips through an event loop
   * busy with uploads. Only for reads whose statements need no common snapshot (PostgreSQL's READ COMMITTED gives
   * each statement its own snapshot inside a transaction too). Writes that wait for a position are refused.
   */
  async read<T>(fn: (r: RepoTx) => Promise<T>): Promise<T> {
    const r = new RepoTx(this.side.autocommit());
    const out = await fn(r);
    await r.flush();
    if (r.written.size > 0) throw new Error('Repo.read wrote rows that need a commit-ordered position: use tx');
    return out;
  }

  /** One transaction. Rows it wrote that need a commit-ordered position get one after it commits (sequencer.ts). */
  async tx<T>(fn: (r: RepoTx) => Promise<T>, db: SqlDb = this.db): Promise<T> {
    let written: Published[] = [];
    const out = await db.tx(async (c) => {
      const r = new RepoTx(c);
      const res = await fn(r);
      await r.flush();
      written = [...r.written];
      // SQLite runs one writer at a time, so its commit order is this order: publish inside the transaction.
      if (c.dialect === 'sqlite') for (const w of written) await publish(c, w);
      return res;
    });
    if (this.db.dialect === 'postgres' && written.length > 0) await this.publisher.request(written);
    return out;
  }

  /**
   * A terminal's row, read in one statement outside a transaction (request authentication, before a batch's
   * transaction). `on: 'side'` for a read request's authentication, which must not queue behind an upload burst.
   */
  getTerminal(id: string, on: 'main' | 'side' = 'main'): Promise<TerminalRow | undefined> {
    return (on === 'side' ? this.side : this.db).get<TerminalRow>(sql`SELECT * FROM terminals WHERE id = ${id}`);
  }

  /**
   * Claims a signed request's nonce in one statement outside a transaction (committed on its own: one round trip
   * instead of three before every request); false when it was claimed before and has not expired (a replay).
   */
  async claimRequestNonce(terminalId: string, nonce: string, expiresAt: number, on: 'main' | 'side' = 'main'): Promise<boolean> {
    const row = await (on === 'side' ? this.side : this.db).get(sql`INSERT INTO request_nonces (terminal_id, nonce, expires_at) VALUES (${terminalId}, ${nonce}, ${expiresAt})
      ON CONFLICT (terminal_id, nonce) DO NOTHING RETURNING 1 AS claimed`);
    return row !== undefined;
  }

  /** Publishes rows left without a position (by a process that died between its commit and its publish). */
  async catchUp(what: Published): Promise<void> {
    if (await hasUnpublished(this.side, what)) await this.publisher.request([what]);
  }

  async close(): Promise<void> {
    if (this.side !== this.db) await this.side.close();
    await this.db.close();
  }
}
