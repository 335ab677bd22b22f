// The counter tablet (issue 18), in Chromium on the real `palmpay terminal --demo --test-hooks`: every step of
// every flow, in Arabic and in Kurmanji, at 1024×768, 1280×800 and 800×1280 — the primary action inside the
// viewport, no horizontal scroll, the header on one line, every touch target at least 44 px. Along the way the
// words, numbers and honest screens of the issue: lock screen and palm sign-in, greyed tiles saying who can,
// Syrian month names and periods, pounds without piastres, void "إبطال" never "إلغاء", names in the screen's
// script, the supervisor named on the receipt, the cash count selecting on focus, "continue without confirmation"
// on the receipt, print feedback and COPY on a reprint, "waiting for a hand", and the lock after idle time.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookClient } from './hooks.ts';
import { checkLayout, SIZES } from './layout-check.ts';
import { ROOT, startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results', 'layout');

let dataDir: string;
let terminal: RunningTerminal;
let browser: Browser;
let page: Page;
let api: HookClient;
const pageErrors: string[] = [];
const problems: string[] = [];
let checked = 0;

const tid = (id: string) => page.getByTestId(id);
const flowStep = (step: string, kind?: string) => page.locator(`[data-testid="flow"][data-step="${step}"]${kind ? `[data-kind="${kind}"]` : ''}`).waitFor();

async function keypad(id: string, digits: string) {
  for (const d of digits) await tid(`${id}-key-${d}`).click();
  await tid(`${id}-ok`).click();
}

/** Checks the screen as it is now at the three sizes (and screenshots it); findings are collected, not thrown. */
async function fits(name: string): Promise<void> {
  checked += await checkLayout(page, name, { shots: SHOTS, problems, restore: SIZES[0]! });
}

async function signIn(operator: string, pin: string) {
  await tid('signin').waitFor();
  await api.present(operator);
  await tid('login-pin-ok').waitFor();
  await keypad('login-pin', pin);
  await tid('role-salary').waitFor();
}

async function lock() {
  await tid('lock').click();
  await tid('signin').waitFor();
}

async function language(lng: 'ar' | 'ku') {
  await tid(`lang-${lng}`).click();
  await expect.poll(() => page.getAttribute('html', 'lang')).toBe(lng);
}

/** Bills the counter holds from the feed (read beside the running terminal: WAL allows it). */
function billsCached(): number {
  const d = new Database(join(dataDir, 'terminal.db'), { readonly: true, fileMustExist: true });
  try {
    return d.prepare('SELECT count(*) FROM bills').pluck().get() as number;
  } finally {
    d.close();
  }
}

const lastPrint = () => JSON.parse(readFileSync(join(dataDir, 'receipts.log'), 'utf8').trim().split('\n').pop()!) as { recordId: string; copy?: boolean; lines: Array<{ label: string }> };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-layout-'));
  mkdirSync(SHOTS, { recursive: true });
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', dataDir, '--demo', '--test-hooks'], 150_000);
  api = await HookClient.open(terminal);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(terminal.url);
  await tid('signin').waitFor();
}, 240_000);

