// End to end: the demo's simulator panel, clicked in Debian's Chromium as a cashier would on day one. The real
// `palmpay terminal --demo` runs in browser mode WITHOUT --test-hooks, so the panel is the only way a palm reaches
// the simulated scanner. English for the clicks (purchase, salary payout, a never-enrolled hand), then the same
// purchase in Arabic (right to left) with the panel checked not to overlap any button of the counter; a second
// terminal without --demo shows no panel and refuses `sim.present` over its API.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SIM_HOLD_MS } from '../../src/host/kiosk-handlers.ts';
import { ROOT, startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results', 'sim-panel');

let demoData: string;
let plainData: string;
let demo: RunningTerminal;
let plain: RunningTerminal;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

type Result = { ok: true; output: unknown } | { ok: false; error: { code: string; message: string } };

/** One call over a terminal's own token-guarded WebSocket API, as the page makes it. */
function callApi(t: RunningTerminal, call: string, input: unknown): Promise<Result> {
  const ws = new WebSocket(`${t.origin.replace('http', 'ws')}/api?token=${encodeURIComponent(t.token)}`);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, call, input })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { kind: string; id?: number; result?: Result };
      if (msg.kind !== 'result' || msg.id !== 1) return;
      ws.close();
      resolve(msg.result!);
    });
  });
}

/** Reads the demo terminal's database (read-only, beside the running terminal: WAL allows it). */
function db<T>(sql: string, ...args: unknown[]): T {
  const d = new Database(join(demoData, 'terminal.db'), { readonly: true, fileMustExist: true });
  try {
    return d.prepare(sql).pluck().get(...args) as T;
  } finally {
    d.close();
  }
}
const count = (type: string, party?: string) =>
  party === undefined ? db<number>(`SELECT count(*) FROM journal WHERE type = ?`, type) : db<number>(`SELECT count(*) FROM journal WHERE type = ? AND party_id = ?`, type, party);
/** The seeded person's names, "Arabic / Latin" in the store. */
const personName = (id: string) => {
  const [ar, latin] = db<string>(`SELECT name FROM people WHERE person_id = ?`, id).split(' / ');
  return { ar: ar!, latin: latin! };
};

const tid = (id: string, p: Page = page) => p.getByTestId(id);
const flowStep = (step: string, kind?: string) => page.locator(`[data-testid="flow"][data-step="${step}"]${kind ? `[data-kind="${kind}"]` : ''}`).waitFor();
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function keypad(id: string, digits: string) {
  for (const d of digits) await tid(`${id}-key-${d}`).click();
  await tid(`${id}-ok`).click();
}

async function language(lng: 'ar' | 'en') {
  await tid(`lang-${lng}`).click();
  await expect.poll(() => page.getAttribute('html', 'lang')).toBe(lng);
}

/** What a cashier does with the panel: pick the hand in the list, click the button. Returns the palm the panel
 * says it laid (the selected option's own text, not what the test asked for). */
async function lay(palm: string): Promise<string> {
  await tid('sim-palm').selectOption(palm);
  const shown = await tid('sim-palm').locator('option:checked').innerText();
  await tid('sim-lay').click();
  return shown.trim();
}

type Box = { x: number; y: number; width: number; height: number };
const intersects = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The panel is visible, inside the page's width, and overlaps no button of the counter (tiles, keypad, actions,
 * language switch); its own controls take clicks. `inView`: where a palm is asked for, the panel is on screen
 * without scrolling. */
