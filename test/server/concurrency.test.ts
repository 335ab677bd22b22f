// Several server processes on one PostgreSQL database (`palmpay server --workers 3`), terminals uploading at once,
// each batch sent twice at the same moment, customers paying at several counters, a forged payout, and a feed
// reader paging while it all happens. Afterwards the money invariants hold: no voucher paid twice, no account
// overdrawn, every transaction's postings balance, balances equal their postings, every chain intact and gapless,
// each record applied once, and the reader that paged during the load saw every event a fresh reader sees.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { CentreClient } from '../../src/sync/client.ts';
import type { SignedRecord } from '../../src/protocol/record.ts';
import type { RecordResult } from '../../src/protocol/schemas.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

const TERMINALS = 4;
const FUNDS = 1_000;
const PRICE = 400;

describe.skipIf(!PG_URL)('several server processes on one PostgreSQL database', () => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let server: ChildProcess | undefined;
  let url = '';
  const terminals: TestTerminal[] = [];

  beforeAll(async () => {
    const db = await tempDb('postgres');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    for (let i = 1; i <= TERMINALS; i++) terminals.push(await registeredTerminal(central, `T${i}`, { branch: 'B1', operators: { 'op-1': 'supervisor', op: 'paymaster' } }));
    for (const c of ['C1', 'C2', 'C3']) await enrolCustomer(central, terminals[0]!, c, `A-${c}`);
    await central.creditAccount('A-C1', FUNDS, 'SYP');
    await central.creditAccount('A-C2', FUNDS, 'SYP');
    const rows = Array.from({ length: 12 }, (_, i) => `2026-11,E${i + 1},${1000 + i},SYP,B1`);
    await central.importPayroll(['period,person,amount,currency,branch', ...rows].join('\n'));
    server = spawn(process.execPath, [join(import.meta.dirname, '../../bin/palmpay.js'), 'server', '--db', db.url, '--workers', '3', '--port', '0', '--pool', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${log}`)), 90_000);
      server!.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      server!.stderr!.on('data', (d: Buffer) => void (log += d.toString()));
      server!.on('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
    });
    for (const t of terminals) t.client = new CentreClient({ baseUrl: url, credentials: { terminalId: t.id, sign: (m) => t.signer.sign(m) } });
  }, 120_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await central?.close();
    await cleanup?.();
  }, 60_000);

  it('keeps the money invariants with terminals interleaved across processes', async () => {
    const vouchers = await central.repo.db.tx((c) => c.all<{ id: string; lease_terminal: string; lease_id: string; person_id: string; amount: number }>(sql`SELECT * FROM vouchers ORDER BY id`));
    // Each terminal: a purchase by C1 (only two of four fit its funds), one by C3 (no funds), its own payouts,
    // a payout of a voucher leased elsewhere (forged: review), purchases by C2 spread over all counters.
    const chains = new Map<string, SignedRecord[]>();
    terminals.forEach((t, i) => {
      const recs: SignedRecord[] = [];
      recs.push(t.chain.next(purchaseDraft(t.id, 1, 'C1', 'A-C1', PRICE)));
      recs.push(t.chain.next(purchaseDraft(t.id, 2, 'C3', 'A-C3', 10)));
      for (const v of vouchers.filter((x) => x.lease_terminal === t.id)) {
        recs.push(t.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: v.person_id, accountId: v.person_id, period: '2026-11', amountMinor: Number(v.amount), currency: 'SYP' }));
      }
      const foreign = vouchers.find((x) => x.lease_terminal !== t.id)!;
      recs.push(t.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: foreign.id, leaseId: foreign.lease_id, personId: foreign.person_id, accountId: foreign.person_id, period: '2026-11', amountMinor: Number(foreign.amount), currency: 'SYP' }));
      for (let k = 0; k < 5; k++) recs.push(t.chain.next(purchaseDraft(t.id, 10 + k, 'C2', 'A-C2', 30 + i)));
      chains.set(t.id, recs);
    });

    // A feed reader pages while the load runs.
    const reader = terminals[0]!;
    let stop = false;
    const seen = new Map<string, { seq: number; data: unknown }>();
    let cursor = 0;
    const readAll = async (from: number, into: Map<string, { seq: number; data: unknown }>) => {
      let c = from;
      for (;;) {
        const page = await reader.client!.feed(c, 50);
        // Templates are sealed afresh on every read and asOfSeq is the reader's head then: compare everything else.
        for (const e of page.events) into.set(`${e.kind}|${e.key}`, { seq: e.seq, data: { ...e.data, templates: undefined, asOfSeq: undefined } });
        c = page.cursor;
        if (!page.more) return c;
      }
    };
    const polling = (async () => {
      while (!stop) cursor = await readAll(cursor, seen);
    })();

    const results = new Map<string, RecordResult[]>();
    await Promise.all(
      terminals.map(async (t) => {
        const recs = chains.get(t.id)!;
        const out: RecordResult[] = [];
        for (let i = 0; i < recs.length; i += 3) {
          const batch = recs.slice(i, i + 3);
          // The same batch twice at once (a retry racing the original): each record is applied once. The retry is
          // a new request (2 ms later, so its signed time differs: the very same request would be refused as a replay).
          const [a, b] = await Promise.all([t.client!.upload(batch), new Promise((r) => setTimeout(r, 2)).then(() => t.client!.upload(batch))]);
          out.push(...a.results, ...b.results);
        }
        results.set(t.id, out);
      }),
    );
    stop = true;
    await polling;
    cursor = await readAll(cursor, seen);

    // Each record: exactly one applied outcome, the twin a duplicate of it.
    for (const [tid, out] of results) {
      const bySeq = new Map<number, string[]>();
      for (const r of out) bySeq.set(r.seq!, [...(bySeq.get(r.seq!) ?? []), r.status]);
      expect(bySeq.size, tid).toBe(chains.get(tid)!.length);
      for (const [seq, statuses] of bySeq) {
        expect(statuses.filter((s) => s === 'duplicate').length, `${tid}#${seq} ${statuses.join(',')}`).toBe(1);
        expect(statuses.filter((s) => s === 'accepted' || s === 'review').length, `${tid}#${seq}`).toBe(1);
      }
    }

    const q = <T>(f: ReturnType<typeof sql>) => central.repo.db.tx((c) => c.all<T>(f));
    // C1 could pay at two counters only; nobody is overdrawn.
    const c1 = await q<{ n: number }>(sql`SELECT COUNT(*) AS n FROM purchases WHERE account = 'A-C1'`);
    expect(Number(c1[0]!.n)).toBe(Math.floor(FUNDS / PRICE));
    const negative = await q(sql`SELECT account FROM balances WHERE account LIKE 'acct:%' AND balance < 0`);
    expect(negative).toEqual([]);
    expect(await central.repo.tx((r) => r.balance('acct:A-C3', 'SYP'))).toBe(0);
    // Every voucher paid exactly once, by its holder; the forged payouts moved nothing.
    const paid = await q<{ voucher: string; n: number }>(sql`SELECT redeemed_by AS voucher, COUNT(*) AS n FROM vouchers WHERE status = 'redeemed' GROUP BY redeemed_by`);
    expect(paid.length).toBe(vouchers.length);
    const payoutTxns = await q<{ memo: string; n: number }>(sql`SELECT memo, COUNT(*) AS n FROM txns WHERE memo LIKE 'salary payout%' GROUP BY memo`);
    expect(payoutTxns.length).toBe(vouchers.length);
    expect(payoutTxns.every((r) => Number(r.n) === 1)).toBe(true);
    // Postings balance per transaction, and each balance is the sum of its postings.
    expect((await central.repo.tx((r) => r.ledgerTotals())).unbalanced).toBe(0);
    const drift = await q(sql`
      SELECT b.account FROM balances b LEFT JOIN (SELECT account, currency, SUM(amount) AS s FROM postings GROUP BY account, currency) p
        ON p.account = b.account AND p.currency = b.currency WHERE b.balance <> COALESCE(p.s, 0)`);
    expect(drift).toEqual([]);
    // Every chain intact: gapless, each record linked to the one before, the head at the last.
    for (const t of terminals) {
      const rows = await central.repo.tx((r) => r.listRecords(t.id));
      const head = (await central.repo.tx((r) => r.getTerminal(t.id)))!;
      expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
      rows.forEach((r, i) => {
        if (i > 0) expect((JSON.parse(r.body) as { prevHash: string }).prevHash).toBe(rows[i - 1]!.hash);
      });
      expect(Number(head.head_seq)).toBe(rows.length);
      expect(head.head_hash).toBe(rows[rows.length - 1]!.hash);
    }
    // The reader that paged during the load holds the same latest state as one reading everything now.
    const fresh = new Map<string, { seq: number; data: unknown }>();
    await readAll(0, fresh);
    expect(fresh.size).toBeGreaterThan(0);
    for (const [k, v] of fresh) expect(seen.get(k), k).toEqual(v);
  }, 120_000);
});

