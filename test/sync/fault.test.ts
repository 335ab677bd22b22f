// Acceptance: three terminals push 10,000 signed records through a proxy injecting 20 % faults (drops, delays,
// resets mid-response, 500s, lost answers, duplicate and late deliveries) while the centre restarts twice.
// At the end the centre's ledger equals the union of the terminal journals: no loss, no duplicate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, type Sync } from '../../src/sync/index.ts';
import { startFaultProxy } from '../../src/sync/fault-proxy.ts';
import { appendToStore, purchaseDraft } from '../../bench/sync/loadgen.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-fault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CUSTOMERS = 10;
const FUNDS = 1_000_000_000;

it('3 terminals × 20 % faults × 2 centre restarts: centre ledger = union of terminal journals', async () => {
  await faultRun(`sqlite:${join(dir, 'centre.db')}`, 10_000, 'sqlite');
}, 150_000);

it.skipIf(!PG_URL)('the same on PostgreSQL (3,000 records)', async () => {
  const db = await tempDb('postgres');
  try {
    await faultRun(db.url, 3000, 'pg');
  } finally {
    await db.cleanup();
  }
}, 150_000);

async function faultRun(dbUrl: string, TOTAL: number, label: string): Promise<void> {
  let server: RunningServer = await startServer({ db: dbUrl, port: 0 });
  const port = server.port;
  const central = () => server.central;

  // Customers enrolled and funded by a set-up terminal that is not part of the comparison.
  const setup = await registeredTerminal(central(), 'T0');
  for (let c = 1; c <= CUSTOMERS; c++) {
    await enrolCustomer(central(), setup, `P${c}`, `A${c}`);
    await central().creditAccount(`A${c}`, FUNDS, 'SYP');
  }

  const proxy = await startFaultProxy({ target: server.url, faultRate: 0.2, seed: 2026 });
  const rand = mulberry32(42);
  const terminals: Array<{ t: TestTerminal; store: Store; sync: Sync }> = [];
  for (let k = 1; k <= 3; k++) {
    const t = await registeredTerminal(central(), `T${k}`, { url: server.url });
    const store = openStore(join(dir, `${label}-terminal-${k}.db`));
    const n = k === 1 ? TOTAL - 2 * Math.floor(TOTAL / 3) : Math.floor(TOTAL / 3);
    const recs = Array.from({ length: n }, (_, i) => {
      const c = 1 + Math.floor(rand() * CUSTOMERS);
      return t.chain.next(purchaseDraft(t.id, i, `P${c}`, `A${c}`, 1 + Math.floor(rand() * 500)));
    });
    appendToStore(store, recs);
    const sync = createSync({
      store, serverUrl: proxy.url, signer: t.signer, terminalId: t.id, batchSize: 60, requestTimeoutMs: 5000,
      backoff: { baseMs: 50, maxMs: 800, factor: 2 }, feedIntervalMs: 3_600_000,
    });
    terminals.push({ t, store, sync });
  }

  const started = Date.now();
  const acknowledged = () => terminals.reduce((s, x) => s + x.sync.status().sent, 0);
  for (const x of terminals) x.sync.start();

  // Restart the centre twice, at about a third and two thirds of the run.
  let restarts = 0;
  for (const mark of [TOTAL / 3, (2 * TOTAL) / 3]) {
    while (acknowledged() < mark) await new Promise((r) => setTimeout(r, 20));
    await server.close();
    await new Promise((r) => setTimeout(r, 300)); // the centre is down: terminals see the link fail
    server = await startServer({ db: dbUrl, port });
    restarts++;
  }
  await Promise.all(terminals.map((x) => x.sync.drained(100_000)));
  const seconds = (Date.now() - started) / 1000;
  for (const x of terminals) await x.sync.stop();
  await proxy.close(); // waits for late (reordered) deliveries to land

  // Compare the centre with the journals.
  let journalRecords = 0;
  let centreRecords = 0;
  const expectedMerchant = new Map<string, number>();
  const expectedSpent = new Map<string, number>();
  for (const { t, store } of terminals) {
    const journal = [...store.journal.iterate()];
    const stored = await central().repo.tx((r) => r.listRecords(t.id));
    journalRecords += journal.length;
    centreRecords += stored.length;
    expect(stored.map((r) => [Number(r.seq), r.hash])).toEqual(journal.map((j) => [j.seq, j.hash]));
    expect(stored.every((r) => r.status === 'accepted')).toBe(true);
    for (const j of journal) {
      expectedMerchant.set(t.id, (expectedMerchant.get(t.id) ?? 0) + j.amountMinor!);
      const acct = (JSON.parse(j.body) as { accountId: string }).accountId;
      expectedSpent.set(acct, (expectedSpent.get(acct) ?? 0) + j.amountMinor!);
    }
    expect(store.outbox.stats()).toEqual({ pending: 0, inFlight: 0, nextAttemptAtMs: null }); // acknowledged rows leave the outbox
  }
  const ledger = await central().repo.tx(async (r) => {
    const merchants = new Map((await r.listBalances('merchant:')).map((b) => [b.account.slice('merchant:'.length), Number(b.balance)]));
    const accounts = new Map((await r.listBalances('acct:')).map((b) => [b.account.slice('acct:'.length), Number(b.balance)]));
    return { merchants, accounts, totals: await r.ledgerTotals() };
  });
  expect(ledger.merchants).toEqual(expectedMerchant);
  for (const [acct, spent] of expectedSpent) expect(ledger.accounts.get(acct)).toBe(FUNDS - spent);
  expect(ledger.totals.unbalanced).toBe(0);
  // one transaction per customer enrolment-free funding + one per purchase
  expect(ledger.totals.txns).toBe(CUSTOMERS + TOTAL);

  const faults = Object.entries(proxy.stats.faults).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(
    `fault run (${label}): terminals=3 journal_records=${journalRecords} centre_records=${centreRecords} ledger_txns=${ledger.totals.txns} ` +
      `unbalanced=${ledger.totals.unbalanced} restarts=${restarts} requests=${proxy.stats.requests} fault_rate=${(Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0) / proxy.stats.requests).toFixed(3)} upstream_down=${proxy.stats.upstreamDown} ` +
      `faults: ${faults} seconds=${seconds.toFixed(1)}`,
  );
  expect(journalRecords).toBe(TOTAL);
  expect(centreRecords).toBe(TOTAL);
  expect(restarts).toBe(2);
  // the run really was faulty, including the faults that test de-duplication (answer lost, delivered twice or late)
  const f = proxy.stats.faults;
  expect(Object.values(f).reduce((a, b) => a + b, 0)).toBeGreaterThan(0.15 * proxy.stats.requests);
  expect(f.lost_response + f.duplicate + f.reorder + f.reset_mid_response).toBeGreaterThan(0);
  await server.close();
  for (const x of terminals) x.store.close();
}
