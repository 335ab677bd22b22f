// Clearing and settlement on both backends: a day's net positions sum to zero and match the ledger; a day is
// settled once (same files again), a late record goes to the next day with a note, and a settlement edited after
// signing, or a participant CSV that differs from the one signed, is refused by the participant's check.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSettlement } from '../../src/server/clearing/files.ts';
import { settleDay, settlementFileName, verifySettlement } from '../../src/server/clearing/settlement.ts';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const DAY = 86_400_000;
const CAMT_XSD = join(import.meta.dirname, '../../../shared/data/iso20022/camt.053.001.08.xsd');
if (!existsSync(CAMT_XSD)) console.warn(`${CAMT_XSD} is absent: the camt.053 schema validation is SKIPPED`);
const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];

describe.each(backends)('settlement on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  let t2: TestTerminal;
  // Today (UTC): enrolment records carry the real clock, and the centre refuses record times far from its own.
  let clock = Date.now();
  let D1 = clock - (clock % DAY);
  const day = (n: number) => new Date(D1 + n * DAY).toISOString().slice(0, 10);
  const dirs: string[] = [];

  beforeEach(async () => {
    if (skip) return;
    clock = Date.now();
    D1 = clock - (clock % DAY);
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url, { now: () => clock });
    t1 = await registeredTerminal(central, 'T1', { branch: 'B1', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' }, supervisors: ['sup'] });
    t2 = await registeredTerminal(central, 'T2', { branch: 'B2', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' } }); // the payout may be leased here
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A day of every kind of movement: deposits, payroll, a payout, purchases, a refund, a void, a bill payment. */
  async function busyDay(): Promise<void> {
    const billing = central.billing(() => clock);
    await enrolCustomer(central, t1, 'P1', 'A1');
    await central.creditAccount('A1', 1_000_000, 'SYP');
    await central.creditAccount('A1', 500, 'USD');
    await central.importPayroll(['period,person,amount,currency,branch', '2026-10,E1,300000,SYP,B1', '2026-10,E2,200000,SYP,B2'].join('\n'));
    const v = (await central.repo.tx((r) => r.voucherFor('E1', '2026-10')))!;
    await billing.addBiller({ id: 'elec', name: 'Electricity', region: 'R1' });
    await billing.importBills(['biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading', 'elec,001,B-1,2026-10,70000,SYP,2026-11-20,10,20'].join('\n'));
    await billing.link({ billerId: 'elec', subscriber: '001', payerKind: 'person', payerId: 'P1' });
    const holder = v.lease_terminal === 'T1' ? t1 : t2;
    const buy = (t: TestTerminal, id: string, amountMinor: number, currency: 'SYP' | 'USD' = 'SYP') =>
      t.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: id, customerId: 'P1', accountId: 'A1', amountMinor, currency, pinVerified: true, offline: false }, clock);
    const p1 = buy(t1, 'PU-1', 120000);
    const p2 = buy(t1, 'PU-2', 30000);
    const res = await central.ingest('T1', [
      p1, p2, buy(t1, 'PU-3', 100, 'USD'),
      t1.chain.next({ type: 'refund', operatorId: 'op', refundId: 'RF-1', originalPurchaseId: 'PU-1', originalTerminalId: 'T1', originalSeq: p1.seq, customerId: 'P1', accountId: 'A1', amountMinor: 20000, currency: 'SYP', approvedBy: 'sup', reason: 'returned' }, clock),
      t1.chain.next({ type: 'void', operatorId: 'op', voidId: 'VD-1', targetTerminalId: 'T1', targetSeq: p2.seq, targetType: 'purchase', targetId: 'PU-2', amountMinor: 30000, currency: 'SYP', approvedBy: 'sup', reason: 'mistake' }, clock),
      t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: 'PU-B1', customerId: 'P1', accountId: 'A1', amountMinor: 70000, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec', billRef: 'B-1' } }, clock),
    ]);
    expect(res.map((r) => r.status)).toEqual(Array(6).fill('accepted'));
    const payout = holder.chain.next({ type: 'salary_payout', operatorId: 'op', voucherId: v.id, leaseId: v.lease_id, personId: 'E1', accountId: 'E1', period: '2026-10', amountMinor: 300000, currency: 'SYP' }, clock);
    expect(await central.ingest(holder.id, [payout])).toMatchObject([{ status: 'accepted' }]);
  }

  it.skipIf(skip)('net positions sum to zero per currency and match the ledger, account by account', async () => {
    await busyDay();
    await expect(settleDay(central.repo, central.identity, day(0), clock)).rejects.toMatchObject({ code: 'SETTLEMENT_DAY_OPEN' });
    clock = D1 + DAY + 60_000;
    const s = await settleDay(central.repo, central.identity, day(0), clock);
    const { positions, totals } = s.file.body;
    expect(totals).toEqual([
      { currency: 'SYP', credit_minor: expect.any(Number), debit_minor: expect.any(Number), net_minor: 0 },
      { currency: 'USD', credit_minor: 600, debit_minor: 600, net_minor: 0 },
    ]);
    const net = (participant: string, currency = 'SYP') => positions.find((p) => p.participant === participant && p.currency === currency)?.net_minor;
    expect(net('biller:elec')).toBe(70000);
    expect(net('merchant:T1')).toBe(120000 - 20000); // PU-2 voided; the bill went to the biller, not the shop
    expect(net('merchant:T1', 'USD')).toBe(100);
    const payoutBranch = (await central.repo.tx((r) => r.voucherFor('E1', '2026-10')))!.branch;
    expect(net(`branch:${payoutBranch}`)).toBe(300000);
    expect(net('payroll:B1')).toBe(-300000);
    expect(net('payroll:B2')).toBe(-200000);
    expect(positions.map((p) => p.kind)).toEqual(expect.arrayContaining(['biller', 'branch_cash', 'merchant', 'employer_payroll', 'centre_accounts']));
    // Match the ledger: on a first settled day each participant's net is the balance of its accounts now.
    const balances = await central.repo.tx((r) => r.listBalances());
    const branches = new Map([['T1', 'B1'], ['T2', 'B2']]);
    const fromLedger = new Map<string, number>();
    for (const b of balances) {
      const [prefix, id] = b.account.split(':') as [string, string];
      const who = prefix === 'biller' || prefix === 'merchant' || prefix === 'payroll' ? b.account : prefix === 'cash' ? `branch:${branches.get(id)}` : 'centre';
      fromLedger.set(`${who} ${b.currency}`, (fromLedger.get(`${who} ${b.currency}`) ?? 0) + Number(b.balance));
    }
    expect(new Map(positions.map((p) => [`${p.participant} ${p.currency}`, p.net_minor]))).toEqual(new Map([...fromLedger].filter(([, v]) => v !== 0)));
    // Each participant's CSV holds exactly its postings, and they add up to its net.
    const merchantCsv = s.csvs.find((c) => c.participant === 'merchant:T1')!.text.trim().split('\r\n');
    expect(merchantCsv[0]).toBe('txn,time_utc,terminal,seq,record_hash,account,memo,currency,amount_minor');
    // The biller's payment file: the bill, the amount, the counter, the time and the receipt.
    const billFile = s.csvs.find((c) => c.name.endsWith('-biller_elec-bill-payments.csv'))!;
    expect(billFile.text.trim().split('\r\n')).toEqual(['bill,kind,amount_minor,currency,terminal,seq,time_utc,receipt,record_hash', expect.stringMatching(/^B-1,payment,70000,SYP,T1,7,[0-9T:.-]+Z,PU-B1,[0-9a-f]{64}$/)]);
    expect(s.file.body.files.map((f) => f.name)).toContain(billFile.name);
    expect(merchantCsv.slice(1).filter((l) => l.endsWith(',SYP,120000') || l.endsWith(',SYP,-20000') || l.endsWith(',SYP,30000') || l.endsWith(',SYP,-30000')).length).toBe(4);
  });

  it.skipIf(skip)('a day is settled once: again gives the same files; a late record goes to the next day with a note', async () => {
    await busyDay();
    clock = D1 + DAY + 60_000;
    const first = await settleDay(central.repo, central.identity, day(0), clock);
    const dirA = mkdtempSync(join(tmpdir(), 'palmpay-settle-'));
    const dirB = mkdtempSync(join(tmpdir(), 'palmpay-settle-'));
    dirs.push(dirA, dirB);
    writeSettlement(dirA, first);
    // A record made on the 3rd reaches the ledger only now (its batch was in flight at midnight).
    await central.creditAccount('A1', 5000, 'SYP'); // at clock: the 4th
    clock = D1 + DAY / 2; // a transaction stamped on the 3rd, committed after the 3rd was settled
    await central.creditAccount('A1', 777, 'SYP');
    clock = D1 + 2 * DAY + 60_000;
    const again = await settleDay(central.repo, central.identity, day(0), clock);
    expect(again.fresh).toBe(false);
    writeSettlement(dirB, again);
    expect(readdirSync(dirB).sort()).toEqual(readdirSync(dirA).sort());
    for (const f of readdirSync(dirA)) expect(readFileSync(join(dirB, f), 'utf8')).toBe(readFileSync(join(dirA, f), 'utf8'));
    const next = await settleDay(central.repo, central.identity, day(1), clock);
    expect(next.file.body.late).toEqual([expect.objectContaining({ recorded_on: day(0), note: expect.stringMatching(new RegExp(`settled with ${day(1)}`)) })]);
    expect(next.file.body.positions.find((p) => p.participant === 'centre')).toMatchObject({ credit_minor: 5777, debit_minor: 5777, net_minor: 0 });
  });

  it.skipIf(skip)('days are settled in order: a later day waits for an earlier one with transactions', async () => {
    await central.creditAccount('A9', 100, 'SYP');
    clock = D1 + 3 * DAY;
    await expect(settleDay(central.repo, central.identity, day(1), clock)).rejects.toMatchObject({ code: 'SETTLEMENT_EARLIER_DAY_OPEN', message: expect.stringMatching(new RegExp(day(0))) });
    await settleDay(central.repo, central.identity, day(0), clock);
    expect((await settleDay(central.repo, central.identity, day(1), clock)).file.body.positions).toEqual([]);
    await expect(settleDay(central.repo, central.identity, '2026-13-01', clock)).rejects.toMatchObject({ code: 'SETTLEMENT_DATE_INVALID' });
  });

  it.skipIf(skip)('a participant verifies the signed file and its CSV; an edit after signing, another key or another CSV is refused', async () => {
    await busyDay();
    clock = D1 + DAY + 60_000;
    const s = await settleDay(central.repo, central.identity, day(0), clock);
    const dir = mkdtempSync(join(tmpdir(), 'palmpay-settle-'));
    dirs.push(dir);
    writeSettlement(dir, s);
    const text = readFileSync(join(dir, settlementFileName(day(0))), 'utf8');
    const key = central.identity.publicKeyHex;
    const csv = s.csvs.find((c) => c.participant === 'biller:elec')!;
    expect(verifySettlement(text, key, [{ name: csv.name, text: readFileSync(join(dir, csv.name), 'utf8') }]).date).toBe(day(0));
    // The biller's net raised by one unit after signing.
    const edited = JSON.parse(text) as { body: { positions: Array<{ participant: string; net_minor: number }> } };
    edited.body.positions.find((p) => p.participant === 'biller:elec')!.net_minor += 1;
    expect(() => verifySettlement(JSON.stringify(edited), key)).toThrow(expect.objectContaining({ code: 'SETTLEMENT_FORGED' }));
    // Re-signed by someone else, with their key inside the file: the participant's pinned key refuses it.
    const { serverIdentity, newServerKeyPkcs8 } = await import('../../src/protocol/crypto.ts');
    expect(() => verifySettlement(text, serverIdentity(newServerKeyPkcs8()).publicKeyHex)).toThrow(expect.objectContaining({ code: 'SETTLEMENT_FORGED' }));
    expect(() => verifySettlement(text, key, [{ name: csv.name, text: csv.text.replace('70000', '70001') }])).toThrow(expect.objectContaining({ code: 'SETTLEMENT_FILE_MISMATCH' }));
    expect(() => verifySettlement('{"body":1}', key)).toThrow(expect.objectContaining({ code: 'SETTLEMENT_MALFORMED' }));
    // A ledger row changed under a settled day: the centre refuses to hand out the old signature with new numbers.
    await central.repo.tx((r) => r.conn.run(sql`UPDATE postings SET amount = amount + 1 WHERE account = 'biller:elec'`));
    await expect(settleDay(central.repo, central.identity, day(0), clock)).rejects.toMatchObject({ code: 'SETTLEMENT_LEDGER_CHANGED' });
  });
});

describe.each(backends)('camt.053 statements on %s', (kind) => {
  const skip = (kind === 'postgres' && !PG_URL) || !existsSync(CAMT_XSD);
  it.skipIf(skip)("each participant's statement validates against camt.053.001.08; opening + entries = closing, carried to the next day", async () => {
    const db = await tempDb(kind);
    let clock = Date.now();
    const D1 = clock - (clock % DAY);
    const day = (n: number) => new Date(D1 + n * DAY).toISOString().slice(0, 10);
    const central = await Central.open(db.url, { now: () => clock });
    try {
      const t1 = await registeredTerminal(central, 'T1', { branch: 'B1', region: 'R1', operators: { 'op-1': 'supervisor', op: 'cashier' }, supervisors: ['sup'] });
      await enrolCustomer(central, t1, 'P1', 'A1');
      await central.creditAccount('A1', 1_000_00, 'SYP');
      const billing = central.billing(() => clock);
      await billing.addBiller({ id: 'elec', name: 'Electricity & Light <Hasakah>', region: 'R1' });
      await billing.importBills(['biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading', 'elec,001,B-1,c1,12345,SYP,2026-12-31,1,2', 'elec,001,B-2,c2,5,SYP,2026-12-31,2,3'].join('\n'));
      await billing.link({ billerId: 'elec', subscriber: '001', payerKind: 'person', payerId: 'P1' });
      const pay = (ref: string, amountMinor: number) => t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: `PU-${ref}`, customerId: 'P1', accountId: 'A1', amountMinor, currency: 'SYP', pinVerified: true, offline: false, biller: { billerId: 'elec', billRef: ref } }, clock);
      expect(await central.ingest('T1', [pay('B-1', 12345), t1.chain.next({ type: 'purchase', operatorId: 'op', purchaseId: 'PU-x', customerId: 'P1', accountId: 'A1', amountMinor: 7, currency: 'SYP', pinVerified: true, offline: false }, clock)])).toMatchObject([{ status: 'accepted' }, { status: 'accepted' }]);
      clock = D1 + DAY + 1000;
      const first = await settleDay(central.repo, central.identity, day(0), clock);
      expect(await central.ingest('T1', [pay('B-2', 5)])).toMatchObject([{ status: 'accepted' }]);
      clock = D1 + 2 * DAY + 1000;
      const second = await settleDay(central.repo, central.identity, day(1), clock);
      const xsd = readFileSync(CAMT_XSD, 'utf8');
      const statements = [...first.csvs, ...second.csvs].filter((c) => c.name.endsWith('.camt053.xml'));
      expect(statements.map((c) => c.name).sort()).toEqual([`${day(0)}-biller_elec.camt053.xml`, `${day(0)}-merchant_T1.camt053.xml`, `${day(1)}-biller_elec.camt053.xml`].sort());
      for (const c of statements) {
        const v = await validateXML({ xml: { fileName: c.name, contents: c.text }, schema: { fileName: 'camt.053.001.08.xsd', contents: xsd } });
        expect(v.errors, c.name).toEqual([]);
        expect(v.valid).toBe(true);
      }
      const biller2 = second.csvs.find((c) => c.name === `${day(1)}-biller_elec.camt053.xml`)!.text;
      expect(biller2).toMatch(/<Cd>OPBD<\/Cd>\s*<\/CdOrPrtry>\s*<\/Tp>\s*<Amt Ccy="SYP">123.45<\/Amt>/);
      expect(biller2).toMatch(/<Cd>CLBD<\/Cd>\s*<\/CdOrPrtry>\s*<\/Tp>\s*<Amt Ccy="SYP">123.50<\/Amt>/);
      expect(second.file.body.positions.find((p) => p.participant === 'biller:elec')).toMatchObject({ opening_minor: 12345, net_minor: 5, closing_minor: 12350 });
      // A statement that breaks the schema is caught by the same check (the test can fail).
      const broken = biller2.replace('<CdtDbtInd>CRDT</CdtDbtInd>', '<CdtDbtInd>CREDIT</CdtDbtInd>');
      expect((await validateXML({ xml: { fileName: 'broken.xml', contents: broken }, schema: { fileName: 'camt.053.001.08.xsd', contents: xsd } })).valid).toBe(false);
    } finally {
      await central.close();
      await db.cleanup();
    }
  });
});