async function panelClear(where: string, { inView = false } = {}) {
  expect(await tid('sim-panel').isVisible(), `${where}: panel visible`).toBe(true);
  // Boxes in page coordinates, all read in one go (no race with React re-rendering or scrolling).
  const m = await page.evaluate(() => {
    const box = (el: Element) => {
      const r = el.getBoundingClientRect();
      return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
    };
    const buttons = [...document.querySelectorAll('main button, main input, main select, header button')]
      .map((el) => ({ id: el.getAttribute('data-testid') ?? el.textContent ?? '', ...box(el) }))
      .filter((b) => b.width > 0 && b.height > 0);
    return { panel: box(document.querySelector('[data-testid="sim-panel"]')!), buttons, width: document.documentElement.clientWidth, viewport: { x: scrollX, y: scrollY, width: innerWidth, height: innerHeight } };
  });
  expect(m.panel.x, `${where}: panel starts inside the page`).toBeGreaterThanOrEqual(0);
  expect(m.panel.x + m.panel.width, `${where}: panel ends inside the page`).toBeLessThanOrEqual(m.width + 0.5);
  expect(m.buttons.length, `${where}: buttons found`).toBeGreaterThan(0);
  expect(m.buttons.filter((b) => intersects(m.panel, b)).map((b) => b.id), `${where}: buttons under the simulator panel`).toEqual([]);
  if (inView) expect(m.panel.y + m.panel.height, `${where}: panel on screen without scrolling`).toBeLessThanOrEqual(m.viewport.y + m.viewport.height + 0.5);
  // Nothing of the counter's UI lies on top of the panel's own controls.
  for (const id of ['sim-palm', 'sim-lay']) {
    await tid(id).scrollIntoViewIfNeeded();
    const b = (await tid(id).boundingBox())!;
    const top = await page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.closest('[data-testid]')?.getAttribute('data-testid') ?? null, [b.x + b.width / 2, b.y + b.height / 2]);
    expect(top, `${where}: ${id} is on top`).toBe(id);
  }
}

