// The technician's setup screen, across real processes: `palmpay server` (two centres) on loopback, `palmpay sim
// serial` on a socat pty, and `palmpay terminal` WITHOUT --demo and without a centre, driven in headless Chromium.
// Every refusal (a wrong URL, an unreachable centre, a used code, unsent records, a centre whose key differs from
// the pinned one) gets its own screen, keeps what was typed and changes nothing; then the same screen provisions
// the counter, shows its id and key fingerprints and the first feed, and the kiosk starts on what it wrote.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTerminal } from '../../src/ledger/open.ts';
import { purchase } from '../ledger/helpers.ts';
import { HookClient } from './hooks.ts';
import { launchChromium } from './kiosk-page.ts';
import { addTerminal, ROOT, runCli, startCentre, startProcess, startTerminal, stopProcesses, type Centre, type RunningTerminal } from './spawn-terminal.ts';

const SHOTS = join(ROOT, 'test-results');
const FINGERPRINT = /^[0-9a-f]{16}…[0-9a-f]{8}$/;

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-setup-'));
const terminals: RunningTerminal[] = [];
let browser: Browser;
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(30_000); // CI shares two cores with the other suites
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return page;
}

/** Fills the setup form (the terminal id only when it is editable) and submits it. */
async function submit(page: Page, f: { centre: string; code: string; terminalId?: string }): Promise<void> {
  await page.getByTestId('setup-centre').fill(f.centre);
  await page.getByTestId('setup-code').fill(f.code);
  if (f.terminalId !== undefined) await page.getByTestId('setup-terminalId').fill(f.terminalId);
  await page.getByTestId('setup-submit').click();
}

/** Waits for the refusal screen, returns its code, and goes back to the form. */
async function refusal(page: Page, shot: string): Promise<string> {
  const box = page.getByTestId('setup-error');
  await box.waitFor();
  const code = (await box.getAttribute('data-code'))!;
  expect(await page.getByTestId('setup-nothing-changed').count()).toBe(1);
  await page.screenshot({ path: join(SHOTS, `setup-${shot}.png`) });
  await page.getByTestId('setup-retry').click();
  await page.getByTestId('setup-form').waitFor();
  return code;
}

