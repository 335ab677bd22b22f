// ONE repository suite, run against both backends: embedded SQLite and PostgreSQL (when PALMPAY_TEST_PG is set).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Repo } from '../../src/server/repo.ts';
import { SCHEMA_VERSION } from '../../src/server/migrations.ts';
import { Central } from '../../src/server/service.ts';
import { GENESIS_HASH } from '../../src/protocol/record.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb } from './helpers.ts';
import { sql } from '../../src/server/sql.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
if (!PG_URL) console.warn('PALMPAY_TEST_PG is unset: the PostgreSQL half of the repository suite is SKIPPED (export PALMPAY_TEST_PG=postgres://… to run it)');

describe.each(backends)('repository on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let repo: Repo;
  let url: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    url = db.url;
    cleanup = db.cleanup;
    repo = await Repo.open(url);
  });
  afterEach(async () => {
    if (skip) return;
    await repo.close();
    await cleanup();
  });

  it.skipIf(skip)('migrates idempotently and keeps meta', async () => {
    await repo.close();
    repo = await Repo.open(url); // second migration over an existing schema
    await repo.tx((r) => r.setMeta('k', 'v1'));
    await repo.tx((r) => r.setMeta('k', 'v2'));
    expect(await repo.tx((r) => r.getMeta('k'))).toBe('v2');
    expect(await repo.tx((r) => r.getMeta('schema_version'))).toBe(String(SCHEMA_VERSION));
  });

  it.skipIf(skip)('rolls a transaction back on throw', async () => {
    await expect(
      repo.tx(async (r) => {
        await r.setMeta('x', '1');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await repo.tx((r) => r.getMeta('x'))).toBeUndefined();
  });

  it.skipIf(skip)('stores terminals, heads and revocation', async () => {
    await repo.tx((r) => r.insertTerminal({ id: 'T1', name: 'n', branch: 'B', region: 'R', code_hash: 'h', code_expires: 5, created_at: 1, head_hash: GENESIS_HASH }));
    await repo.tx(async (r) => {
      expect((await r.getTerminalByCode('h'))?.id).toBe('T1');
      await r.activateTerminal('T1', 'pk', 'ek', '{}');
      await r.setHead('T1', 7, 'abc');
    });
    const t = await repo.tx((r) => r.getTerminal('T1'));
    expect(t).toMatchObject({ status: 'active', head_seq: 7, head_hash: 'abc', code_hash: null, public_key: 'pk' });
    expect(await repo.tx((r) => r.revokeTerminal('T1', 9))).toBe(true);
    expect(await repo.tx((r) => r.revokeTerminal('T1', 10))).toBe(false);
    expect((await repo.tx((r) => r.listTerminals())).map((x) => x.status)).toEqual(['revoked']);
  });

  it.skipIf(skip)('writes a chain head set after queued rows with them: a later read and the commit see it, a rollback drops both', async () => {
    await repo.tx((r) => r.insertTerminal({ id: 'T1', name: 'n', branch: 'B', region: 'R', code_hash: 'h', code_expires: 5, created_at: 1, head_hash: GENESIS_HASH }));
    const row = { terminal_id: 'T1', seq: 1, hash: 'h1', type: 'purchase', body: '{}', sig: 's', status: 'accepted' as const, reason: null, received_at: 1 };
    await repo.tx(async (r) => {
      r.queueRecord(row);
      await r.setHead('T1', 1, 'h1', 42);
      expect(await r.getTerminal('T1')).toMatchObject({ head_seq: 1, head_hash: 'h1', last_seen: 42 }); // read after: written first
      r.queueRecord({ ...row, seq: 2, hash: 'h2' });
      await r.setHead('T1', 2, 'h2', 43); // written at commit, with its record
    });
    expect(await repo.tx((r) => r.getTerminal('T1'))).toMatchObject({ head_seq: 2, head_hash: 'h2', last_seen: 43 });
    await expect(
      repo.tx(async (r) => {
        r.queueRecord({ ...row, seq: 3, hash: 'h3' });
        await r.setHead('T1', 3, 'h3');
        await r.getRecord('T1', 3);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await repo.tx((r) => r.getTerminal('T1'))).toMatchObject({ head_seq: 2, head_hash: 'h2' });
    expect(await repo.tx((r) => r.getRecord('T1', 3))).toBeUndefined();
  });

  it.skipIf(skip)('keeps one record per (terminal, seq)', async () => {
    const row = { terminal_id: 'T1', seq: 1, hash: 'h', type: 'purchase', body: '{}', sig: 's', status: 'accepted' as const, reason: null, received_at: 1 };
    await repo.tx((r) => r.insertRecord(row));
    await expect(repo.tx((r) => r.insertRecord({ ...row, hash: 'other' }))).rejects.toThrow();
    expect((await repo.tx((r) => r.getRecord('T1', 1)))?.hash).toBe('h');
    expect(await repo.tx((r) => r.countRecords())).toEqual({ accepted: 1, review: 0 });
  });

  it.skipIf(skip)('posts balanced transactions, moves balances, and traces postings to their record', async () => {
    await repo.tx(async (r) => {
      await r.postTxn({ source: 'record', terminalId: 'T1', seq: 3, ref: 'hash3', memo: 'm', at: 1, postings: [{ account: 'a', currency: 'SYP', amount: -250 }, { account: 'b', currency: 'SYP', amount: 250 }] });
      await r.postTxn({ source: 'admin', terminalId: null, seq: null, ref: 'x', memo: 'm2', at: 2, postings: [{ account: 'b', currency: 'SYP', amount: -50 }, { account: 'c', currency: 'SYP', amount: 50 }] });
    });
    await repo.tx(async (r) => {
      expect(await r.balance('a', 'SYP')).toBe(-250);
      expect(await r.balance('b', 'SYP')).toBe(200);
      expect(await r.balance('zzz', 'USD')).toBe(0);
      expect(await r.ledgerTotals()).toEqual({ txns: 2, postings: 4, unbalanced: 0 });
      const hist = await r.accountHistory('b');
      expect(hist.map((h) => [h.source, h.terminal_id, h.seq, Number(h.amount)])).toEqual([['record', 'T1', 3, 250], ['admin', null, null, -50]]);
      const txn = await r.txnOfRecord('T1', 3);
      expect(txn?.ref).toBe('hash3');
      expect((await r.postingsOf(Number(txn!.id))).map((p) => Number(p.amount))).toEqual([-250, 250]);
    });
  });

  it.skipIf(skip)('keeps a review queue', async () => {
    await repo.tx((r) => r.addReview({ terminalId: 'T1', seq: 4, kind: 'purchase', reason: 'insufficient funds', at: 1 }));
    const [item] = await repo.tx((r) => r.listReview());
    expect(item).toMatchObject({ terminal_id: 'T1', seq: 4, reason: 'insufficient funds', resolved_at: null });
    expect(await repo.tx((r) => r.resolveReview(Number(item!.id), 2))).toBe(true);
    expect(await repo.tx((r) => r.listReview())).toEqual([]);
    expect(await repo.tx((r) => r.listReview(true))).toHaveLength(1);
  });

  it.skipIf(skip)('stores persons, vouchers with one per person and period, purchases', async () => {
    await repo.tx(async (r) => {
      await r.insertPerson({ id: 'P1', region: 'R', status: 'provisional', account_id: 'A1', terminal_id: 'T1', seq: 1, digests: '[]', templates: null, duplicate_of: null, created_at: 1, updated_at: 1 });
      await r.setPersonTemplates('P1', Buffer.from([1, 0, 255]), 2);
      await r.setPersonStatus('P1', 'confirmed', null, 3);
      const v = { id: 'V1', period: '2026-11', person_id: 'P1', amount: 5000, currency: 'SYP', branch: 'B', lease_terminal: 'T1', lease_id: 'L1', status: 'open' as const, redeemed_by: null, created_at: 1 };
      await r.insertVoucher(v);
      await r.setLease('V1', 'T2', 'L2');
      await r.redeemVoucher('V1', 'T2#9');
      await r.insertPurchase({ purchase_id: 'PU1', terminal_id: 'T1', seq: 2, account: 'A1', amount: 700, currency: 'SYP', refunded: 0 });
      await r.addRefunded('PU1', 200);
    });
    await expect(repo.tx((r) => r.insertVoucher({ id: 'V2', period: '2026-11', person_id: 'P1', amount: 1, currency: 'SYP', branch: 'B', lease_terminal: 'T1', lease_id: 'L', status: 'open', redeemed_by: null, created_at: 1 }))).rejects.toThrow();
    await repo.tx(async (r) => {
      expect(await r.getPerson('P1')).toMatchObject({ status: 'confirmed', templates: Buffer.from([1, 0, 255]) });
      expect((await r.personByAccount('A1'))?.id).toBe('P1');
      expect(await r.getVoucher('V1')).toMatchObject({ lease_terminal: 'T2', lease_id: 'L2', status: 'redeemed', redeemed_by: 'T2#9', amount: 5000 });
      expect((await r.voucherFor('P1', '2026-11'))?.id).toBe('V1');
      expect(await r.getPurchase('PU1')).toMatchObject({ refunded: 200, amount: 700 });
    });
  });

  it.skipIf(skip)('serves the feed by audience after a cursor', async () => {
    await repo.tx(async (r) => {
      await r.appendFeed('all', 'k', 'a', { n: 1 }, 1);
      await r.appendFeed('terminal:T2', 'k', 'b', { n: 2 }, 1);
      await r.appendFeed('terminal:T1', 'k', 'c', { n: 3 }, 1);
      await r.appendFeed('region:R', 'k', 'd', { n: 4 }, 1);
    });
    const page = await repo.tx((r) => r.feedSince(['all', 'terminal:T1', 'region:R'], 0, 2));
    expect(page.map((f) => f.key)).toEqual(['a', 'c']);
    const rest = await repo.tx((r) => r.feedSince(['all', 'terminal:T1', 'region:R'], Number(page[1]!.seq), 10));
    expect(rest.map((f) => f.key)).toEqual(['d']);
    expect(await repo.tx((r) => r.feedHead())).toBe(Number(rest[0]!.seq));
    // latest state per key: a newer event of the same kind and key replaces the older one, later in the feed
    await repo.tx((r) => r.appendFeed('all', 'k', 'a', { n: 5 }, 2));
    const all = await repo.tx((r) => r.feedSince(['all', 'terminal:T1', 'region:R'], 0, 10));
    expect(all.map((f) => [f.key, JSON.parse(f.data).n])).toEqual([['c', 3], ['d', 4], ['a', 5]]);
    expect(Number(all[2]!.seq)).toBe(await repo.tx((r) => r.feedHead()));
  });

  it.skipIf(skip)('writes a transaction\'s feed events with its ledger rows and balance moves, latest per key, and drops them all on rollback', async () => {
    const move = { terminalId: 'T1', seq: 1, ref: 'h1', memo: 'm', at: 1, postings: [{ account: 'acct:A1', currency: 'SYP', amount: -100 }, { account: 'merchant:T1', currency: 'SYP', amount: 100 }] };
    await expect(
      repo.tx(async (r) => {
        await r.appendFeed('all', 'k', 'gone', { n: 0 }, 1);
        r.queueTxn(move);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await repo.tx((r) => r.feedSince(['all'], 0, 10))).toEqual([]);
    expect(await repo.tx((r) => r.ledgerTotals())).toMatchObject({ txns: 0 });
    await repo.tx(async (r) => {
      await r.appendFeed('all', 'k', 'a', { n: 1 }, 1);
      await r.appendFeedMany('all', 'k', [{ key: 'b', data: { n: 2 } }, { key: 'a', data: { n: 3 } }], 1); // a again: the later one, after b
      r.queueTxn(move);
    });
    // As separate DELETE + INSERT statements would leave it: one event per key, in the order last written.
    const feed = await repo.tx((r) => r.feedSince(['all'], 0, 10));
    expect(feed.map((f) => [f.key, JSON.parse(f.data).n])).toEqual([['b', 2], ['a', 3]]);
    await repo.tx(async (r) => {
      expect([await r.balance('acct:A1', 'SYP'), await r.balance('merchant:T1', 'SYP')]).toEqual([-100, 100]);
      expect(await r.ledgerTotals()).toEqual({ txns: 1, postings: 2, unbalanced: 0 });
    });
  });

  it.skipIf(skip)('reads a batch\'s purchase facts at once as the separate reads do, and reads owners again once a person is written', async () => {
    const person = (id: string, region: string, account: string | null, at: number) => ({ id, region, status: 'confirmed' as const, account_id: account, terminal_id: 'T1', seq: at, digests: '[]', templates: null, duplicate_of: null, created_at: at, updated_at: at });
    await repo.tx(async (r) => {
      await r.insertPerson(person('P1', 'R1', 'A1', 1));
      await r.insertPerson(person('P2', 'R2', 'A1', 2));
      await r.insertPerson(person('P3', 'R1', null, 3));
      await r.insertPerson(person('P4', 'R3', 'A4', 4));
      await r.setPersonStatus('P4', 'revoked', null, 5);
      await r.insertPurchase({ purchase_id: 'PU-1', terminal_id: 'T1', seq: 1, account: 'A1', amount: 1, currency: 'SYP', refunded: 0 });
    });
    await repo.tx(async (r) => {
      const facts = await r.purchaseBatchFacts(['P1', 'P3', 'P1', 'PX'], ['PU-1', 'PU-2'], ['A1', 'P3', 'A4', 'AX']);
      expect([...facts.people.keys()].sort()).toEqual(['P1', 'P3', 'PX']);
      expect(await r.getPerson('P1')).toMatchObject(facts.people.get('P1')!);
      expect(await r.getPerson('P3')).toMatchObject(facts.people.get('P3')!);
      expect(facts.people.get('PX')).toBeUndefined();
      expect([...facts.taken]).toEqual(['PU-1']);
      const early = await r.ownersAndRegionsByAccount(['A1', 'P3', 'A4']);
      expect(early.owners).toEqual(new Map([['A1', 'P1'], ['A4', 'P4']]));
      expect(early.regions).toEqual(new Map([['A1', new Set(['R1', 'R2'])], ['P3', new Set(['R1'])]]));
      // A person written in this transaction: the owners and regions are read again, not taken from the batch's read.
      await r.insertPerson(person('P5', 'R5', 'A1', 6));
      expect((await r.ownersAndRegionsByAccount(['A1'])).regions.get('A1')).toEqual(new Set(['R1', 'R2', 'R5']));
    });
  });

  it.skipIf(skip)('ingests through the service exactly once, on this backend', async () => {
    await repo.close();
    const central = await Central.open(url);
    try {
      const t = await registeredTerminal(central, 'T1');
      await enrolCustomer(central, t, 'P1', 'A1');
      await central.creditAccount('A1', 10_000, 'SYP');
      const recs = Array.from({ length: 20 }, (_, i) => t.chain.next(purchaseDraft('T1', i, 'P1', 'A1', 100)));
      const first = await central.ingest('T1', recs.slice(0, 15));
      expect(first.every((r) => r.status === 'accepted')).toBe(true);
      const second = await central.ingest('T1', [...recs].reverse());
      expect(second.filter((r) => r.status === 'duplicate')).toHaveLength(15);
      expect(second.filter((r) => r.status === 'accepted')).toHaveLength(5);
      await central.repo.tx(async (r) => {
        expect(await r.balance('acct:A1', 'SYP')).toBe(10_000 - 20 * 100);
        expect(await r.balance('merchant:T1', 'SYP')).toBe(20 * 100);
        expect((await r.ledgerTotals()).unbalanced).toBe(0);
      });
    } finally {
      await central.close();
      repo = await Repo.open(url);
    }
  });
});

// A batch's rows are queued and written in a few statements (repo.ts); every read in the batch must still see the
// writes before it. One batch that reads its own writes at every step: a replay of a record in the same batch, a
// purchase id reused, a refund and a void of purchases made earlier in the batch, a refund of the voided one.
describe.each(backends)('one batch reading its own writes on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  it.skipIf(skip)('decides each record as if it came alone', async () => {
    const db = await tempDb(kind);
    const central = await Central.open(db.url);
    try {
      const t = await registeredTerminal(central, 'T1', { operators: { 'op-1': 'supervisor', op: 'cashier' }, supervisors: ['sup'] });
      await enrolCustomer(central, t, 'P1', 'A1');
      await enrolCustomer(central, t, 'P2', 'A2');
      await central.creditAccount('A1', 1_000, 'SYP');
      await central.creditAccount('A2', 1_000, 'SYP');
      const sup = { approvedBy: 'sup', reason: 'returned' };
      const buy = (purchaseId: string, customerId: string, accountId: string, amountMinor: number) =>
        t.chain.next({ type: 'purchase', operatorId: 'op-1', purchaseId, customerId, accountId, amountMinor, currency: 'SYP', pinVerified: false, offline: true });
      const a = buy('PU-A', 'P1', 'A1', 100);
      const reused = buy('PU-A', 'P2', 'A2', 50);
      const refund = t.chain.next({ type: 'refund', operatorId: 'op', refundId: 'RF-1', originalPurchaseId: 'PU-A', originalTerminalId: 'T1', originalSeq: a.seq, customerId: 'P1', accountId: 'A1', amountMinor: 40, currency: 'SYP', ...sup });
      const b = buy('PU-B', 'P2', 'A2', 200);
      const voided = t.chain.next({ type: 'void', operatorId: 'op', voidId: 'VD-1', targetTerminalId: 'T1', targetSeq: b.seq, targetType: 'purchase', targetId: 'PU-B', amountMinor: 200, currency: 'SYP', ...sup });
      const late = t.chain.next({ type: 'refund', operatorId: 'op', refundId: 'RF-2', originalPurchaseId: 'PU-B', originalTerminalId: 'T1', originalSeq: b.seq, customerId: 'P2', accountId: 'A2', amountMinor: 10, currency: 'SYP', ...sup });
      const overdraw = buy('PU-C', 'P2', 'A2', 1_001);
      const res = await central.ingest('T1', [a, a, reused, refund, b, voided, late, overdraw]);
      expect(res.map((r) => r.status)).toEqual(['accepted', 'duplicate', 'review', 'accepted', 'accepted', 'accepted', 'review', 'review']);
      expect(res[1]!.original).toEqual({ status: 'accepted' });
      expect(res[2]!.reason).toMatch(/^PURCHASE_ID_USED/);
      expect(res[7]!.reason).toMatch(/^INSUFFICIENT_FUNDS/);
      const bal = (acct: string) => central.repo.tx((r) => r.balance(acct, 'SYP'));
      expect([await bal('acct:A1'), await bal('acct:A2'), await bal('merchant:T1')]).toEqual([1_000 - 60, 1_000, 60]);
      expect(await central.repo.tx((r) => r.ledgerTotals())).toMatchObject({ unbalanced: 0 });
      const rows = await central.repo.tx((r) => r.listRecords('T1'));
      expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
      expect((await central.repo.tx((r) => r.getTerminal('T1')))!.head_hash).toBe(overdraw.hash);
      // Each applied record has its one transaction, with its postings; the allowances show the balances after the batch.
      for (const rec of [a, refund, b, voided]) expect((await central.repo.tx((r) => r.txnOfRecord('T1', rec.seq)))?.ref, `#${rec.seq}`).toBe(rec.hash);
      expect(await central.repo.tx((r) => r.getPurchase('PU-A'))).toMatchObject({ account: 'A1', refunded: 40 });
      const allowance = await central.repo.db.tx((c) => c.all<{ key: string; data: string }>(sql`SELECT key, data FROM feed WHERE kind = 'allowance' AND key LIKE ${'%:SYP'} ORDER BY key`));
      expect(allowance.map((f) => [f.key, (JSON.parse(f.data) as { amountMinor: number; customerId: string }).amountMinor, (JSON.parse(f.data) as { customerId: string }).customerId])).toEqual([['A1:SYP', 940, 'P1'], ['A2:SYP', 1_000, 'P2']]);
    } finally {
      await central.close();
      await db.cleanup();
    }
  });
});