beforeAll(async () => {
  demoData = mkdtempSync(join(tmpdir(), 'palmpay-e2e-sim-'));
  plainData = mkdtempSync(join(tmpdir(), 'palmpay-e2e-sim-plain-'));
  mkdirSync(SHOTS, { recursive: true });
  // No --test-hooks: the API cannot script the scanner; only the panel lays palms.
  [demo, plain] = await Promise.all([
    startTerminal(['--no-open', '--port', '0', '--data', demoData, '--demo', '--lang', 'en'], 120_000),
    // Named parts without --demo (a counter with no centre at all shows the setup screen instead: deploy-setup.test.ts).
    startTerminal(['--no-open', '--port', '0', '--data', plainData, '--lang', 'en', '--scanner', 'sim', '--centre', 'embedded'], 120_000),
  ]);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000); // generous: CI shares two cores with the other suites
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(demo.url);
  await tid('sim-lay').waitFor();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([demo?.stop(), plain?.stop()]);
  if (!process.env.KEEP_E2E) for (const dir of [demoData, plainData]) if (dir) rmSync(dir, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

// A failed step must not leave the next test on its screen (best effort: done, cancel or skip, back to the tiles).
afterEach(async () => {
  const home = () => tid('role-salary').waitFor({ timeout: 1_000 }).then(() => true, () => false);
  for (let i = 0; i < 3 && !(await home()); i++) {
    const out = page.locator(['done', 'cancel', 'confirm-skip'].map((id) => `[data-testid="flow"] [data-testid="${id}"]`).join(', ')).first();
    await out.click({ timeout: 2_000 }).catch(() => {});
  }
});

describe('simulator panel in the browser (--demo, no test hooks)', { timeout: 60_000 }, () => {
  it('the API cannot script the scanner: test hooks are off, the panel is the only way', async () => {
    expect(demo.output()).not.toMatch(/TEST HOOKS ENABLED/);
    const r = await callApi(demo, 'test.present', { identity: 'op-cashier' });
    expect(r).toMatchObject({ ok: false, error: { code: 'TEST_HOOKS_DISABLED' } });
    const palms = await callApi(demo, 'sim.palms', {});
    expect(palms.ok).toBe(true);
    // The panel lists exactly what the host offers, including the never-enrolled hand.
    const offered = (palms as { output: { palms: string[] } }).output.palms;
    expect(await tid('sim-palm').locator('option').allInnerTexts()).toEqual(offered);
    expect(offered).toEqual(expect.arrayContaining(['op-cashier', 'cust-zin', 'emp-hevi', 'stranger']));
  });

  it('en: the cashier signs in and sells to the customer whose palm the panel laid', async () => {
    expect(await page.getAttribute('html', 'dir')).toBe('ltr');
    await shot('en-home');
    await tid('signin').waitFor(); // locked: the lock screen is the sign-in
    expect(await lay('op-cashier')).toBe('op-cashier');
    await tid('login-pin-ok').waitFor();
    await keypad('login-pin', '1234');
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await keypad('amount', '5000');
    await flowStep('palm');
    await shot('en-purchase-palm');
    const laid = await lay('cust-zin');
    await flowStep('approved');
    await shot('en-purchase-approved');
    const name = personName(laid);
    const receipt = await tid('receipt').innerText();
    expect(receipt).toContain(name.latin);
    expect(receipt).toContain('Purchase');
    expect(await tid('receipt-total').innerText()).toMatch(/5,000/);
    const seq = Number((await tid('receipt-seq').innerText()).replace(/\D/g, ''));
    await tid('done').click();
    await tid('role-purchase').waitFor();
    // One signed record, for that person, that amount, by the cashier who signed in through the panel.
    expect(count('purchase')).toBe(1);
    expect(db<string>(`SELECT party_id FROM journal WHERE seq = ?`, seq)).toBe(laid);
    expect(db<number>(`SELECT amount_minor FROM journal WHERE seq = ?`, seq)).toBe(500_000);
    expect(JSON.parse(db<string>(`SELECT body FROM journal WHERE seq = ?`, seq))).toMatchObject({ operatorId: 'op-cashier', amountMinor: 500_000 });
  });

  it('en: a double click pays once, and a palm laid while nothing asks does not pay the next purchase', async () => {
    const before = count('purchase');
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await keypad('amount', '1000');
    await flowStep('palm');
    await tid('sim-palm').selectOption('cust-zin');
    await tid('sim-lay').dblclick();
    await flowStep('approved');
    await tid('done').click();
    await tid('role-purchase').waitFor();
    await tid('sim-palm').selectOption('emp-ahmad');
    await tid('sim-lay').click(); // on the home screen: no flow asks for a palm
    // The cashier hands over the receipt; the hands laid above have left the glass by now.
    await page.waitForTimeout(SIM_HOLD_MS + 500);
    expect(count('purchase')).toBe(before + 1);
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await keypad('amount', '2000');
    await flowStep('palm');
    await page.waitForTimeout(1500); // time for a stale palm to be captured, identified and approved
    expect(await page.getAttribute('[data-testid="flow"]', 'data-step'), 'no palm was laid for this purchase').toBe('palm');
    expect(count('purchase')).toBe(before + 1);
    await shot('en-purchase-palm-waits');
    await lay('cust-zin');
    await flowStep('approved');
    await tid('done').click();
    await tid('role-purchase').waitFor();
    expect(count('purchase', 'cust-zin')).toBe(before + 2);
    expect(db<number>(`SELECT amount_minor FROM journal WHERE type = 'purchase' ORDER BY seq DESC LIMIT 1`)).toBe(200_000);
  });

  it('en: a salary payout through the panel is recorded once (and refused the second time)', async () => {
    const person = 'emp-hevi'; // owed one period (2026-10), voucher leased to this terminal
    expect(count('salary_payout', person)).toBe(0);
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    const laid = await lay(person);
    await flowStep('review');
    expect(await tid('person').innerText()).toContain(personName(laid).latin);
    expect(await tid('periods').locator('li').count()).toBe(1);
    await shot('en-payout-review');
    await tid('cash-confirmed').dblclick();
    await flowStep('confirm');
    expect(count('salary_payout', person)).toBe(1); // written before the drawer opens
    await shot('en-payout-confirm');
    await panelClear('en payout confirm'); // not { inView }: at 1280×800 the panel starts below the fold here
    await lay(person); // the employee confirms with a second palm
    await flowStep('receipt');
    expect(await tid('confirmed').getAttribute('data-confirmed')).toBe('true');
    await shot('en-payout-receipt');
    await tid('done').click();
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await lay(person);
    await flowStep('refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('already-paid');
    await shot('en-payout-refused-already-paid');
    await tid('done').click();
    await tid('role-salary').waitFor();
    expect(count('salary_payout', person)).toBe(1);
    expect(db<number>(`SELECT amount_minor FROM journal WHERE type = 'salary_payout' AND party_id = ?`, person)).toBe(12_000_000);
  });

  it('en: a hand that was never enrolled ("stranger") gets the unknown-palm screen ("twin": ambiguous); nothing is recorded', async () => {
    const before = db<number>(`SELECT count(*) FROM journal`);
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await lay('stranger');
    await flowStep('refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('unknown-palm');
    expect(await tid('reason').innerText()).not.toBe('');
    await shot('en-payout-refused-unknown-palm');
    await tid('done').click();
    // The panel's other odd hand: two people enrolled from one palm → ambiguous, not a guess.
    await tid('role-salary').click();
    await flowStep('palm', 'payout');
    await lay('twin');
    await flowStep('refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('ambiguous');
    await tid('done').click();
    await tid('role-purchase').waitFor();
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await keypad('amount', '1000');
    await flowStep('palm');
    await lay('stranger');
    await flowStep('declined');
    expect(await tid('reason').getAttribute('data-reason')).toBe('unknown-palm');
    await shot('en-purchase-declined-unknown-palm');
    await tid('done').click();
    await tid('role-purchase').waitFor();
    expect(db<number>(`SELECT count(*) FROM journal`)).toBe(before);
  });

  it('ar (RTL): the same purchase, sign-in included; the panel is visible and covers no button', async () => {
    const before = count('purchase', 'cust-zin');
    if (await tid('lock').count()) await tid('lock').click();
    await tid('locked').waitFor();
    await language('ar');
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await tid('sim-lay').innerText()).toBe('ضع هذه الكف');
    expect(await tid('sim-panel').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await tid('signin').waitFor();
    await panelClear('ar sign-in', { inView: true });
    await lay('op-cashier');
    await tid('login-pin-ok').waitFor();
    await panelClear('ar sign-in PIN');
    await shot('ar-signin-pin');
    await keypad('login-pin', '1234');
    await panelClear('ar home');
    await shot('ar-home');
    await tid('role-purchase').click();
    await flowStep('amount', 'purchase');
    await panelClear('ar amount');
    await shot('ar-purchase-amount');
    await keypad('amount', '2500');
    await flowStep('palm');
    await panelClear('ar palm', { inView: true });
    const laid = await lay('cust-zin');
    await flowStep('approved');
    await panelClear('ar approved');
    await shot('ar-purchase-approved');
    expect(await tid('receipt').innerText()).toContain(personName(laid).ar);
    await tid('done').click();
    await tid('role-purchase').waitFor();
    expect(laid).toBe('cust-zin');
    expect(count('purchase', laid)).toBe(before + 1);
    expect(db<number>(`SELECT amount_minor FROM journal WHERE type = 'purchase' ORDER BY seq DESC LIMIT 1`)).toBe(250_000);
  });

  it('without --demo there is no panel, and the host refuses sim.present', async () => {
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    p.on('pageerror', (err) => pageErrors.push(err.message));
    // Wait for the page's own sim.palms answer (SIM_PANEL_OFF) so "no panel" is not read before it could appear.
    const refused = new Promise<void>((resolve) =>
      p.on('websocket', (ws) => ws.on('framereceived', (f) => void (typeof f.payload === 'string' && f.payload.includes('SIM_PANEL_OFF') && resolve()))),
    );
    await p.goto(plain.url);
    await tid('signin', p).waitFor();
    await refused;
    expect(await tid('sim-panel', p).count()).toBe(0);
    expect(await tid('sim-lay', p).count()).toBe(0);
    await p.screenshot({ path: join(SHOTS, 'en-no-demo-home.png'), fullPage: true });
    await p.close();
    expect(await callApi(plain, 'sim.present', { palm: 'op-cashier' })).toMatchObject({ ok: false, error: { code: 'SIM_PANEL_OFF' } });
    expect(await callApi(plain, 'sim.palms', {})).toMatchObject({ ok: false, error: { code: 'SIM_PANEL_OFF' } });
    expect(await callApi(plain, 'test.present', { identity: 'op-cashier' })).toMatchObject({ ok: false, error: { code: 'TEST_HOOKS_DISABLED' } });
  });
});
