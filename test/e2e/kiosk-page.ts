// Shared steps of the kiosk e2e tests over a Playwright page: the keypad, the sign-in (palm on the lock screen,
// then the PIN), waiting for a flow's step, and a read-only look at a database beside the running terminal; and
// enrolments signed into a stopped counter's data folder (enrolOffline).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import { encodePalm, fuseCaptures, templateFromFrame, type Template } from '../../src/host/adapters/palm.ts';
import { syntheticPalms } from '../../src/host/demo/palm-images.ts';
import { DEMO_CAPTURES } from '../../src/host/demo/seed.ts';
import { openTerminal } from '../../src/ledger/open.ts';
import { HookClient } from './hooks.ts';
import { startTerminal, type RunningTerminal } from './spawn-terminal.ts';

export function kioskPage(page: Page, api: HookClient, dataDir: string) {
  const tid = (id: string) => page.getByTestId(id);
  async function keypad(id: string, digits: string) {
    for (const d of digits) await tid(`${id}-key-${d}`).click();
    await tid(`${id}-ok`).click();
  }
  const flowStep = (kind: string, step: string) => page.locator(`[data-testid="flow"][data-kind="${kind}"][data-step="${step}"]`).waitFor();
  return {
    tid,
    keypad,
    flowStep,
    /** Signs an operator in: their palm on the lock screen, then their PIN. */
    async signIn(operator: string, pin: string) {
      await api.present(operator);
      await tid('login-pin-ok').waitFor();
      await keypad('login-pin', pin);
      await tid('operator').waitFor();
    },
    /** A supervisor approves on the override step: their palm, then their PIN. */
    async approveAsSupervisor(operator: string, pin: string) {
      await api.present(operator);
      await tid('override-pin-ok').waitFor();
      await keypad('override-pin', pin);
    },
    /** A flow's customer step: the person's palm, then their own PIN. */
    async palmThenPin(kind: string, person: string, pin: string) {
      await flowStep(kind, 'palm');
      await api.present(person);
      await flowStep(kind, 'pin');
      await keypad('pin', pin);
    },
    /**
     * The new-PIN step (enrolment, a supervised PIN change): a trivial PIN is refused (`pin-trivial`), then two that
     * differ (`pin-mismatch`), then `pin` typed twice is taken. `other` differs from `pin`.
     */
    async chooseNewPin(trivial: string, pin: string, other: string) {
      const error = () => tid('input-error').getAttribute('data-error');
      await keypad('new-pin', trivial);
      await keypad('new-pin-again', trivial);
      await expect.poll(error).toBe('pin-trivial');
      await keypad('new-pin', pin);
      await keypad('new-pin-again', other);
      await expect.poll(error).toBe('pin-mismatch');
      await keypad('new-pin', pin);
      await keypad('new-pin-again', pin);
    },
    /** One value from a database beside the running terminal (read-only; WAL allows it). */
    query<T>(file: string, sql: string, ...args: unknown[]): T {
      const d = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
      try {
        return d.prepare(sql).pluck().get(...args) as T;
      } finally {
        d.close();
      }
    },
  };
}

export interface DemoKiosk {
  dataDir: string;
  terminal: RunningTerminal;
  api: HookClient;
  page: Page;
  k: ReturnType<typeof kioskPage>;
}

const CHROMIUM = process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Headless Chromium as the kiosk tests run it (Debian's, or $PALMPAY_CHROMIUM). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/**
 * The real `palmpay terminal --demo` (browser mode, test hooks on) in its own data folder, and headless Chromium on
 * its lock screen: started in the file's beforeAll, stopped in its afterAll (which also fails on an uncaught error
 * in the page). The fields are set once beforeAll has run.
 */
export function demoKiosk(name: string): DemoKiosk {
  const kiosk = {} as DemoKiosk;
  let profileDir: string | undefined;
  let context: BrowserContext | undefined;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    kiosk.dataDir = mkdtempSync(join(tmpdir(), `palmpay-e2e-${name}-`));
    profileDir = mkdtempSync(join(tmpdir(), `palmpay-e2e-${name}-profile-`));
    kiosk.terminal = await startTerminal(['--no-open', '--port', '0', '--data', kiosk.dataDir, '--demo', '--test-hooks'], 150_000);
    kiosk.api = await HookClient.open(kiosk.terminal);
    context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
    kiosk.page = context.pages()[0] ?? (await context.newPage());
    kiosk.page.setDefaultTimeout(30_000);
    kiosk.page.on('pageerror', (err) => pageErrors.push(err.message));
    kiosk.k = kioskPage(kiosk.page, kiosk.api, kiosk.dataDir);
    await kiosk.page.goto(kiosk.terminal.url);
    await kiosk.k.tid('signin').waitFor();
  }, 240_000);
  afterAll(async () => {
    kiosk.api?.close();
    await context?.close();
    await kiosk.terminal?.stop();
    for (const dir of [kiosk.dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  });
  return kiosk;
}

export interface OfflineEnrolment {
  /** The synthetic hand (the simulators' identity) the person lays on the glass. */
  palm: string;
  nameAr: string;
  nameLatin: string;
  employer?: string;
  accountId?: string;
  pin?: string;
}

/**
 * Enrols people at a counter whose `palmpay terminal` is not running: the same bank call the enrolment screen ends
 * in (SqliteBank.saveEnrolment: provisional templates, a signed `enrolment` record in the outbox), from three
 * enrolment captures of each synthetic hand at the simulators' frame size (320×240: `palmpay sim serial --size
 * 320x240`, and `--scanner sim`). The counter uploads them when it starts; the centre confirms them and sends
 * them to the region's other counters. Returns the new person ids, in order. (Written beside the stopped counter
 * to keep the e2e short; never an operator's palm: a new counter's first operator is enrolled with the centre's
 * one-time code, `palmpay terminal enrol-operator`, and the centre refuses any other enrolment of an operator's id.)
 */
export async function enrolOffline(dataDir: string, operatorId: string, people: OfflineEnrolment[]): Promise<string[]> {
  const t = openTerminal(dataDir);
  try {
    const bank = new SqliteBank<Template>({ terminal: t, encode: encodePalm, fuse: fuseCaptures });
    const images = syntheticPalms({ width: 320, height: 240 });
    const ids: string[] = [];
    for (const [n, p] of people.entries()) {
      const captures: Template[] = [];
      for (let i = 0; i < DEMO_CAPTURES; i++) {
        const r = templateFromFrame(await images.enrolCapture(p.palm, i), 'left', 'enrol');
        if (!r.ok) throw new Error(`palm ${p.palm}: enrolment capture ${i + 1} failed (${r.reason})`);
        captures.push(r.template);
      }
      const draft = { nameAr: p.nameAr, nameLatin: p.nameLatin, idNumber: `0100000${n}`, phone: `+96391234567${n % 10}`, employer: p.employer ?? '', accountId: p.accountId ?? '' };
      const { personId } = await bank.saveEnrolment({ draft, templates: { left: captures, right: [] }, operatorId, overrideBy: null, pin: p.pin ?? null });
      ids.push(personId);
    }
    return ids;
  } finally {
    t.close();
  }
}