describe.skipIf(!PG_URL)('races the global lock used to hide (PostgreSQL)', () => {
  it('one registration code activates one key, however many registrations race with it', async () => {
    const db = await tempDb('postgres');
    const central = await Central.open(db.url, { storage: { poolMax: 8 } });
    try {
      const { code } = await central.addTerminal({ id: 'T9', name: 'n', branch: 'B', region: 'R' });
      const { newEncKeyPair } = await import('../../src/protocol/crypto.ts');
      const { randomBytes } = await import('node:crypto');
      const { signerFromSecretKey } = await import('../../src/protocol/sign.ts');
      const keys = Array.from({ length: 6 }, () => Buffer.from(signerFromSecretKey(randomBytes(32)).publicKey).toString('hex'));
      const outcomes = await Promise.allSettled(keys.map((publicKey) => central.registerTerminal({ code, publicKey, encKey: newEncKeyPair().publicHex })));
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [keys[i]] : []));
      expect(won.length).toBe(1);
      expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason.code === 'REGISTRATION_CODE_INVALID')).toBe(true);
      expect((await central.repo.tx((r) => r.getTerminal('T9')))?.public_key).toBe(won[0]);
      // The same race, held open: the first registration waits between its read and its write.
      const { sha256Hex } = await import('../../src/protocol/crypto.ts');
      const second = await central.addTerminal({ id: 'T10', name: 'n', branch: 'B', region: 'R' });
      const claim = (key: string, pause: number) =>
        central.repo.tx(async (r) => {
          const t = await r.getTerminalByCode(sha256Hex(second.code));
          if (!t) return false;
          await new Promise((res) => setTimeout(res, pause));
          await r.activateTerminal(t.id, key, 'enc', '{}');
          return true;
        });
      const slow = claim('key-a', 300);
      await new Promise((res) => setTimeout(res, 100));
      expect(await Promise.all([slow, claim('key-b', 0)])).toEqual([true, false]);
    } finally {
      await central.close();
      await db.cleanup();
    }
  });
});

