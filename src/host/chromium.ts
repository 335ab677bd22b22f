// Opens the browser kiosk in an installed Chromium (or Chrome/Edge): app + kiosk mode, a throw-away
// profile, and the flags that keep the browser from calling home (DESIGN §7).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

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

export function kioskArgs(url: string, profileDir: string, asRoot: boolean): string[] {
  return [
    `--app=${url}`,
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

export function openKiosk(browser: string, url: string): OpenedBrowser {
  const profile = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-'));
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const child = spawn(browser, kioskArgs(url, profile, asRoot), { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  }).finally(() => rmSync(profile, { recursive: true, force: true }));
  return { child, exited, close: () => void child.kill() };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
