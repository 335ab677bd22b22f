// End to end (issue 17f), in Arabic, in the real `palmpay terminal --demo` (browser mode) driven by Chromium: a
// payer without a PIN is sent to a supervised counter by the bill flow; "Set PIN" (a supervisor's palm and PIN,
// then the payer's palm and the new PIN twice) sets one; the payer then pays the bill with it. At the (embedded)
// centre the pin_set is accepted, its verifier stored (never the PIN), and the bill paid once.
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
const SUBSCRIBER = '00246810'; // the demo's subscriber paid by emp-rojin, who has no PIN
const BILL = 'EH-2026-11-00246810';

let dataDir: string;
let profileDir: string;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
let k: ReturnType<typeof kioskPage>;
const pageErrors: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-pinset-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-pinset-profile-'));
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

async function startBill() {
  await k.tid('role-bill').click();
  await k.flowStep('bill', 'subscriber');
  await k.keypad('subscriber', SUBSCRIBER);
  await k.flowStep('bill', 'bills');
  await k.tid(`pay-${BILL}`).click();
  await k.flowStep('bill', 'palm');
  await api.present('emp-rojin');
}

describe('a payer’s PIN set at a supervised counter', () => {
  it('in Arabic: no PIN → told where to get one; Set PIN with a supervisor; the bill paid with the new PIN', { timeout: 240_000 }, async () => {
    expect(await page.locator('html').getAttribute('lang')).toBe('ar'); // Arabic is the default
    await k.signIn('op-cashier', '1234');
    await expect.poll(() => k.query<number>('terminal.db', `SELECT count(*) FROM bills WHERE subscriber = '${SUBSCRIBER}'`), { timeout: 60_000 }).toBe(1);
    expect(k.query<string | null>('terminal.db', `SELECT pin_hash FROM people WHERE person_id = 'emp-rojin'`)).toBeNull();

    // 1. The bill flow refuses a payer without a PIN and says where to get one.
    await startBill();
    await k.flowStep('bill', 'declined');
    expect(await k.tid('reason').getAttribute('data-reason')).toBe('pin-not-set');
    expect(await k.tid('reason').innerText()).toContain('بحضور مشرف');
    await k.tid('done').click();

    // 2. Set PIN: the supervisor first (the cashier's own palm is not taken), then the payer's palm, the PIN twice.
    await k.tid('role-pinSet').click();
    await k.flowStep('pinSet', 'override');
    expect(await k.tid('pin-set-explain').innerText()).toContain('المشرف');
    await api.present('op-super');
    await k.tid('override-pin-ok').waitFor();
    await k.keypad('override-pin', '9999');
    await k.flowStep('pinSet', 'palm');
    await api.present('emp-rojin');
    await k.flowStep('pinSet', 'pin');
    expect(await k.tid('pin-had').getAttribute('data-had')).toBe('0');
    // A trivial PIN is refused, and so are two different ones.
    await k.keypad('new-pin', '1234');
    await k.keypad('new-pin-again', '1234');
    await expect.poll(() => k.tid('input-error').getAttribute('data-error')).toBe('pin-trivial');
    await k.keypad('new-pin', '2580');
    await k.keypad('new-pin-again', '2581');
    await expect.poll(() => k.tid('input-error').getAttribute('data-error')).toBe('pin-mismatch');
    await k.keypad('new-pin', '2580');
    await k.keypad('new-pin-again', '2580');
    await k.flowStep('pinSet', 'done');
    const receipt = await k.tid('receipt').innerText();
    expect(receipt).toContain('عُيّن رمز سري جديد');
    await k.tid('done').click();
    // Stored on the counter as a scrypt verifier, sealed; never the PIN.
    expect(k.query<string>('terminal.db', `SELECT pin_hash FROM people WHERE person_id = 'emp-rojin'`)).toMatch(/^scrypt\$/);

    // 3. The bill, paid with the new PIN.
    await startBill();
    await k.flowStep('bill', 'pin');
    await k.keypad('pin', '2580');
    await page.locator('[data-testid="flow"][data-kind="bill"]:is([data-step="paid"], [data-step="declined"])').waitFor();
    expect((await k.tid('reason').count()) ? await k.tid('reason').getAttribute('data-reason') : 'paid').toBe('paid');
    expect(await k.tid('receipt').innerText()).toContain(BILL);
    await k.tid('done').click();

    // At the centre: the pin_set accepted with its approver and verifier, the bill paid once, nothing in review.
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT approved_by FROM customer_pins WHERE person_id = 'emp-rojin'`), { timeout: 60_000 }).toBe('op-super');
    expect(k.query<string>('centre.db', `SELECT pin_hash FROM customer_pins WHERE person_id = 'emp-rojin'`)).toMatch(/^scrypt\$/);
    await expect.poll(() => k.query<string | null>('centre.db', `SELECT status FROM bills WHERE bill_id = '${BILL}'`), { timeout: 60_000 }).toBe('paid');
    expect(k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });
});
