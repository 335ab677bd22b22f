// A terminal's feed read is not queued behind uploads (issue 16: feed p99 under ingest). On PostgreSQL a read
// (its authentication included) runs on the side connections (Repo.readTx, AuthOptions.read), so it completes
// while every connection of the main pool is busy with an upload batch that cannot finish. Not a timing test:
// the uploads are held by a lock on their terminal's row until the read has answered, and the test checks the order.
// (SQLite runs one writer at a time and reads share its one connection, so there a read waits by design.)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const MAIN_POOL = 2;
const UPLOADS = MAIN_POOL + 2; // more batches than main connections: some wait in the pool's queue too
const BATCH = 300;

describe.skipIf(!PG_URL)('reads under an upload burst (PostgreSQL)', () => {
  let srv: RunningServer;
  let cleanup: () => Promise<void>;
  let url: string;
  let uploader: TestTerminal;
  let reader: TestTerminal;
  beforeAll(async () => {
    const db = await tempDb('postgres');
    cleanup = db.cleanup;
    url = db.url;
    srv = await startServer({ db: db.url, port: 0, storage: { poolMax: MAIN_POOL } });
    uploader = await registeredTerminal(srv.central, 'T-UP', { url: srv.url });
    reader = await registeredTerminal(srv.central, 'T-READ', { url: srv.url });
    await enrolCustomer(srv.central, uploader, 'P-1', 'A-1');
    await srv.central.creditAccount('A-1', 10_000_000, 'SYP');
  });
  afterAll(async () => {
    await srv?.close();
    await cleanup?.();
  });

  it('a feed page is answered while long upload batches hold every main connection, and they all apply afterwards', async () => {
    const hold = new pg.Client({ connectionString: url });
    const watch = new pg.Client({ connectionString: url });
    await hold.connect();
    await watch.connect();
    const order: string[] = [];
    try {
      // The uploading terminal's row is locked from outside: each batch's transaction waits on it, holding its connection.
      await hold.query('BEGIN');
      await hold.query(`SELECT 1 FROM terminals WHERE id = 'T-UP' FOR UPDATE`);
      const batches = Array.from({ length: UPLOADS }, () => Array.from({ length: BATCH }, (_, k) => uploader.chain.next(purchaseDraft('T-UP', k, 'P-1', 'A-1', 1))));
      // Every batch is sent at once (the chain orders them; any that arrives before its predecessor answers `gap` and is sent again below).
      const uploads = batches.map((b, i) => uploader.client!.upload(b).then((res) => (order.push(`upload ${i}`), res)));
      // Wait (by state, not by time) until the main pool is exhausted: MAIN_POOL transactions wait on the terminal's lock.
      for (;;) {
        const { rows } = await watch.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT * FROM terminals WHERE id = $1 FOR UPDATE%'`);
        if (rows[0].n >= MAIN_POOL) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const page = await reader.client!.feed(0, 100);
      order.push('feed read');
      expect(page.events.length).toBeGreaterThanOrEqual(0);
      expect(order).toEqual(['feed read']); // answered while every upload was still in progress
      await hold.query('COMMIT');
      const results = await Promise.all(uploads);
      expect(order).toHaveLength(1 + UPLOADS);
      // Each batch was applied or answered `gap` (sent before its predecessor committed); re-sending the gaps in order applies all.
      for (const [i, res] of results.entries()) {
        if (res.results.some((r) => r.status === 'gap')) await uploader.client!.upload(batches[i]!);
      }
      const head = (await srv.central.repo.getTerminal('T-UP'))!;
      expect(Number(head.head_seq)).toBe(1 + UPLOADS * BATCH); // the enrolment, then every purchase
    } finally {
      await hold.query('ROLLBACK').catch(() => undefined);
      await hold.end();
      await watch.end();
    }
  });
});
