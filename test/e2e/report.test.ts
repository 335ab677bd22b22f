// End to end (issue 17): the person's financial report at the counter, in Arabic, in the real `palmpay terminal
// --demo` (browser mode) driven by headless Chromium. The person is whoever the palm and their own PIN prove (no
// person id is typed); the month is chosen; the report comes from the demo's embedded centre and its closing balance
// is the centre's ledger balance; it prints on the receipt printer; with the link cut it says the centre cannot be
// reached, and comes back with the link. Also the subscriber links in the feed: a payer not linked to a subscriber
// number is refused at the counter before the PIN.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookClient } from './hooks.ts';
import { startTerminal, type RunningTerminal } from './spawn-terminal.ts';
import { DEMO_SUBSCRIBERS } from '../../src/host/demo/centre-seed.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dataDir: string;
let profileDir: string;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
const pageErrors: string[] = [];

function query<T>(file: string, sql: string, ...args: unknown[]): T {
  const d = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
  try {
    return d.prepare(sql).pluck().get(...args) as T;
  } finally {
    d.close();
  }
}
const tid = (id: string) => page.getByTestId(id);
const flowStep = (kind: string, step: string) => page.locator(`[data-testid="flow"][data-kind="${kind}"][data-step="${step}"]`).waitFor();
async function keypad(id: string, digits: string) {
  for (const d of digits) await tid(`${id}-key-${d}`).click();
  await tid(`${id}-ok`).click();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-report-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-report-profile-'));
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', dataDir, '--demo', '--test-hooks'], 150_000);
  api = await HookClient.open(terminal);
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(terminal.url);
  await tid('signin').waitFor();
}, 240_000);

afterAll(async () => {
  api?.close();
  await context?.close();
  await terminal?.stop();
  for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

describe('the financial report at the counter', () => {
  it('in Arabic: palm + month + own PIN → the centre’s report with its closing balance, printed; link down → unreachable', { timeout: 180_000 }, async () => {
    await tid('lang-ar').click();
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    await api.present('op-cashier');
    await tid('login-pin-ok').waitFor();
    await keypad('login-pin', '1234');
    // The subscriber links arrive with the first feed from the demo centre (one per demo subscriber).
    await expect.poll(() => query<number>('terminal.db', 'SELECT count(*) FROM subscriber_links WHERE seal IS NOT NULL'), { timeout: 60_000 }).toBe(DEMO_SUBSCRIBERS.length);

    await tid('role-report').click();
    await flowStep('report', 'palm');
    await api.present('emp-ahmad');
    await flowStep('report', 'month');
    const month = new Date().toISOString().slice(0, 7);
    await tid(`month-${month}`).click();
    await flowStep('report', 'pin');
    await keypad('pin', '4321');
    await flowStep('report', 'shown');
    const centreBalance = query<number>('centre.db', `SELECT balance FROM balances WHERE account = 'acct:acc-emp-ahmad' AND currency = 'SYP'`);
    expect(centreBalance).toBeGreaterThan(0);
    const closing = tid('report-closing').first();
    expect(Number(await closing.getAttribute('data-minor'))).toBe(centreBalance);
    const text = await page.locator('[data-testid="flow"][data-kind="report"]').innerText();
    expect(text).toContain('الرصيد الختامي');
    expect(text).toContain('الرصيد الافتتاحي');
    expect(text).toContain('إيداع'); // the demo deposit, a movement with its kind in Arabic
    expect(await tid('report-row').first().getAttribute('data-sign')).toBe('1');
    expect(await tid('report-row').first().locator('.money').innerText()).toMatch(/^\+/);

    await tid('print').click();
    await expect.poll(async () => tid('print-note').getAttribute('data-state'), { timeout: 60_000 }).toBe('printed');
    // The demo's printer is receipts.log: the report went to it, named by person and month (no record number).
    const printed = readFileSync(join(dataDir, 'receipts.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { recordId: string });
    expect(printed.at(-1)?.recordId).toBe(`report:emp-ahmad:${month}`);

    // The link cut: the report comes from the centre only, and the screen says so; back with the link.
    await api.fault({ linkUp: false });
    await tid('other-month').click();
    await flowStep('report', 'month');
    await tid(`month-${month}`).click();
    await flowStep('report', 'pin'); // the counter did not keep the PIN
    await keypad('pin', '4321');
    await flowStep('report', 'refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('centre-unreachable');
    await api.fault({ linkUp: true });
    await tid('retry').click();
    await flowStep('report', 'month');
    await tid(`month-${month}`).click();
    await flowStep('report', 'pin');
    await keypad('pin', '4321');
    await flowStep('report', 'shown');
    await tid('done').click();
    // The centre checked the PIN for each request that reached it and logged who read the report; every request,
    // the one the cut link lost too, is a signed record in the counter's journal.
    expect(query<number>('centre.db', `SELECT count(*) FROM report_access WHERE person_id = 'emp-ahmad' AND operator_id = 'op-cashier' AND outcome = 'served'`)).toBe(2);
    expect(query<number>('terminal.db', `SELECT count(*) FROM journal WHERE type = 'report_request'`)).toBe(3);
  });

  it('a payer the centre did not link to the subscriber number is refused before the PIN', { timeout: 120_000 }, async () => {
    await tid('role-bill').click();
    await flowStep('bill', 'subscriber');
    await keypad('subscriber', '00654321'); // linked to emp-hevi, not emp-ahmad
    await flowStep('bill', 'bills');
    await tid('pay-all').click();
    await flowStep('bill', 'palm');
    await api.present('emp-ahmad');
    await flowStep('bill', 'declined');
    expect(await tid('reason').getAttribute('data-reason')).toBe('not-linked');
    expect(await tid('pin-ok').count()).toBe(0);
    await tid('done').click();
  });
});
