// End to end (issue 17), in Arabic, in the real `palmpay terminal --demo` (browser mode) driven by Chromium: a person
// is enrolled at the counter and chooses their own PIN there (a trivial one refused, then one typed twice). The
// terminal sends the record and then the templates; the (embedded) centre confirms the enrolment, stores the
// verifier (never the PIN) and sends the person back with it. Once the centre links the person to a subscriber and
// funds their account (`palmpay server subscriber link`, `palmpay server credit`), they pay that subscriber's bill
// with the PIN they chose — no visit to a supervised counter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookClient } from './hooks.ts';
import { kioskPage } from './kiosk-page.ts';
import { CLI, ROOT, startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SUBSCRIBER = '00246810'; // a demo subscriber with one bill due
const BILL = 'EH-2026-11-00246810';
const ACCOUNT = 'acc-reber-e2e';

let dataDir: string;
let profileDir: string;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
let k: ReturnType<typeof kioskPage>;
const pageErrors: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-enrolpin-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-enrolpin-profile-'));
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

/** An admin command at the demo's centre database, as an operator would run it. */
const centreCli = (...args: string[]) => execFileSync(process.execPath, [CLI, 'server', '--data', dataDir, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('a PIN chosen at enrolment', () => {
  it('in Arabic: enrolled with their own PIN, confirmed by the centre, the person pays a bill with it', { timeout: 300_000 }, async () => {
    expect(await page.locator('html').getAttribute('lang')).toBe('ar');
    await k.signIn('op-enrol', '5555');
    await k.tid('role-enrolment').click();
    await k.flowStep('enrolment', 'form');
    await k.tid('f-nameAr').fill('ريبر أحمد');
    await k.tid('f-nameLatin').fill('Rêber Ehmed');
    await k.tid('f-idNumber').fill('55667788');
    await k.tid('f-phone').fill('0933 777 888');
    await k.tid('f-accountId').fill(ACCOUNT);
    await k.tid('form-submit').click();
    await k.flowStep('enrolment', 'consent');
    await k.tid('consent-given').click();
    for (let i = 0; i < 6; i++) await api.present('new-reber');
    await k.flowStep('enrolment', 'review');
    await k.tid('capture-finish').click();

    // The PIN step: the person types their own PIN twice; a trivial one and two different ones are refused.
    await k.flowStep('enrolment', 'pin');
    expect(await k.tid('enrol-pin-explain').innerText()).toContain('رمزاً سرياً');
    await k.keypad('new-pin', '0000');
    await k.keypad('new-pin-again', '0000');
    await expect.poll(() => k.tid('input-error').getAttribute('data-error')).toBe('pin-trivial');
    await k.keypad('new-pin', '3917');
    await k.keypad('new-pin-again', '3918');
    await expect.poll(() => k.tid('input-error').getAttribute('data-error')).toBe('pin-mismatch');
    await k.keypad('new-pin', '3917');
    await k.keypad('new-pin-again', '3917');
    await k.flowStep('enrolment', 'enrolled');
    expect(await k.tid('enrol-pin').getAttribute('data-chosen')).toBe('1');
    expect(await k.tid('receipt').innerText()).toContain('اختار الشخص رمزاً سرياً');
    await k.tid('done').click();

    const personId = k.query<string>('terminal.db', `SELECT person_id FROM people WHERE name LIKE '%Rêber%'`);
    // Signed and stored as a scrypt verifier only: the PIN is nowhere in the record or the store.
    const body = k.query<string>('terminal.db', `SELECT body FROM journal WHERE type = 'enrolment' AND party_id = ?`, personId);
    expect(JSON.parse(body).pinHash).toMatch(/^scrypt\$32768\$/);
    expect(body).not.toContain('3917');

    // The centre gets the record, then the templates: it confirms the person and keeps the verifier.
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT status FROM persons WHERE id = ?`, personId), { timeout: 90_000 }).toBe('confirmed');
    expect(k.query<string>('centre.db', `SELECT pin_hash FROM customer_pins WHERE person_id = ?`, personId)).toBe(JSON.parse(body).pinHash);
    // …and the feed brings the confirmation back: the person is payable here.
    await expect.poll(() => k.query<string | null>('terminal.db', `SELECT status FROM people WHERE person_id = ?`, personId), { timeout: 90_000 }).toBe('active');

    // The centre lets the person pay the subscriber and funds the account; the feed brings both.
    centreCli('subscriber', 'link', '--biller', 'elec-hasakah', '--subscriber', SUBSCRIBER, '--person', personId);
    centreCli('credit', ACCOUNT, '50000000', 'SYP');
    await expect.poll(() => k.query<number>('terminal.db', `SELECT count(*) FROM subscriber_links WHERE payer_id = ?`, personId), { timeout: 120_000 }).toBe(1);
    await expect.poll(() => k.query<number>('terminal.db', `SELECT count(*) FROM offline_allowances WHERE customer_id = ?`, personId), { timeout: 120_000 }).toBeGreaterThan(0);

    // The bill, paid by the new person with the PIN they chose at enrolment.
    // The enroller locks the counter; the cashier signs in (an enroller does not take payments).
    await k.tid('lock').click();
    await k.tid('locked').waitFor();
    await k.tid('signin').waitFor();
    await k.signIn('op-cashier', '1234');
    await k.tid('role-bill').click();
    await k.flowStep('bill', 'subscriber');
    await k.keypad('subscriber', SUBSCRIBER);
    await k.flowStep('bill', 'bills');
    await k.tid(`pay-${BILL}`).click();
    await k.flowStep('bill', 'palm');
    await api.present('new-reber');
    await k.flowStep('bill', 'pin');
    await k.keypad('pin', '3917');
    await page.locator('[data-testid="flow"][data-kind="bill"]:is([data-step="paid"], [data-step="declined"])').waitFor();
    expect((await k.tid('reason').count()) ? await k.tid('reason').getAttribute('data-reason') : 'paid').toBe('paid');
    expect(await k.tid('receipt').innerText()).toContain(BILL);
    await k.tid('done').click();

    // At the centre: the bill paid once from the person's account, nothing in review.
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT status FROM bills WHERE bill_id = '${BILL}'`), { timeout: 90_000 }).toBe('paid');
    expect(k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });
});
