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

/** The upload gate's gauges from /metrics, and how many uploads it turned away. */
async function uploadGaugeOf(url: string): Promise<{ active: number; waiting: number; refused: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (state: string) => Number(new RegExp(`^palmpay_uploads\\{state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { active: read('active'), waiting: read('waiting'), refused: Number(/^palmpay_uploads_refused_total (\d+)$/m.exec(text)?.[1] ?? NaN) };
}

/** A centre on a fresh PostgreSQL database with an uploading terminal (its customer funded) and a reading one. */
function centreUnderTest(opts: { uploadSlots: number; poolMax: number; uploadQueue?: number }) {
  const c = {} as { srv: RunningServer; cleanup: () => Promise<void>; url: string; uploader: TestTerminal; reader: TestTerminal };
  beforeAll(async () => {
    const db = await tempDb('postgres');
    c.cleanup = db.cleanup;
    c.url = db.url;
    c.srv = await startServer({ db: db.url, port: 0, uploadSlots: opts.uploadSlots, ...(opts.uploadQueue ? { uploadQueue: opts.uploadQueue } : {}), storage: { poolMax: opts.poolMax } });
    c.uploader = await registeredTerminal(c.srv.central, 'T-UP', { url: c.srv.url });
    c.reader = await registeredTerminal(c.srv.central, 'T-READ', { url: c.srv.url });
    await enrolCustomer(c.srv.central, c.uploader, 'P-1', 'A-1');
    await c.srv.central.creditAccount('A-1', 10_000_000, 'SYP');
  });
  afterAll(async () => {
    await c.srv?.close();
    await c.cleanup?.();
  });
  return c;
}

describe.skipIf(!PG_URL)('reads under an upload burst (PostgreSQL)', () => {
  // Every upload gets a slot here (no gate in the way): this test is about the pools.
  const c = centreUnderTest({ uploadSlots: UPLOADS, poolMax: MAIN_POOL });

  it('a feed page is answered while long upload batches hold every main connection, and they all apply afterwards', async () => {
    const hold = new pg.Client({ connectionString: c.url });
    const watch = new pg.Client({ connectionString: c.url });
    await hold.connect();
    await watch.connect();
    const order: string[] = [];
    try {
      // The uploading terminal's row is locked from outside: each batch's transaction waits on it, holding its connection.
      await hold.query('BEGIN');
      await hold.query(`SELECT 1 FROM terminals WHERE id = 'T-UP' FOR UPDATE`);
      const batches = Array.from({ length: UPLOADS }, () => Array.from({ length: BATCH }, (_, k) => c.uploader.chain.next(purchaseDraft('T-UP', k, 'P-1', 'A-1', 1))));
      // Every batch is sent at once (the chain orders them; any that arrives before its predecessor answers `gap` and is sent again below).
      const uploads = batches.map((b, i) => c.uploader.client!.upload(b).then((res) => (order.push(`upload ${i}`), res)));
      // Wait (by state, not by time) until the main pool is exhausted: MAIN_POOL transactions wait on the terminal's lock.
      for (;;) {
        const { rows } = await watch.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT * FROM terminals WHERE id = $1 FOR UPDATE%'`);
        if (rows[0].n >= MAIN_POOL) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const page = await c.reader.client!.feed(0, 100);
      order.push('feed read');
      expect(page.events.length).toBeGreaterThanOrEqual(0);
      expect(order).toEqual(['feed read']); // answered while every upload was still in progress
      await hold.query('COMMIT');
      const results = await Promise.all(uploads);
      expect(order).toHaveLength(1 + UPLOADS);
      // Each batch was applied or answered `gap` (sent before its predecessor committed); re-sending the gaps in order applies all.
      for (const [i, res] of results.entries()) {
        if (res.results.some((r) => r.status === 'gap')) await c.uploader.client!.upload(batches[i]!);
      }
      const head = (await c.srv.central.repo.getTerminal('T-UP'))!;
      expect(Number(head.head_seq)).toBe(1 + UPLOADS * BATCH); // the enrolment, then every purchase
    } finally {
      await hold.query('ROLLBACK').catch(() => undefined);
      await hold.end();
      await watch.end();
    }
  });
});

