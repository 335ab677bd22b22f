// The first operator from the counter's own screen (issue 14), across real processes: `palmpay server`, the
// technician's `terminal add` / `terminal provision`, the operator granted a role and a PIN and a one-time operator
// enrolment code issued at the centre; then `palmpay terminal` (no --demo: the remote centre; the simulated scanner
// with test hooks to lay the hands) in headless Chromium. Nobody can sign in; on the locked screen the technician
// opens "Enrol an operator with a code", a wrong code is refused with its own screen keeping what was typed, the right
// one names the operator, the enrolment screens capture the palm, and back on the lock screen the operator signs in
// with palm and PIN. Each screen fits the counter's sizes; the code appears in no log.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kAr } from '../../renderer/flows/i18n/ar.ts';
import { kEn } from '../../renderer/flows/i18n/en.ts';
import { kKu } from '../../renderer/flows/i18n/ku.ts';
import { HookClient } from './hooks.ts';
import { kioskPage } from './kiosk-page.ts';
import { addTerminal, ROOT, runCli, startCentre, startTerminal, stopProcesses, type Centre, type RunningTerminal } from './spawn-terminal.ts';
import { checkLayout } from './layout-check.ts';

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-results', 'operator-screen');
const scratch = mkdtempSync(join(tmpdir(), 'palmpay-operator-screen-'));
const counter = join(scratch, 'counter');

let centre: Centre;
let terminal: RunningTerminal;
let context: BrowserContext;
let page: Page;
let api: HookClient;
const pageErrors: string[] = [];
const problems: string[] = [];

async function fits(name: string): Promise<void> {
  await checkLayout(page, name, { shots: SHOTS, problems, restore: [1280, 900] });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  centre = await startCentre({ data: join(scratch, 'centre') });
  const code = await addTerminal(centre, 'T-SCR');
  const p = await runCli(['terminal', 'provision', '--data', counter, '--centre', centre.url, '--code', code, '--terminal-id', 'T-SCR']);
  if (p.code !== 0) throw new Error(p.stderr);
  await centre.admin(['operator', 'grant', 'T-SCR', 'OP-ROJDA', '--name', 'Rojda Ali', '--role', 'supervisor', '--pin-stdin'], '2580\n');
  terminal = await startTerminal(['--no-open', '--port', '0', '--data', counter, '--scanner', 'sim', '--test-hooks'], 150_000);
  api = await HookClient.open(terminal);
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(terminal.url);
}, 300_000);

