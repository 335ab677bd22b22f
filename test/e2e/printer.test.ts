// End to end: the real `palmpay terminal --demo --test-hooks --printer serial:<pty>` in browser mode, driven by
// Debian's Chromium, with the virtual ESC/POS printer (test/support/virtual-printer.ts) on the other end of a socat
// pty. The status bar names the printer; a salary payout opens the drawer through the printer only after it is
// recorded; the receipt printed decodes to a picture; paper out is said on the receipt screen in Arabic and English,
// with the payment recorded and "print again" working once paper is loaded.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualPrinter, writePicturePng } from '../support/virtual-printer.ts';
import { HookClient } from './hooks.ts';
import { ROOT, startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results', 'printer');

let dataDir: string;
let profileDir: string;
let vp: VirtualPrinter;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
const pageErrors: string[] = [];

const tid = (id: string) => page.getByTestId(id);
const flowStep = (step: string, kind?: string) => page.locator(`[data-testid="flow"][data-step="${step}"]${kind ? `[data-kind="${kind}"]` : ''}`).waitFor();
const paid = (personId: string) => {
  const d = new Database(join(dataDir, 'terminal.db'), { readonly: true, fileMustExist: true });
  try {
    return d.prepare(`SELECT count(*) FROM journal WHERE type = 'salary_payout' AND party_id = ?`).pluck().get(personId) as number;
  } finally {
    d.close();
  }
};
async function keypad(id: string, digits: string) {
  for (const d of digits) await tid(`${id}-key-${d}`).click();
  await tid(`${id}-ok`).click();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-printer-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-printer-profile-'));
  mkdirSync(SHOTS, { recursive: true });
  vp = await VirtualPrinter.onPty();
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', dataDir, '--demo', '--test-hooks', '--printer', vp.spec], 150_000);
  api = await HookClient.open(terminal);
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1024, height: 768 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(terminal.url);
  await tid('signin').waitFor();
}, 240_000);

afterAll(async () => {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  await context?.close();
  api?.close();
  await terminal?.stop();
  await vp?.close();
  for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('receipt printer and cash drawer (ESC/POS on a pty)', () => {
  it('the console and the status bar name the printer', async () => {
    expect(terminal.output()).toContain(`printer: ESC/POS serial ${vp.spec.slice('serial:'.length)}`);
    expect(terminal.output()).not.toMatch(/PLACEHOLDER printer/);
    await expect.poll(() => tid('status-printer').getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
    expect(await tid('status-printer').innerText()).toContain('الطابعة');
  });

  it('Arabic: paid, drawer after the record, paper out said on screen, printed once paper is loaded', async () => {
    await tid('signin').waitFor();
    await api.present('op-cashier');
    await tid('login-pin-ok').waitFor();
    await keypad('login-pin', '1234');
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await api.present('emp-hevi');
    await flowStep('review');
    const pulses = vp.pulses.length;
    const atPulse: number[] = [];
    vp.onPulse(() => atPulse.push(paid('emp-hevi')));
    await tid('cash-confirmed').click();
    await flowStep('confirm');
    await expect.poll(() => vp.pulses.length, { timeout: 10_000 }).toBe(pulses + 1);
    expect(atPulse).toEqual([1]); // the payout was recorded when the drawer pulse reached the printer
    await api.present('emp-hevi');
    await flowStep('receipt');

    vp.paperOut = true;
    await tid('print').click();
    await expect.poll(() => tid('print-note').getAttribute('data-reason'), { timeout: 30_000 }).toBe('paper-out');
    const note = await tid('print-note').innerText();
    expect(note).toContain('نفد ورق الطابعة');
    expect(note).toContain('مسجّلة');
    await expect.poll(() => tid('status-printer').getAttribute('data-state'), { timeout: 10_000 }).toBe('paper-out');
    expect(await tid('print').innerText()).toContain('اطبع مجدداً');
    await page.screenshot({ path: join(SHOTS, 'ar-paper-out.png') });
    expect(paid('emp-hevi')).toBe(1);

    vp.paperOut = false;
    const next = vp.nextReceipt(60_000);
    await tid('print').click();
    const printed = await next;
    writePicturePng(join(SHOTS, 'e2e-receipt-ar.png'), printed.picture);
    expect(printed.picture.width).toBe(576);
    await expect.poll(() => tid('print-note').getAttribute('data-state'), { timeout: 30_000 }).toBe('printed');
    expect(await tid('print-note').innerText()).toContain('أُرسل إلى الطابعة');
    await expect.poll(() => tid('status-printer').getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
    await tid('done').click();
  }, 180_000);

  it('English: the cover open is said on screen; the payment stays recorded', async () => {
    await tid('lang-en').click();
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('en');
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await api.present('emp-karim');
    await flowStep('review');
    await tid('cash-confirmed').click();
    await flowStep('confirm');
    await api.present('emp-karim');
    await flowStep('receipt');
    vp.coverOpen = true;
    await tid('print').click();
    await expect.poll(() => tid('print-note').getAttribute('data-reason'), { timeout: 30_000 }).toBe('cover-open');
    expect(await tid('print-note').innerText()).toContain('The printer cover is open');
    await expect.poll(() => tid('status-printer').getAttribute('data-state'), { timeout: 10_000 }).toBe('cover-open');
    await page.screenshot({ path: join(SHOTS, 'en-cover-open.png') });
    expect(paid('emp-karim')).toBe(1);
    vp.coverOpen = false;
  }, 180_000);
});