afterAll(async () => {
  api?.close();
  await browser?.close();
  await terminal?.stop();
  if (!process.env.KEEP_E2E && dataDir) rmSync(dataDir, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

describe('the counter tablet: every step fits 1024×768, 1280×800 and 800×1280', { timeout: 420_000 }, () => {
  it('ar: lock screen, sign-in by palm, home, and every flow', async () => {
    // Locked at start: the lock screen is the sign-in, the idle lock is the documented 2 minutes, the placeholder
    // parts are one badge in the status bar (no block on the screen).
    expect(await tid('locked').innerText()).toContain('مقفل');
    expect(await tid('signin').getAttribute('data-lock-after-ms')).toBe('120000');
    expect(await page.locator('.statusbar [data-testid="placeholders"]').count()).toBe(1);
    expect(await page.locator('aside.placeholders').count()).toBe(0);
    await expect.poll(() => tid('status-scanner').innerText(), { timeout: 90_000 }).toContain('بانتظار يد'); // the sign-in waits for a palm (the kiosk may still be starting: PIN hashes, the palm index; slow on a loaded machine)
    await fits('ar-lock');
    await api.present('op-cashier'); // a palm on the lock screen signs in
    await tid('login-pin-ok').waitFor();
    expect(await tid('login').innerText()).toContain('روجدا'); // greeted in Arabic script
    await fits('ar-signin-pin');
    await keypad('login-pin', '1234');
    await tid('role-salary').waitFor();
    expect(await tid('operator').innerText()).toContain('روجدا');
    expect(await tid('role-enrolment').isDisabled()).toBe(true); // a cashier cannot enrol: greyed, saying who can
    expect(await tid('role-enrolment').innerText()).toContain('لموظف التسجيل فقط');
    await fits('ar-home');

    // Salary: periods as Syrian month names and year, pounds without piastres; continue without confirmation is
    // noted on the receipt; printing says so, and the reprint is a COPY.
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await fits('ar-payout-palm');
    await api.present('emp-ahmad');
    await flowStep('review');
    const periods = await tid('periods').innerText();
    expect(periods).toContain('أيلول ٢٠٢٦');
    expect(periods).toContain('تشرين الأول ٢٠٢٦');
    expect(periods).not.toMatch(/2026-|٢٠٢٦-/);
    expect(await tid('payout-total').innerText()).toMatch(/^\u200f?٣٠٠٬٠٠٠\sل\.س\.\u200f?$/);
    await fits('ar-payout-review');
    await tid('cash-confirmed').click();
    await flowStep('confirm');
    await fits('ar-payout-confirm');
    // Continuing without the payee's palm is offered only after it failed three times (the payout flow's rule).
    for (let i = 0; i < 3; i++) await api.present('stranger');
    await tid('confirm-skip').click();
    await flowStep('receipt');
    expect(await tid('receipt').innerText()).toContain('دون تأكيد');
    await tid('print').click();
    await tid('print-note').waitFor();
    await expect.poll(() => lastPrint().copy ?? false).toBe(false);
    expect(lastPrint().lines.map((l) => l.label)).toContain('receipt.unconfirmed'); // on the printed receipt too
    await tid('print').click();
    await expect.poll(() => tid('print-note').getAttribute('data-prints')).toBe('2');
    await expect.poll(() => tid('print-note').innerText()).toContain('نسخة');
    await expect.poll(() => lastPrint().copy ?? false).toBe(true);
    await fits('ar-payout-receipt');
    await tid('done').click();

    // Purchase with the customer's PIN.
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await fits('ar-purchase-amount');
    await keypad('amount', '15000');
    await flowStep('palm');
    await fits('ar-purchase-palm');
    await api.present('cust-zin');
    await flowStep('pin');
    await fits('ar-purchase-pin');
    await keypad('pin', '1357');
    await flowStep('approved');
    expect(await tid('receipt-total').innerText()).not.toMatch(/[.٫]٠٠|\.00/);
    await fits('ar-purchase-approved');
    await tid('done').click();

    // A limit a supervisor raises: declined before the customer's PIN, saying what is left (the cap, 10,000 SYP, in
    // Arabic digits); supervisor palm + PIN, then the customer's PIN, approved; the receipt names her, not her id.
    await api.fault({ limits: { perTransactionMaxMinor: 1_000_000 } });
    await tid('role-purchase').click();
    await keypad('amount', '12000');
    await api.present('cust-zin');
    await flowStep('declined');
    expect(await tid('reason').getAttribute('data-reason')).toBe('limit-transaction-cap');
    expect(await tid('can-spend').innerText()).toMatch(/^المتبقي للدفع دون اتصال هنا: \u200f?١٠٬٠٠٠\sل\.س\.\u200f?$/);
    await fits('ar-purchase-declined');
    await tid('override-start').click();
    await flowStep('override');
    await fits('ar-purchase-override-palm');
    await api.present('op-super');
    await tid('override-pin-ok').waitFor();
    await fits('ar-purchase-override-pin');
    await keypad('override-pin', '9999');
    await flowStep('pin');
    await fits('ar-purchase-pin-after-override');
    await keypad('pin', '1357');
    await flowStep('approved');
    const receipt = await tid('receipt').innerText();
    expect(receipt).toContain('سارة');
    expect(receipt).not.toContain('op-super');
    await tid('done').click();
    await api.fault({ limits: { perTransactionMaxMinor: 50_000_000 } });

    // A decline agrees with the status bar: with the link up it does not say "connect to the centre".
    const online = async () => {
      const text = await tid('status-link').innerText();
      return text.includes('متصل') && !text.includes('غير متصل');
    };
    await expect.poll(online, { timeout: 15_000 }).toBe(true);
    // Above the PIN threshold: the expired allowance is said before any PIN is typed, with nothing left to pay.
    await tid('role-purchase').click();
    await keypad('amount', '15000');
    await api.present('cust-old');
    await flowStep('declined');
    expect(await tid('reason').getAttribute('data-reason')).toBe('limit-allowance-expired');
    expect(await tid('can-spend').innerText()).toMatch(/^المتبقي للدفع دون اتصال هنا: \u200f?٠\sل\.س\.\u200f?$/);
    await fits('ar-purchase-declined-expired');
    expect(await page.locator('.reason-todo').getAttribute('data-link')).toBe('up');
    expect(await page.locator('.reason-todo').innerText()).toContain('الاتصال قائم');
    await tid('done').click();

    // A bill from the feed, every step: subscriber number, the bills due, payer palm, payer PIN, paid.
    await expect.poll(() => billsCached(), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    await tid('role-bill').click();
    await flowStep('subscriber');
    await fits('ar-bill-subscriber');
    await keypad('subscriber', '00654321');
    await flowStep('bills');
    await fits('ar-bill-bills');
    await tid('pay-all').click();
    await flowStep('palm');
    await fits('ar-bill-palm');
    await api.present('emp-hevi');
    await flowStep('pin');
    await fits('ar-bill-pin');
    await keypad('pin', '2468');
    await flowStep('paid');
    expect(await tid('receipt').innerText()).toContain('EH-2026-11-00654321');
    await fits('ar-bill-paid');
    await tid('done').click();

    // Issue 17d: the meter reading and mandate screens fit too (the feed's meters arrive with the first sync).
    await tid('role-reading').click();
    await flowStep('subscriber', 'reading');
    await fits('ar-reading-subscriber');
    await expect.poll(async () => {
      await keypad('subscriber', '00123456');
      await page.locator('[data-testid="flow"][data-kind="reading"]:is([data-step="reading"], [data-step="refused"])').waitFor();
      if ((await page.locator('[data-testid="flow"][data-step="reading"]').count()) === 1) return true;
      await tid('retry').click();
      return false;
    }, { timeout: 60_000 }).toBe(true);
    await fits('ar-reading');
    await tid('back').click();
    await tid('cancel').click();
    await tid('role-mandate').click();
    await flowStep('mode', 'mandate');
    await fits('ar-mandate-mode');
    await tid('mode-sign').click();
    await keypad('subscriber', '00123456');
    await flowStep('terms', 'mandate');
    await fits('ar-mandate-terms');
    await tid('back').click();
    await tid('back').click();
    await tid('cancel').click();

    // Void is "إبطال"; back is "رجوع"; "إلغاء" appears nowhere.
    await tid('role-purchase').click();
    await keypad('amount', '2500');
    await api.present('cust-zin');
    await flowStep('approved');
    const voidSeq = (await tid('receipt-seq').innerText()).replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660));
    await tid('done').click();
    await tid('role-void').click();
    await flowStep('lookup', 'void');
    expect(await page.locator('main').innerText()).not.toContain('إلغاء');
    expect(await tid('flow').locator('h1').innerText()).toContain('إبطال');
    expect(await tid('cancel').innerText()).toBe('رجوع');
    await fits('ar-void-lookup');
    await keypad('reference', voidSeq);
    await flowStep('found');
    expect(await page.locator('main').innerText()).not.toContain('إلغاء');
    await fits('ar-void-found');
    await tid('confirm').click();
    await flowStep('override');
    await api.present('op-super');
    await tid('override-pin-ok').waitFor();
    await fits('ar-void-override-pin');
    await keypad('override-pin', '9999');
    await flowStep('done');
    expect(await tid('receipt').innerText()).toContain('سارة');
    await fits('ar-void-done');
    await tid('done').click();

    await tid('role-statement').click();
    await flowStep('palm', 'statement');
    await fits('ar-statement-palm');
    await api.present('cust-zin');
    await flowStep('shown');
    // The statement tells the truth: the voided purchase is marked and keeps the number on its receipt, the void is
    // its own row naming that number with its sign, purchases carry a minus, and what is left to spend is shown.
    const voided = page.locator(`[data-testid="statement-row"][data-ref="${voidSeq}"]`);
    expect(await voided.getAttribute('data-voided')).toBe('true');
    expect(await voided.getAttribute('data-sign')).toBe('-1');
    expect(await voided.innerText()).toContain('مُبطَلة');
    const voidRow = page.locator('[data-testid="statement-row"][data-kind="void"]');
    expect(await voidRow.count()).toBe(1);
    expect(await voidRow.getAttribute('data-sign')).toBe('1');
    expect(await voidRow.innerText()).toContain(`إبطال الإيصال رقم ${voidSeq.replace(/\d/g, (d) => String.fromCharCode(0x660 + Number(d)))}`);
    expect(await voidRow.locator('.money').innerText()).toMatch(/^\+/);
    for (const m of await page.locator('[data-testid="statement-row"][data-kind="purchase"] .money').allInnerTexts()) expect(m).toMatch(/^\u2212/);
    expect(await tid('statement-allowance').innerText()).toContain('المتبقي من الرصيد المسموح دون اتصال');
    // The account balance the centre sent, with its date, in Arabic digits.
    expect(await tid('statement-balance').innerText()).toMatch(/^رصيد الحساب في المركز بتاريخ .*[٠-٩].*: \u200f?[٠-٩٬]+\sل\.س\./);
    await fits('ar-statement-shown');
    const balanceBox = await tid('statement-balance').boundingBox(); // in view at 1024×768, above the list
    expect(balanceBox!.y + balanceBox!.height).toBeLessThanOrEqual(768);
    await tid('done').click();

    // The financial report (issue 17): the months to choose from and the report from the centre fit too.
    await tid('role-report').click();
    await flowStep('palm', 'report');
    await api.present('emp-ahmad');
    await flowStep('month', 'report');
    await fits('ar-report-month');
    await tid(`month-${new Date().toISOString().slice(0, 7)}`).click();
    await flowStep('pin', 'report');
    await keypad('pin', '4321');
    await flowStep('shown', 'report');
    await fits('ar-report-shown');
    await tid('done').click();

    // Day close: a count box showing ٠ selects on focus, so typing 5 in Arabic gives 5 notes, not 50.
    await tid('role-dayClose').click();
    await flowStep('count');
    await fits('ar-dayclose-count');
    const box = tid('d-SYP-500000');
    expect(await box.inputValue()).toBe('٠');
    await box.click();
    await page.keyboard.type('5');
    await expect.poll(() => box.inputValue()).toBe('٥');
    await tid('reason-input').fill('عدّ تجريبي');
    await tid('close-confirm').click();
    await flowStep('closed');
    await fits('ar-dayclose-closed');
    await tid('done').click();

    // The enroller: tiles a cashier could do are greyed, enrolment runs.
    await lock();
    await signIn('op-enrol', '5555');
    expect(await tid('role-salary').isDisabled()).toBe(true);
    expect(await tid('role-salary').innerText()).toContain('للصرّاف فقط');
    await fits('ar-home-enroller');
    // The duplicate check runs on the first good capture of a hand: a person enrolled here is stopped at once.
    await tid('role-enrolment').click();
    await flowStep('form');
    await tid('f-nameAr').fill('نادية عيسى');
    await tid('f-nameLatin').fill('Nadia Isa');
    await tid('f-idNumber').fill('87654321');
    await tid('f-phone').fill('+963 955 111 222');
    await tid('f-employer').fill('QWB-01');
    await tid('form-submit').click();
    await tid('consent-given').click();
    await flowStep('capture');
    await api.present('emp-nadia');
    await flowStep('duplicate');
    expect(await tid('candidates').innerText()).toContain('نادية عيسى');
    await fits('ar-enrol-duplicate');
    await tid('cancel').click();
    await tid('role-enrolment').waitFor();
    await tid('role-enrolment').click();
    await flowStep('form');
    await fits('ar-enrol-form');
    await tid('f-nameAr').fill('هيلين شيخو');
    await tid('f-nameLatin').fill('Helîn Şêxo');
    await tid('f-idNumber').fill('12345678');
    await tid('f-phone').fill('+963 944 123 456');
    await tid('f-employer').fill('QWB-01');
    expect(await tid('f-phone').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr'); // phone stays left to right
    await tid('form-submit').click();
    await flowStep('consent');
    expect(await tid('consent-text').innerText()).toContain('هيلين شيخو'); // read in the Arabic form of the name
    await fits('ar-enrol-consent');
    await tid('consent-given').click();
    await flowStep('capture');
    await fits('ar-enrol-capture');
    for (let i = 0; i < 6; i++) await api.present('new-helin');
    await flowStep('review');
    await fits('ar-enrol-review');
    await tid('capture-finish').click();
    await flowStep('pin'); // the person's own PIN, typed twice (issue 17)
    await fits('ar-enrol-pin');
    await keypad('new-pin', '2580');
    await keypad('new-pin-again', '2580');
    await flowStep('enrolled');
    await fits('ar-enrol-enrolled');
    await tid('done').click();
    await lock();

    // The technician's scanner check, under a supervisor: which scanner, and a capture judged with its preview.
    await signIn('op-super', '9999');
    await tid('role-scannerCheck').click();
    await flowStep('ready', 'scannerCheck');
    expect(await tid('scanner-transport').innerText()).toBe('محاكاة (عرض تجريبي)');
    await fits('ar-scanner-check');
    await tid('capture-test').click();
    await flowStep('testing');
    await api.present('emp-ahmad');
    await tid('scanner-preview').waitFor();
    expect(await tid('scanner-test').getAttribute('data-verdict')).toBe('ok');
    expect(await tid('scanner-preview').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(100); // the CSP lets the data: preview load
    await fits('ar-scanner-check-tested');
    await tid('done').click();
    await lock();
    expect(problems).toEqual([]);
  });

  it('ku: the same screens in Kurmanji: month names, Arabic digit grouping, a worded clear key', async () => {
    await language('ku');
    // The locked sign-in waits for a hand, and says so in Kurmanji; the tiles a cashier cannot do say who can.
    await expect.poll(() => tid('status-scanner').innerText(), { timeout: 15_000 }).toContain('li benda destekê');
    await fits('ku-lock');
    await signIn('op-cashier', '1234');
    expect(await tid('role-enrolment').isDisabled()).toBe(true);
    expect(await tid('role-enrolment').innerText()).toContain('Tenê karmendê tomarkirinê dikare');
    // The demo parts are one badge in the status bar, in Kurmanji too (no block on the screen).
    expect(await page.locator('.statusbar [data-testid="placeholders"]').count()).toBe(1);
    expect(await page.locator('aside.placeholders').count()).toBe(0);
    await fits('ku-home');
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    expect(await tid('amount-key-clear').innerText()).toBe('Paqij');
    await fits('ku-purchase-amount');
    await keypad('amount', '5000');
    await api.present('cust-zin');
    await flowStep('approved');
    expect(await tid('receipt-total').innerText()).toBe('5\u066C000 SYP');
    await fits('ku-purchase-approved');
    const seq = await tid('receipt-seq').innerText();
    await tid('done').click();

    // An expired allowance is said before any PIN, with what is left to pay (nothing), in Kurmanji.
    await tid('role-purchase').click();
    await keypad('amount', '15000');
    await api.present('cust-old');
    await flowStep('declined');
    expect(await tid('reason').getAttribute('data-reason')).toBe('limit-allowance-expired');
    expect(await tid('can-spend').innerText()).toBe('Ji bo dayîna bê girêdan li vir maye: 0 SYP');
    await fits('ku-purchase-declined');
    await tid('done').click();

    // Void is "Betalkirin", back is "Paşve": never one word for both.
    await tid('role-void').click();
    await flowStep('lookup', 'void');
    expect(await tid('flow').locator('h1').innerText()).toContain('Betalkirin');
    expect(await tid('cancel').innerText()).toBe('Paşve');
    await keypad('reference', seq);
    await flowStep('found');
    expect(await tid('confirm').innerText()).toContain('Betal bike');
    expect(await tid('cancel').innerText()).toBe('Paşve');
    expect(await page.locator('main').innerText()).not.toContain('Vegere');
    await fits('ku-void-found');
    await tid('cancel').click();

    // The statement: the account balance with the date the centre sent it.
    await tid('role-statement').click();
    await api.present('cust-zin');
    await flowStep('shown');
    expect(await tid('statement-balance').innerText()).toMatch(/^Bermayiya hesabê li navendê di .*\d.* de: [\d\u066C]+ SYP/);
    await fits('ku-statement-shown');
    await tid('done').click();
    await tid('role-salary').click();
    await api.present('emp-hevi');
    await flowStep('review');
    expect(await tid('periods').innerText()).toContain('Cotmeh 2026');
    expect(await tid('person').locator('p').first().innerText()).toBe('Hêvî Elî'); // the Latin form first
    await fits('ku-payout-review');
    // Continuing without the payee's palm is said on the screen and on the printed receipt; the reprint is a KOPÎ.
    await tid('cash-confirmed').click();
    await flowStep('confirm');
    for (let i = 0; i < 3; i++) await api.present('stranger');
    await tid('confirm-skip').click();
    await flowStep('receipt');
    expect(await tid('confirmed').innerText()).toContain('Bi kefê nehat piştrastkirin');
    expect(await tid('receipt').innerText()).toContain('NEKIR');
    await tid('print').click();
    await tid('print-note').waitFor();
    await expect.poll(() => lastPrint().copy ?? false).toBe(false);
    expect(lastPrint().lines.map((l) => l.label)).toContain('receipt.unconfirmed');
    await tid('print').click();
    await expect.poll(() => tid('print-note').innerText()).toContain('KOPÎ');
    await expect.poll(() => lastPrint().copy ?? false).toBe(true);
    await fits('ku-payout-receipt');
    await tid('done').click();
    await tid('role-dayClose').click();
    await flowStep('count');
    await fits('ku-dayclose-count');
    // A count box showing 0 selects on focus: typing 5 gives 5 notes, not 50.
    const box = tid('d-SYP-500000');
    expect(await box.inputValue()).toBe('0');
    await box.click();
    await page.keyboard.type('5');
    await expect.poll(() => box.inputValue()).toBe('5');
    await tid('cancel').click();
    await tid('role-salary').waitFor();
    await language('ar');
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(3 * 30);
  });

  it('returns home after the quiet time, and locks after the lock time counted from the last touch', async () => {
    await page.goto('about:blank');
    await page.goto(`${terminal.url}&idleMs=1500&lockMs=4000`);
    await signIn('op-cashier', '1234');
    const touched = Date.now();
    await tid('role-statement').click();
    await flowStep('palm', 'statement');
    await tid('role-salary').waitFor({ timeout: 10_000 }); // back to the home screen
    await tid('signin').waitFor({ timeout: 10_000 }); // then locked
    expect(Date.now() - touched).toBeLessThan(4000 + 2500); // not lock time + quiet time, as before
    expect(await tid('lock-reason').getAttribute('data-reason')).toBe('idle');
    await fits('ar-locked-after-idle');
  });
});