afterAll(async () => {
  api?.close();
  await context?.close();
  await terminal?.stop();
  await stopProcesses();
  rmSync(scratch, { recursive: true, force: true });
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

describe('the first operator, enrolled from the locked sign-in screen', () => {
  it('a wrong code is refused on its own screen; the right one enrols the operator, who then signs in with palm and PIN', async () => {
    const k = kioskPage(page, api, counter);
    const { tid, flowStep } = k;
    await tid('signin').waitFor();
    // Nobody can sign in: the palm on the lock screen is nobody's.
    await tid('enrol-operator-open').waitFor();
    await fits('lock');
    await tid('enrol-operator-open').click();
    await tid('opcode').fill('AAAAAAAAAAAA');
    await tid('opcode-submit').click();
    await expect.poll(() => tid('opcode-error').getAttribute('data-code')).toBe('OPERATOR_CODE_INVALID');
    // In Kurmanji and English too (the screen keeps the code and its refusal across the switch).
    for (const [lng, msgs] of [['ku', kKu], ['en', kEn]] as const) {
      await tid(`lang-${lng}`).click();
      await expect.poll(() => page.getAttribute('html', 'lang')).toBe(lng);
      expect(await tid('opcode-error').innerText()).toContain(msgs.operatorCode.error.OPERATOR_CODE_INVALID.title);
      await fits(`code-refused-${lng}`);
    }
    await tid('lang-ar').click();
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('ar');
    expect(await tid('opcode-error').innerText()).toContain(kAr.operatorCode.error.OPERATOR_CODE_INVALID.title);
    expect(await tid('opcode').inputValue()).toBe('AAAAAAAAAAAA'); // what was typed is kept
    await fits('code-refused');

    const issued = await centre.admin(['operator', 'enrol-code', 'T-SCR', 'OP-ROJDA']);
    const [, code, codeId] = /enrolment code (\S+) \(id (OC-[0-9a-f]+);/.exec(issued)!;
    // A web page cannot use the code, even holding the kiosk's token: the API socket refuses a foreign origin.
    const token = new URLSearchParams(new URL(terminal.url).hash.slice(1)).get('token')!;
    const socketUrl = `${terminal.url.replace(/^http/, 'ws').replace(/\/?#.*$/, '')}/api?token=${encodeURIComponent(token)}`;
    const callFrom = (p: Page, call: string, input: unknown) =>
      p.evaluate(
        ([ws, name, inp]) =>
          new Promise<string>((resolve) => {
            const s = new WebSocket(ws as string);
            s.onopen = () => s.send(JSON.stringify({ id: 1, call: name, input: inp }));
            // The answer to call 1; the link and other events the socket pushes may come before it.
            s.onmessage = (m) => {
              if ((JSON.parse(String(m.data)) as { id?: unknown }).id !== 1) return;
              resolve(`answered ${String(m.data)}`);
              s.close();
            };
            s.onerror = () => resolve('refused');
            setTimeout(() => resolve('timeout'), 5000);
          }),
        [socketUrl, call, input] as const,
      );
    expect(await callFrom(page, 'session.ping', { nonce: 'n1' })).toMatch(/^answered .*"ok":true/); // the URL is right: the kiosk's own page is answered
    const evil = await context.newPage();
    await evil.goto('data:text/html,<title>elsewhere</title>');
    expect(await callFrom(evil, 'kiosk.enrolOperator', { code })).toBe('refused');
    await evil.close();
    expect(await centre.admin(['operator', 'enrol-codes'])).toMatch(new RegExp(`${codeId}\\tT-SCR\\tOP-ROJDA\\topen`)); // not even claimed

    await tid('opcode').fill(code!);
    await tid('opcode-submit').click();
    await flowStep('enrolment', 'form');
    expect(await tid('enrol-as').innerText()).toContain('Rojda Ali');
    expect(await tid('enrol-as').innerText()).toContain(kAr.operatorCode.role.supervisor);
    await fits('operator-form');
    await tid('f-nameAr').fill('روجدا علي');
    await tid('f-nameLatin').fill('Rojda Ali');
    await tid('f-idNumber').fill('0100200300');
    await tid('f-phone').fill('0912 345 678');
    await tid('f-employer').fill('BRANCH');
    await tid('form-submit').click();
    await flowStep('enrolment', 'consent');
    await tid('consent-given').click();
    await flowStep('enrolment', 'capture');
    await fits('operator-capture');
    for (let i = 0; i < 6; i++) await api.present('rojda');
    await flowStep('enrolment', 'review');
    await tid('capture-finish').click();
    await flowStep('enrolment', 'enrolled');
    await tid('enrol-operator-done').waitFor();
    await fits('operator-enrolled');
    await tid('done').click();

    // Back on the lock screen, whose sign-in reads the scanner again. While a code is typed it does not: a hand laid
    // meanwhile signs nobody in behind the code screen (its own PIN pad would be hidden there).
    await tid('signin').waitFor();
    const sessionStep = async () => (await api.call<{ state: { step: string } }>('kiosk.session', {})).state.step;
    await tid('enrol-operator-open').click();
    await tid('opcode').waitFor();
    await expect.poll(sessionStep).toBe('locked');
    await api.present('rojda');
    await new Promise((r) => setTimeout(r, 1500)); // a sign-in still reading would take the palm within this
    expect(await sessionStep()).toBe('locked');
    await tid('opcode-back').click();
    // Back on the lock screen the sign-in reads again, and the hand still on the glass is the operator's: palm, then PIN.
    expect(await tid('lock-reason').getAttribute('data-reason')).not.toBe('manual'); // the pause is not shown as a lock
    await tid('login-pin-ok').waitFor();
    await k.keypad('login-pin', '2580');
    await tid('operator').waitFor();
    expect(await tid('operator').innerText()).toContain('Rojda');
    await expect.poll(async () => centre.admin(['operator', 'enrol-codes']), { timeout: 60_000 }).toMatch(new RegExp(`${codeId}\\tT-SCR\\tOP-ROJDA\\tused`));
    expect(terminal.output()).not.toContain(code!);
    expect(problems).toEqual([]);
  }, 300_000);
});