let centre: Centre;
let otherCentre: Centre;
let modulePath: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [centre, otherCentre] = await Promise.all([startCentre({ data: join(scratch, 'centre') }), startCentre({ data: join(scratch, 'other-centre') })]);
  modulePath = (await startProcess(['sim', 'serial', '--size', '320x240', '--no-auto'], /; open (\S+) \(socat/)).match[1]!;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(terminals.map((t) => t.stop()));
  await stopProcesses();
  rmSync(scratch, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

describe('a counter already registered, whose configuration was lost (Arabic, the default)', () => {
  it('keeps its identity, refuses while records are unsent, and refuses a centre with another key', async () => {
    const data = join(scratch, 'pinned');
    const code = await addTerminal(centre, 'T-PIN');
    const first = await runCli(['terminal', 'provision', '--data', data, '--centre', centre.url, '--code', code, '--terminal-id', 'T-PIN']);
    expect(first.code, first.stderr).toBe(0);
    rmSync(join(data, 'terminal-config.json'));
    const t = openTerminal(data);
    const pinned = t.store.settings.get<string>('sync.serverPublicKey');
    t.ledger.append(purchase({ amountMinor: 700 }));
    t.close();

    const terminal = await startTerminal(['--no-open', '--port', '0', '--data', data], 120_000);
    terminals.push(terminal);
    expect(terminal.output()).toMatch(/centre: none: not provisioned/);
    const page = await newPage();
    await page.goto(terminal.url);
    await page.getByTestId('setup-form').waitFor();
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.locator('#flow-title').innerText()).toBe('إعداد هذا الجهاز');
    // The counter keeps its identity: the id is shown and cannot be changed here.
    expect(await page.getByTestId('setup-terminalId').inputValue()).toBe('T-PIN');
    expect(await page.getByTestId('setup-terminalId').getAttribute('readonly')).not.toBeNull();
    await page.getByTestId('setup-keeps-id').waitFor();

    // One signed record has not reached the centre: refused before anything is sent.
    await submit(page, { centre: centre.url, code: 'any-code' });
    expect(await refusal(page, 'unsent-ar')).toBe('REPROVISION_UNSENT');
    expect(await page.getByTestId('setup-centre').inputValue()).toBe(centre.url); // what was typed is kept
    const exported = await runCli(['outbox', 'export', join(scratch, 'stick.jsonl'), '--data', data]);
    expect(exported.code, exported.stderr).toBe(0);

    // Exported: now the other centre answers, with a key that is not the pinned one.
    const foreign = await addTerminal(otherCentre, 'T-PIN');
    await submit(page, { centre: otherCentre.url, code: foreign });
    expect(await refusal(page, 'key-changed-ar')).toBe('CENTRE_KEY_CHANGED');

    // Nothing changed: no configuration written, the same centre key pinned, the record still queued.
    expect(existsSync(join(data, 'terminal-config.json'))).toBe(false);
    const after = openTerminal(data);
    expect(after.store.settings.get<string>('sync.serverPublicKey')).toBe(pinned);
    expect(after.store.outbox.stats().pending).toBe(1);
    after.close();
    await page.close();
  }, 180_000);
});

describe('a new counter set up from the screen (English)', () => {
  it('explains a wrong URL, an unreachable centre and a used code; then provisions and starts the kiosk on it', async () => {
    const data = join(scratch, 'fresh');
    const terminal = await startTerminal(['--no-open', '--port', '0', '--data', data, '--lang', 'en', '--scanner', `serial:${modulePath}`], 120_000);
    terminals.push(terminal);
    const hooks = await HookClient.open(terminal);
    // Until it is provisioned the kiosk answers nothing: no flow, no record, no identity made up.
    await expect(hooks.call('kiosk.session', {})).rejects.toThrow(/SETUP_NEEDED/);
    hooks.close();

    const page = await newPage();
    await page.goto(terminal.url);
    await page.getByTestId('setup-form').waitFor();
    expect(await page.getByTestId('setup-terminalId').inputValue()).toBe('');
    expect(await page.getByTestId('status-link').innerText()).toMatch(/none: not set up/);
    expect(await page.getByTestId('status-scanner').innerText()).toMatch(/disconnected/);

    await submit(page, { centre: 'centre.example', code: 'abc', terminalId: 'T-SET' });
    expect(await refusal(page, 'wrong-url')).toBe('CONFIG_INVALID');
    expect(await page.getByTestId('setup-terminalId').inputValue()).toBe('T-SET');

    await submit(page, { centre: 'http://127.0.0.1:1', code: 'abc' });
    expect(await refusal(page, 'unreachable')).toBe('CENTRE_UNREACHABLE');

    // A code already used (by another counter's provisioning).
    const used = await addTerminal(centre, 'T-USED');
    expect((await runCli(['terminal', 'provision', '--data', join(scratch, 'used'), '--centre', centre.url, '--code', used, '--terminal-id', 'T-USED'])).code).toBe(0);
    await submit(page, { centre: centre.url, code: used });
    expect(await refusal(page, 'used-code')).toBe('CODE_REFUSED');
    // None of that left anything behind: no identity, no database, no configuration. (kiosk-address: the running kiosk's owner-only address, removed at stop; palmpay.lock: the running kiosk's hold on its folder)
    expect(readdirSync(data).filter((n) => !['logs', 'settings.json', 'receipts.log', 'kiosk-address', 'palmpay.lock'].includes(n))).toEqual([]);

    // The good code, with an event on the feed (a stolen counter the centre revoked, broadcast to every counter):
    // progress, then the id and both fingerprints.
    await addTerminal(centre, 'T-STOLEN');
    await centre.admin(['terminal', 'revoke', 'T-STOLEN']);
    const code = await addTerminal(centre, 'T-SET');
    await submit(page, { centre: centre.url, code });
    await page.getByTestId('setup-done').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'setup-done-en.png') });
    expect(await page.getByTestId('setup-terminal-id').innerText()).toBe('T-SET');
    expect(await page.getByTestId('setup-key').innerText()).toMatch(FINGERPRINT);
    expect(await page.getByTestId('setup-centre-key').innerText()).toMatch(FINGERPRINT);
    expect(await page.getByTestId('setup-centre').innerText()).toBe(centre.url);
    expect(await page.getByTestId('setup-feed').innerText()).toBe('Updates in the first feed: 1');
    expect(await page.getByTestId('setup-feed-incomplete').count()).toBe(0);
    expect(JSON.parse(readFileSync(join(data, 'terminal-config.json'), 'utf8'))).toEqual({ centre: centre.url });

    // The kiosk starts on what provisioning wrote and what the command line named: serial module, remote centre.
    await page.getByTestId('setup-start').click();
    await page.getByTestId('signin').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('status-link').innerText(), { timeout: 60_000 }).toMatch(new RegExp(`online · ${centre.url.replace(/[.:/]/g, '\\$&')}`));
    // The lock screen's sign-in waits for a palm at once, so the module shows ready or waiting for a hand.
    await expect.poll(() => page.getByTestId('status-scanner').innerText(), { timeout: 60_000 }).toMatch(/serial module · (ready|waiting for a hand)/);
    // Nothing simulated but the receipt printer (no --printer given: receipts to a file, drawer simulated).
    expect(await page.getByTestId('placeholders').getAttribute('title')).toBe('no receipt printer (receipts to a file, drawer simulated)');
    expect(existsSync(join(data, 'centre.db'))).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'setup-kiosk-en.png') });

    // The screen is closed now: provisioning again from the API is refused (that is the command's job).
    const again = await HookClient.open(terminal);
    await expect(again.call('setup.provision', { centre: centre.url, code, terminalId: 'T-SET' })).rejects.toThrow(/SETUP_DONE/);
    again.close();
    await page.close();
  }, 240_000);
});