// The upload gate (http.ts, `--upload-slots`): a process works on a few uploads at once; the rest wait before any
// work is spent on them (no signature checked, no transaction begun, no connection taken), and /metrics shows them.
describe.skipIf(!PG_URL)('uploads beyond the slots wait their turn (PostgreSQL)', () => {
  const c = centreUnderTest({ uploadSlots: 1, poolMax: 4 });

  const uploadGauge = () => uploadGaugeOf(c.srv.url);

  it('with one slot, one batch is worked on while the others wait outside the database; a feed read is answered meanwhile; all apply after', async () => {
    const hold = new pg.Client({ connectionString: c.url });
    const watch = new pg.Client({ connectionString: c.url });
    await hold.connect();
    await watch.connect();
    try {
      await hold.query('BEGIN');
      await hold.query(`SELECT 1 FROM terminals WHERE id = 'T-UP' FOR UPDATE`);
      const batches = Array.from({ length: 3 }, () => Array.from({ length: 20 }, (_, k) => c.uploader.chain.next(purchaseDraft('T-UP', k, 'P-1', 'A-1', 1))));
      const uploads = batches.map((b) => c.uploader.client!.upload(b));
      for (const since = Date.now(); ; ) {
        const g = await uploadGauge();
        if (g.active === 1 && g.waiting === 2) break;
        if (Date.now() - since > 30_000) expect.fail(`the three uploads never stood one at work, two waiting: ${JSON.stringify(g)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Only the batch holding the slot reached the database: one transaction waits on the terminal's lock, not three.
      const { rows } = await watch.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT * FROM terminals WHERE id = $1 FOR UPDATE%'`);
      expect(rows[0].n).toBe(1);
      await c.reader.client!.feed(0, 100); // a read takes no slot
      expect(await uploadGauge()).toMatchObject({ active: 1, waiting: 2 });
      await hold.query('COMMIT');
      const results = await Promise.all(uploads);
      for (const [i, res] of results.entries()) {
        if (res.results.some((r) => r.status === 'gap')) await c.uploader.client!.upload(batches[i]!);
      }
      expect(Number((await c.srv.central.repo.getTerminal('T-UP'))!.head_seq)).toBe(1 + 3 * 20);
      expect(await uploadGauge()).toEqual({ active: 0, waiting: 0, refused: 0 });
    } finally {
      await hold.query('ROLLBACK').catch(() => undefined);
      await hold.end();
      await watch.end();
    }
  });
});

// The upload gate's queue has a bound (`--upload-queue`): each admitted upload holds its body in memory until it is
// answered, so past the bound one is turned away before its body is read, with 503 CENTRE_BUSY and Retry-After. The
// terminal's client takes a 5xx as a link failure (its outbox keeps the records and backs off), and the batch
// applies when sent again: nothing is lost.
describe.skipIf(!PG_URL)('a full upload queue turns uploads away, and they apply when sent again (PostgreSQL)', () => {
  const c = centreUnderTest({ uploadSlots: 1, uploadQueue: 1, poolMax: 4 });

  it('one at work, one waiting, the third answered 503 CENTRE_BUSY; all three apply after', async () => {
    const hold = new pg.Client({ connectionString: c.url });
    await hold.connect();
    try {
      await hold.query('BEGIN');
      await hold.query(`SELECT 1 FROM terminals WHERE id = 'T-UP' FOR UPDATE`);
      const batches = Array.from({ length: 3 }, () => Array.from({ length: 20 }, (_, k) => c.uploader.chain.next(purchaseDraft('T-UP', k, 'P-1', 'A-1', 1))));
      const first = [c.uploader.client!.upload(batches[0]!), c.uploader.client!.upload(batches[1]!)];
      for (const since = Date.now(); ; ) {
        const g = await uploadGaugeOf(c.srv.url);
        if (g.active === 1 && g.waiting === 1) break;
        if (Date.now() - since > 30_000) expect.fail(`the two uploads never stood one at work, one waiting: ${JSON.stringify(g)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // As the terminal's client sees it: a link failure, to be sent again later (not a refusal of its records).
      await expect(c.uploader.client!.upload(batches[2]!)).rejects.toMatchObject({ code: 'SYNC_LINK', message: expect.stringContaining('503') });
      // As any caller sees it, even one whose request could never authenticate: turned away before anything else.
      const raw = await fetch(`${c.srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'PalmPay T-UP:1:n:s' }, body: '{}' });
      expect(raw.status).toBe(503);
      expect(raw.headers.get('retry-after')).toBe('5');
      expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('CENTRE_BUSY');
      expect(await uploadGaugeOf(c.srv.url)).toEqual({ active: 1, waiting: 1, refused: 2 });
      await hold.query('COMMIT');
      const results = await Promise.all(first);
      for (const [i, res] of results.entries()) {
        if (res.results.some((r) => r.status === 'gap')) await c.uploader.client!.upload(batches[i]!);
      }
      const again = await c.uploader.client!.upload(batches[2]!);
      expect(again.results.map((r) => r.status)).not.toContain('gap'); // taken in its turn of the chain (ingest judges each record as usual)
      expect(Number((await c.srv.central.repo.getTerminal('T-UP'))!.head_seq)).toBe(1 + 3 * 20);
      // The slots and the queue are free again: an aborted or answered upload gives its place back.
      expect(await uploadGaugeOf(c.srv.url)).toMatchObject({ active: 0, waiting: 0 });
    } finally {
      await hold.query('ROLLBACK').catch(() => undefined);
      await hold.end();
    }
  });
});
