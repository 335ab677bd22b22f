// Opens the browser kiosk in an installed Chromium (or Chrome/Edge): app + kiosk mode, a throw-away
// profile, and the flags that keep the browser from calling home (DESIGN §7). The tokened URL never goes on the
// browser's command line (any local user reads /proc/PID/cmdline): the app window opens on an empty page and is
// sent to the kiosk over the DevTools pipe only this process holds (devtools-pipe.ts).
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnWithPipe } from './devtools-pipe.ts';

const POSIX_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome', 'microsoft-edge'];
const WINDOWS_PATHS = [
  'Google\\Chrome\\Application\\chrome.exe',
  'Chromium\\Application\\chrome.exe',
  'Microsoft\\Edge\\Application\\msedge.exe',
];

/** Quiet, offline, no profile reuse. Shared with the end-to-end tests. */
export const NO_NETWORK_FLAGS = [
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-extensions',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export function findChromium(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | null {
  const candidates: string[] = [];
  if (env.PALMPAY_BROWSER) candidates.push(env.PALMPAY_BROWSER);
  if (platform === 'win32') {
    for (const base of [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA]) {
      if (base) candidates.push(...WINDOWS_PATHS.map((p) => join(base, p)));
    }
  } else {
    for (const dir of (env.PATH ?? '/usr/bin').split(delimiter)) candidates.push(...POSIX_NAMES.map((n) => join(dir, n)));
  }
  return candidates.find(isExecutable) ?? null;
}

/** On Linux a window needs a display; without one (a server, CI) we just print the URL. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'linux' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The empty page the app window opens on (an app window needs a URL; about:blank is refused as one). */
export const BLANK_APP_PAGE = 'data:text/html,';

/** The kiosk browser's switches: nothing secret in them (the page comes over the DevTools pipe). */
export function kioskArgs(profileDir: string, asRoot: boolean): string[] {
  return [
    `--app=${BLANK_APP_PAGE}`,
    '--kiosk',
    `--user-data-dir=${profileDir}`,
    ...NO_NETWORK_FLAGS,
    '--noerrdialogs',
    ...(asRoot ? ['--no-sandbox'] : []), // Chromium refuses to start as root with its sandbox on
  ];
}

export interface OpenedBrowser {
  child: ChildProcess;
  exited: Promise<number | null>;
  close(): void;
}

/** Starts the kiosk browser and sends it to `url`; rejects (and closes it) when the page cannot be opened. */
export async function openKiosk(browser: string, url: string, opts: { timeoutMs?: number } = {}): Promise<OpenedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-'));
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const { child, devtools } = spawnWithPipe(browser, kioskArgs(profile, asRoot));
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  }).finally(() => rmSync(profile, { recursive: true, force: true }));
  const opened: OpenedBrowser = { child, exited, close: () => void child.kill() };
  try {
    const page = await devtools.attachFirstPage(opts.timeoutMs ?? 30_000);
    await devtools.navigate(page, url);
    // The pipe stays open while the kiosk runs: Chromium closes when it does.
    return opened;
  } catch (err) {
    opened.close();
    await exited;
    throw err;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
