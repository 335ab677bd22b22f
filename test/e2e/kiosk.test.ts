// End to end: the real `palmpay terminal` in browser mode, driven by Debian's Chromium through playwright-core.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTerminal, type RunningTerminal } from './spawn-terminal.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the current page (injected over CDP, so our CSP stays on). */
async function accessibilityProblems(p: Page): Promise<string[]> {
  await p.evaluate(AXE);
  return p.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
    const { violations } = await axe.run();
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
  });
}

let dataDir: string;
let profileDir: string;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-data-'));
  profileDir = mkdtempSync(join(tmpdir(), 'palmpay-e2e-profile-'));
  mkdirSync(SHOTS, { recursive: true });
  // No --demo: the simulated scanner and the embedded centre run only because they are named.
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', dataDir, '--scanner', 'sim', '--centre', 'embedded']);
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, 120_000);

afterAll(async () => {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  await context?.close();
  await terminal?.stop();
  for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('browser kiosk', () => {
  it('says which placeholders are active on the console', () => {
    expect(terminal.output()).toMatch(/PLACEHOLDER scanner: simulated scanner/);
    // The in-process reference server and the sync engine are real since the kiosk flows (issue 8): no longer a placeholder.
    expect(terminal.output()).not.toMatch(/PLACEHOLDER server/);
  });

  it('shows the home screen in Arabic, right to left, with the status bar', async () => {
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    const response = await page.goto(terminal.url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByTestId('signin').waitFor();
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar');
    // Locked at start: the lock screen, unmistakably, which is also the sign-in (no task before it).
    expect(await page.getByTestId('locked').innerText()).toContain('مقفل');
    expect(await page.getByTestId('login-palm').innerText()).toContain('ضع كفك');
    expect(await page.getByTestId('role-salary').count()).toBe(0);
    // The simulated scanner is labelled as such, and as a placeholder.
    const scanner = await page.getByTestId('status-scanner').innerText();
    expect(scanner).toContain('محاكى');
    expect(scanner).toContain('مؤقت');
    // Arabic-Indic digits by default: the queue length 0 shows as ٠.
    expect(await page.getByTestId('status-queue').innerText()).toContain('٠');
    await page.screenshot({ path: join(SHOTS, 'kiosk-home-ar.png') });
    expect(cspViolations).toEqual([]);
  });

  it('switches to Latin digits and back (Arabic only)', async () => {
    await page.getByTestId('digits-latn').click();
    await expect.poll(() => page.getByTestId('status-queue').innerText()).toContain('0');
    expect(await page.getByTestId('status-queue').innerText()).not.toContain('٠');
    await page.getByTestId('digits-arab').click();
    await expect.poll(() => page.getByTestId('status-queue').innerText()).toContain('٠');
  });

  it('switches to English (left to right) and Kurmanji, and remembers the choice', async () => {
    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.getAttribute('html', 'dir')).toBe('ltr');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByTestId('locked').innerText()).toContain('Counter locked');
    expect(await page.getByTestId('status-scanner').innerText()).toContain('simulated');
    await page.screenshot({ path: join(SHOTS, 'kiosk-home-en.png') });

    await page.getByTestId('lang-ku').click();
    await expect.poll(() => page.getByTestId('locked').innerText()).toContain('kilîtkirî');
    expect(await page.getAttribute('html', 'dir')).toBe('ltr');
    expect(await page.getByTestId('clock').innerText()).not.toMatch(/January|February|March|April|May|June|July|August|September|October|November|December|day,/);
    await page.screenshot({ path: join(SHOTS, 'kiosk-home-ku.png') });

    // The host stored the setting: a reload comes back in Kurmanji.
    await page.reload();
    await page.getByTestId('signin').waitFor();
    expect(await page.getByTestId('locked').innerText()).toContain('kilîtkirî');
    await page.getByTestId('lang-ar').click();
    await expect.poll(() => page.getAttribute('html', 'dir')).toBe('rtl');
  });

  it('has no serious accessibility problems (axe-core), right to left and left to right', async () => {
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('lang-en').click();
    await expect.poll(() => page.getAttribute('html', 'dir')).toBe('ltr');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByTestId('lang-ar').click();
    await expect.poll(() => page.getAttribute('html', 'dir')).toBe('rtl');
  });

  it('offers no task until an operator signs in', async () => {
    await page.getByTestId('signin').waitFor();
    expect(await page.getByTestId('role-purchase').count()).toBe(0);
    expect(await page.getByTestId('lock-reason').getAttribute('data-reason')).toBe('start');
    await page.screenshot({ path: join(SHOTS, 'kiosk-locked-ar.png') });
  });

  it('refuses the API without the token', async () => {
    const noToken = await context.newPage();
    await noToken.goto(terminal.origin + '/');
    // The page loads (static files are public) but the API socket is refused: it never gets past "connecting".
    await noToken.getByTestId('connecting').waitFor();
    await noToken.waitForTimeout(1500);
    expect(await noToken.getByTestId('connecting').innerText()).toContain('جارٍ الاتصال');
    expect(await noToken.getByTestId('signin').count()).toBe(0);
    const wrong = await context.newPage();
    await wrong.goto(`${terminal.origin}/#token=${'A'.repeat(terminal.token.length)}`);
    await wrong.getByTestId('connecting').waitFor();
    await wrong.waitForTimeout(1000);
    expect(await wrong.getByTestId('signin').count()).toBe(0);
    await wrong.close();
    await noToken.close();
  });
});