describe.skipIf(!PG_URL)('the palm index across server processes (PostgreSQL)', () => {
  // Two enrolments of one palm reaching two processes at about the same moment. Which outcome depends on timing
  // (under load either happens), but one invariant holds every time: never both confirmed. Either both go to
  // review as each other's duplicate (they raced), or the first is confirmed and the second is held as its
  // duplicate. The re-check on commit (enrolment-check.ts) is what guarantees it: whichever decision commits last
  // re-reads, with its row locked, every person stored since its index's position, so it sees the other.
  it('a process sees enrolments another confirmed, and two enrolments of one palm at once are never both confirmed', async () => {
    const db = await tempDb('postgres');
    const a = await Central.open(db.url);
    const b = await Central.open(db.url);
    try {
      await Promise.all([a.startIndex(50), b.startIndex(50)]);
      const ta = await registeredTerminal(a, 'TA');
      const tb = await registeredTerminal(a, 'TB');
      const { createHash } = await import('node:crypto');
      await enrolCustomer(a, ta, 'P1', 'A1');
      // Process B learns of P1 from the change log alone.
      for (let i = 0; i < 100 && b.palmIndex.stats().persons < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(b.palmIndex.stats().persons).toBe(1);
      const rowA = (await a.repo.tx((r) => r.getTerminal('TA')))!;
      const rowB = (await b.repo.tx((r) => r.getTerminal('TB')))!;
      const outcomes = new Set<string>();
      // A process whose index lags behind the change log (its poller's read began before the other enrolment was
      // stored): then only the re-check on commit can see the twin. Freezing both indexes makes that race certain.
      const lagging = (on: boolean) => {
        for (const c of [a, b]) {
          if (on) c.palmIndex.catchUp = async () => undefined;
          else delete (c.palmIndex as { catchUp?: unknown }).catchUp; // back to the class's own method
        }
      };
      // Rounds with the second upload a little later each time: at once, overlapping, one after the other; and
      // rounds with both indexes lagging.
      const rounds: Array<{ delay: number; lag?: true }> = [0, 0, 0, 1, 2, 3, 5, 8, 13, 21, 40, 80].map((delay) => ({ delay }));
      rounds.push({ delay: 0, lag: true }, { delay: 0, lag: true }, { delay: 5, lag: true }, { delay: 40, lag: true });
      for (const [round, { delay, lag }] of rounds.entries()) {
        // One palm captured at two counters: two sessions' live captures (matched, not byte-equal).
        const [palmA, palmB] = [enrolmentBytes(`palm ${round}`, 'left', 0), enrolmentBytes(`palm ${round}`, 'left', 1)];
        const [first, second] = [`F${round}`, `S${round}`];
        const record = (t: TestTerminal, personId: string, palm: Buffer) => t.chain.next({
          type: 'enrolment', operatorId: 'op-1', enrolmentId: `E-${personId}`, personId, person: { name: 'N', idNumber: 'X', accountId: `A-${personId}` },
          templateDigests: [createHash('sha256').update(palm).digest('hex')], hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
        });
        // Both signed records are in; the templates then arrive at the two processes (the same palm at two counters).
        await a.ingest('TA', [record(ta, first, palmA)]);
        await b.ingest('TB', [record(tb, second, palmB)]);
        lagging(lag === true);
        const later = new Promise((r) => setTimeout(r, delay)).then(() => b.uploadTemplates(rowB, second, [palmB.toString('base64')]));
        const [x, y] = await Promise.all([a.uploadTemplates(rowA, first, [palmA.toString('base64')]), later]).finally(() => lagging(false));
        const pf = (await a.repo.tx((r) => r.getPerson(first)))!;
        const ps = (await a.repo.tx((r) => r.getPerson(second)))!;
        const what = `round ${round} (+${delay} ms${lag ? ', indexes lagging' : ''}): ${JSON.stringify([x, y])}`;
        // What each upload answered is what was stored.
        expect([x.status, y.status], what).toEqual([pf.status, ps.status]);
        const reviews = (await a.reviewList()).filter((r) => r.kind === 'enrolment' && ((r.terminal_id === 'TA' && Number(r.seq) === Number(pf.seq)) || (r.terminal_id === 'TB' && Number(r.seq) === Number(ps.seq))));
        const confirmed = [pf, ps].filter((p) => p.status === 'confirmed');
        expect(confirmed.length, what).toBeLessThan(2);
        if (confirmed.length === 1) {
          const [winner, held] = confirmed[0] === pf ? [pf, ps] : [ps, pf];
          expect(held.status, what).toBe('duplicate_review');
          expect(held.duplicate_of, what).toBe(winner.id);
          expect(winner.duplicate_of, what).toBeNull();
          expect(reviews.length, what).toBe(1);
          outcomes.add('one confirmed, one held');
        } else {
          expect([pf.status, ps.status], what).toEqual(['duplicate_review', 'duplicate_review']);
          expect([pf.duplicate_of, ps.duplicate_of], what).toEqual([second, first]);
          expect(reviews.length, what).toBe(2);
          outcomes.add('both in review');
        }
      }
      // Sent one after the other, the second of a pair always meets a confirmed first.
      expect(outcomes.has('one confirmed, one held')).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await db.cleanup();
    }
  }, 120_000);
});

describe.skipIf(!PG_URL)('batches paying bills at once (PostgreSQL)', () => {
  // Two counters pay the same bills in opposite orders, at the same moment. Their customers differ and the biller is
  // new (no balance row to queue on yet), so only the bill rows are shared: locked as met, batch 1 holds bill 1 and
  // waits for bill 6 while batch 2 holds bill 6 and waits for bill 1. The centre locks every bill a batch pays up
  // front, sorted, before the balances; with retries off here, a deadlock would fail the upload.
  it('never deadlocks, and each bill is paid once', async () => {
    const db = await tempDb('postgres');
    const central = await Central.open(db.url, { storage: { poolMax: 6, maxAttempts: 1 } });
    try {
      const billing = central.billing();
      const t1 = await registeredTerminal(central, 'T1', { branch: 'B1', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' } });
      const t2 = await registeredTerminal(central, 'T2', { branch: 'B2', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' } });
      await enrolCustomer(central, t1, 'P1', 'A1');
      await enrolCustomer(central, t1, 'P2', 'A2');
      await central.creditAccount('A1', 10_000_000, 'SYP');
      await central.creditAccount('A2', 10_000_000, 'SYP');
      const ROUNDS = 12;
      const BILLS = 6;
      const pay = (t: TestTerminal, who: { customerId: string; accountId: string }, billerId: string, billRef: string) =>
        t.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: `PUR-${t.id}-${billerId}-${billRef}`, ...who, amountMinor: 1_000, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId, billRef } });
      for (let round = 0; round < ROUNDS; round++) {
        const biller = `elec-${round}`;
        await billing.addBiller({ id: biller, name: `Electricity ${round}`, region: 'R1' });
        const ids = Array.from({ length: BILLS }, (_, i) => `B-${i + 1}`);
        await billing.importBills(['biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading', ...ids.map((id) => `${biller},00123456,${id},2026-11,1000,SYP,2026-12-15,1,2`)].join('\n'));
        for (const payerId of ['P1', 'P2']) await billing.link({ billerId: biller, subscriber: '00123456', payerKind: 'person', payerId });
        const up = ids.map((id) => pay(t1, { customerId: 'P1', accountId: 'A1' }, biller, id));
        const down = [...ids].reverse().map((id) => pay(t2, { customerId: 'P2', accountId: 'A2' }, biller, id));
        const [r1, r2] = await Promise.all([central.ingest('T1', up), central.ingest('T2', down)]);
        // Each bill: one payment accepted, the other in review as already paid.
        const accepted = [...r1, ...r2].filter((r) => r.status === 'accepted').length;
        expect(accepted, `round ${round}`).toBe(BILLS);
        expect([...r1, ...r2].filter((r) => r.status === 'review').every((r) => /BILL_ALREADY_PAID/.test(r.reason ?? ''))).toBe(true);
        const bills = await billing.listBills({ billerId: biller });
        expect(bills.map((b) => b.status)).toEqual(ids.map(() => 'paid'));
        expect(await central.repo.tx((r) => r.balance(`biller:${biller}`, 'SYP'))).toBe(BILLS * 1_000); // credit positive
      }
      expect(central.repo.db.stats().retries).toBe(0);
      expect(await central.repo.tx((r) => r.balance('acct:A1', 'SYP')) + (await central.repo.tx((r) => r.balance('acct:A2', 'SYP')))).toBe(20_000_000 - ROUNDS * BILLS * 1_000);
    } finally {
      await central.close();
      await db.cleanup();
    }
  }, 120_000);
});
