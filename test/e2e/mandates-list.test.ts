// End to end (issue 17): "My mandates" at the counter, in the real `palmpay terminal --demo` (browser mode) driven by
// Chromium. A person's mandate signed at this counter (in Kurdish) is listed for them in Arabic after their palm and
// PIN — biller, subscriber, maximum per bill — and ended from the list with no number typed; the centre records it
// ended. Afterwards, in English, the list is empty. Nothing is listed before the PIN holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookClient } from './hooks.ts';
import { kioskPage } from './kiosk-page.ts';
import { startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SUBSCRIBER = '00123456'; // a demo subscriber paid by emp-ahmad (PIN 4321)

let dataDir: string;
let profileDir: string;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
let k: ReturnType<typeof kioskPage>;
const pageErrors: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-mymandates-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-mymandates-profile-'));
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', dataDir, '--demo', '--test-hooks'], 150_000);
  api = await HookClient.open(terminal);
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  k = kioskPage(page, api, dataDir);
  await page.goto(terminal.url);
  await k.tid('signin').waitFor();
}, 240_000);

afterAll(async () => {
  api?.close();
  await context?.close();
  await terminal?.stop();
  for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

/** "My mandates": the person's palm, then their PIN, then the list. */
async function myMandates() {
  await k.tid('role-mandate').click();
  await k.flowStep('mandate', 'mode');
  await k.tid('mode-mine').click();
  await k.flowStep('mandate', 'palm');
  await api.present('emp-ahmad');
  await k.flowStep('mandate', 'pin');
  await k.keypad('pin', '4321');
  await k.flowStep('mandate', 'list');
}

describe('a person’s mandates at the counter', () => {
  it('ku: signed; ar: listed after palm + PIN and ended from the list; en: the list is empty', { timeout: 300_000 }, async () => {
    await k.signIn('op-cashier', '1234');
    await expect.poll(() => k.query<number>('terminal.db', 'SELECT count(*) FROM bills'), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);

    // Signed in Kurdish (the flow of issue 17d).
    await k.tid('lang-ku').click();
    await k.tid('role-mandate').click();
    await k.tid('mode-sign').click();
    await k.keypad('subscriber', SUBSCRIBER);
    await k.flowStep('mandate', 'terms');
    await k.keypad('max', '30000');
    await k.flowStep('mandate', 'palm');
    await api.present('emp-ahmad');
    await k.flowStep('mandate', 'pin');
    await k.keypad('pin', '4321');
    await k.flowStep('mandate', 'done');
    await k.tid('done').click();
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = ?`, SUBSCRIBER), { timeout: 60_000 }).toBe('active');

    // In Arabic: listed with biller, subscriber and maximum per bill, then ended from the list.
    await k.tid('lang-ar').click();
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('ar');
    await myMandates();
    const row = k.tid(`held-${SUBSCRIBER}`);
    expect(await row.getAttribute('data-biller')).toBe('elec-hasakah');
    const text = await row.innerText();
    expect(text).toContain('elec-hasakah');
    expect(text).toContain('٠٠١٢٣٤٥٦'); // the subscriber number in Arabic-Indic digits
    expect(text).toMatch(/٣٠[٬,]?٠٠٠/); // the maximum per bill
    expect(await k.tid('mandates').innerText()).toContain('الحد الأقصى');
    await k.tid(`end-${SUBSCRIBER}`).click();
    await k.flowStep('mandate', 'done');
    expect(await k.tid('approved').innerText()).toContain('التفويض');
    await k.tid('done').click();
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = ?`, SUBSCRIBER), { timeout: 60_000 }).toBe('cancelled');
    expect(k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);

    // In English: nothing left to list.
    await k.tid('lang-en').click();
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('en');
    await myMandates();
    expect(await k.tid('mandates-empty').innerText()).toContain('No mandate');
    expect(await k.tid(`held-${SUBSCRIBER}`).count()).toBe(0);
    await k.tid('done').click();
  });
});
