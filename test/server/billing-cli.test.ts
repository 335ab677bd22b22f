// The bill and settlement commands through the real CLI entry (main), on a temporary SQLite centre.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { findChromium } from '../../src/host/chromium.ts';
import { Central } from '../../src/server/service.ts';
import { runCli as run } from '../security/harness.ts';
import { registeredTerminal } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-billing-cli-'));
const db = `sqlite:${join(dir, 'centre.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';

it('registers and lists billers (--json), imports bills all or nothing with line errors, links subscribers', async () => {
  expect(await run('server', 'biller', 'add', '--db', db, '--id', 'elec-hasakah', '--name', 'Electricity Hasakah', '--region', 'hasakah')).toMatchObject({ code: 0, out: expect.stringMatching(/biller elec-hasakah/) });
  expect(await run('server', 'biller', 'add', '--db', db, '--id', 'elec-hasakah', '--name', 'x', '--region', 'r')).toMatchObject({ code: 1, err: expect.stringMatching(/already exists/) });
  const list = await run('server', 'biller', 'list', '--db', db, '--json');
  expect(JSON.parse(list.out)).toEqual([{ id: 'elec-hasakah', name: 'Electricity Hasakah', region: 'hasakah', created_at_ms: expect.any(Number) }]);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, `${HEADER}\nelec-hasakah,001,B-1,2026-11,100,SYP,2026-12-01,5,9\nelec-hasakah,001,B-2,2026-11,1.5,SYP,2026-12-01,5,9\n`);
  expect(await run('server', 'bills', 'import', bad, '--db', db)).toMatchObject({ code: 1, err: expect.stringMatching(/bill file refused, nothing imported \(1 error\): line 3: amount "1.5"/) });
  const good = join(dir, 'good.csv');
  writeFileSync(good, `${HEADER}\nelec-hasakah,001,B-1,2026-11,100,SYP,2026-12-01,5,9\n`);
  expect(await run('server', 'bills', 'import', good, '--db', db)).toMatchObject({ code: 0, out: expect.stringMatching(/imported 1 bills .*elec-hasakah=1/) });
  expect(await run('server', 'bills', 'import', good, '--db', db)).toMatchObject({ code: 1, err: expect.stringMatching(/line 2: bill B-1 of elec-hasakah was already imported/) });
  const bills = JSON.parse((await run('server', 'bills', 'list', '--db', db, '--json', '--status', 'open')).out) as unknown[];
  expect(bills).toEqual([expect.objectContaining({ biller: 'elec-hasakah', bill: 'B-1', subscriber: '001', amount_minor: 100, previous_reading: 5, current_reading: 9, status: 'open' })]);
  expect(await run('server', 'subscriber', 'link', '--db', db, '--biller', 'elec-hasakah', '--subscriber', '001', '--account', 'A1')).toMatchObject({ code: 0, out: expect.stringMatching(/may now pay/) });
  expect(await run('server', 'subscriber', 'link', '--db', db, '--biller', 'elec-hasakah', '--subscriber', '001', '--account', 'A1', '--person', 'P1')).toMatchObject({ code: 1, err: expect.stringMatching(/exactly one of --person or --account/) });
  expect(JSON.parse((await run('server', 'subscriber', 'list', '--db', db, '--json')).out)).toEqual([{ biller: 'elec-hasakah', subscriber: '001', payer_kind: 'account', payer_id: 'A1' }]);
  expect(await run('server', 'mandate', 'add', '--db', db, '--person', 'P404', '--biller', 'elec-hasakah', '--subscriber', '001', '--max', '100', '--currency', 'SYP')).toMatchObject({ code: 1, err: expect.stringMatching(/not a confirmed customer/) });
  expect(await run('server', 'mandate', 'add', '--db', db, '--person', 'P1', '--biller', 'elec-hasakah', '--subscriber', '001', '--max', '1.5', '--currency', 'SYP')).toMatchObject({ code: 1, err: expect.stringMatching(/--max is a whole number/) });
  expect(JSON.parse((await run('server', 'mandate', 'list', '--db', db, '--json')).out)).toEqual([]);
  expect(JSON.parse((await run('server', 'mandate', 'debits', '--db', db, '--json')).out)).toEqual([]);
});

it('settles a past day into signed files a participant verifies with the centre key; an edited file fails', async () => {
  const yesterday = Date.now() - 86_400_000;
  const date = new Date(yesterday).toISOString().slice(0, 10);
  const central = await Central.open(db, { now: () => yesterday });
  await central.creditAccount('A1', 12345, 'SYP');
  await central.close();
  expect(await run('server', 'settlement', '--db', db, '--date', new Date(Date.now() + 86_400_000).toISOString().slice(0, 10))).toMatchObject({ code: 1, err: expect.stringMatching(/has not ended yet/) });
  const out = join(dir, 'settle');
  const json = join(dir, 'settle.json');
  const r = await run('server', 'settlement', '--db', db, '--date', date, '--out', out, '--json', json);
  expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/total SYP: net 0/) });
  expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ date, fresh: true, totals: [{ currency: 'SYP', net_minor: 0 }] });
  const files = readdirSync(out).sort();
  expect(files).toEqual([`${date}-centre.csv`, `settlement-${date}.json`]);
  expect(statSync(join(out, files[1]!)).mode & 0o777).toBe(0o600);
  const key = (await run('server', 'settlement', 'key', '--db', db)).out.trim();
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(await run('server', 'settlement', 'verify', join(out, files[1]!), '--key', key, '--csv', join(out, files[0]!))).toMatchObject({ code: 0, out: expect.stringMatching(/signature valid.*1 CSV file\(s\) match/) });
  // Again: the same day, the same bytes.
  const before = files.map((f) => readFileSync(join(out, f), 'utf8'));
  expect(await run('server', 'settlement', '--db', db, '--date', date, '--out', out)).toMatchObject({ code: 0, out: expect.stringMatching(/as settled before/) });
  expect(files.map((f) => readFileSync(join(out, f), 'utf8'))).toEqual(before);
  writeFileSync(join(out, files[1]!), before[1]!.replace('12345', '12346'));
  expect(await run('server', 'settlement', 'verify', join(out, files[1]!), '--key', key)).toMatchObject({ code: 1, err: expect.stringMatching(/not signed by centre key/) });
});

it("prints a person's monthly report and writes its JSON and right-to-left HTML", async () => {
  const central = await Central.open(db);
  await registeredTerminal(central, 'T7', { branch: 'B7' });
  await central.importPayroll(['period,person,amount,currency,branch', '2026-11,E7,150000,SYP,B7'].join('\n'));
  await central.close();
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  const month = new Date().toISOString().slice(0, 7);
  const r = await run('server', 'report', 'E7', '--db', db, '--month', month, '--json', json, '--html', html, '--lang', 'ar');
  expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/salary:E7 SYP: opening 0.00\n.*salary 2026-11\t\+1,500.00/s) });
  expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ person: 'E7', month, accounts: [{ account: 'salary:E7', opening_minor: 0, closing_minor: 150000, fees_minor: 0 }] });
  expect(readFileSync(html, 'utf8')).toMatch(/dir="rtl"/);
  expect(await run('server', 'report', 'E7', '--db', db, '--month', month, '--lang', 'fr')).toMatchObject({ code: 1, err: expect.stringMatching(/--lang is one of en, ar, ku/) });
});

it('readings list and export (issue 17d): --json, and the CSV header for the biller even when nothing is new', async () => {
  expect(JSON.parse((await run('server', 'readings', 'list', '--db', db, '--biller', 'elec-hasakah', '--json')).out)).toEqual([]);
  expect(await run('server', 'readings', 'list', '--db', db)).toMatchObject({ code: 0, out: expect.stringMatching(/no readings/) });
  const out = join(dir, 'readings.csv');
  expect(await run('server', 'readings', 'export', '--db', db, '--biller', 'elec-hasakah', '--out', out)).toMatchObject({ code: 0, out: expect.stringMatching(/0 readings of elec-hasakah written/) });
  expect(readFileSync(out, 'utf8')).toBe('biller,subscriber,reading,last_reading,read_at,record,person,approved_by\n');
  expect(await run('server', 'readings', 'export', '--db', db)).toMatchObject({ code: 1 }); // --biller is required
});

// The PDF: the same printable page through headless Chromium; read back with pdftotext (poppler-utils) when installed.
const pdftotext = spawnSync('pdftotext', ['-v']).error ? null : 'pdftotext';
const browser = findChromium();
it.skipIf(!browser)("writes the person's report as a PDF in Arabic (right to left) and in English, with the closing balance", async () => {
  const month = new Date().toISOString().slice(0, 7);
  for (const lang of ['ar', 'en'] as const) {
    const pdf = join(dir, `report-${lang}.pdf`);
    const printed = await run('server', 'report', 'E7', '--db', db, '--month', month, '--pdf', pdf, '--lang', lang);
    expect(printed, printed.err).toMatchObject({ code: 0, out: expect.stringMatching(/PDF written to/) });
    const bytes = readFileSync(pdf);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.subarray(-1024).toString('latin1')).toMatch(/%%EOF\s*$/);
    expect(statSync(pdf).mode & 0o777).toBe(0o600);
    if (!pdftotext) continue;
    const text = spawnSync(pdftotext, ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('1,500.00'); // the closing balance of the salary account
    // Shaped Arabic words come back out of the PDF as text, in logical order (not isolated letters reversed).
    if (lang === 'ar') expect(text).toMatch(/الرصيد الختامي/);
    else expect(text).toMatch(/Closing balance/);
  }
}, 120_000);
