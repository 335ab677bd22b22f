// `palmpay terminal`: picks the mode and runs until stopped. Electron when its binary is present (and a
// window is wanted); otherwise the browser kiosk: the host serves on 127.0.0.1 with a per-start token and
// opens Chromium in kiosk mode if one is installed and a display exists, else writes the address (with the token)
// to an owner-only file in the data folder.
import { spawn } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Language } from '../api/index.ts';
import { ensureBuilt, rendererOutput } from './app-build.ts';
import { prepareDataDir } from '../util/paths.ts';
import { findChromium, hasDisplay, openKiosk, type OpenedBrowser } from './chromium.ts';
import { electronBinary, tryElectronDownloadOnce } from './electron-binary.ts';
import { startKioskServer } from './kiosk-server.ts';
import { startRuntime } from './runtime.ts';
import { describeCentre, describePrinter, describeScanner, type ConfigFlags } from './terminal-config.ts';
import { lockDataFolder } from './data-lock.ts';

export interface TerminalOptions {
  root: string;
  version: string;
  data?: string;
  port: number;
  /** false: serve only, open nothing (tests, remote screens). */
  open: boolean;
  /** true: never use Electron even if installed. */
  browser: boolean;
  lang?: Language;
  /** Seed a demo branch into an empty store. */
  demo?: boolean;
  /** Tests only: script the simulated scanner over the API. */
  testHooks?: boolean;
  /** Real palm images for the simulated scanner (`--sim-images DIR`). */
  simImages?: string;
  /** `--scanner`, `--centre`, `--insecure-http`: over the data folder's terminal-config.json. */
  config?: Omit<ConfigFlags, 'demo'>;
  /** One line for the person at the console. */
  say(line: string): void;
}

/** Resolves with the process exit code once the terminal stops. */
export async function runTerminal(opts: TerminalOptions): Promise<number> {
  const dataDir = prepareDataDir(opts.data); // first: an unusable data folder is reported before anything else
  const release = await lockDataFolder(dataDir, 'palmpay terminal');
  try {
    return await runTerminalLocked(opts, dataDir);
  } finally {
    await release().catch(() => undefined);
  }
}

async function runTerminalLocked(opts: TerminalOptions, dataDir: string): Promise<number> {
  const say = (line: string) => opts.say(`palmpay terminal: ${line}`);

  let electron: string | null = null;
  let why = 'serve only (--no-open)';
  if (opts.open && !opts.browser && !hasDisplay()) {
    why = 'no display for a window';
  } else if (opts.open && !opts.browser) {
    electron = electronBinary(opts.root);
    if (!electron) {
      const outcome = await tryElectronDownloadOnce(opts.root, dataDir, () =>
        say('Electron binary not installed; trying its download once (30 s limit)…'),
      );
      electron = outcome === 'downloaded' ? electronBinary(opts.root) : null;
      why = outcome === 'skipped' ? 'Electron binary not installed' : 'Electron binary could not be downloaded';
    }
  } else if (opts.browser) {
    why = '--browser';
  }

  const built = await ensureBuilt(opts.root, { renderer: true, electron: electron !== null });
  if (built.length) say(`built ${built.join(' and ')} into dist/`);

  if (electron) {
    say('Electron mode');
    return runElectron(electron, opts.root, dataDir, opts.lang, shellFlags(opts));
  }

  say(`browser mode (${why})`);
  const runtime = await startRuntime({ mode: 'browser', version: opts.version, dataDir, language: opts.lang, demo: opts.demo, testHooks: opts.testHooks, simImages: opts.simImages, config: opts.config, rendererDir: rendererOutput(opts.root) });
  let server;
  try {
    server = await startKioskServer({
      dispatch: runtime.dispatch,
      events: runtime.events,
      rendererDir: rendererOutput(opts.root),
      port: opts.port,
      log: runtime.log,
    });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  say(`data folder: ${dataDir} (log: ${join(dataDir, 'logs', 'current.log')})`);
  say(`scanner: ${describeScanner(runtime.config.scanner)}; centre: ${describeCentre(runtime.config.centre)}; printer: ${describePrinter(runtime.config.printer)}`);
  for (const p of runtime.service.status().placeholders) say(`PLACEHOLDER ${p.part}: ${p.description}`);
  runtime.log.info({ origin: server.origin }, 'browser kiosk listening');

  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // The address with its token is never printed or logged (a console log, a journal, a screen share would keep
  // it): our own kiosk browser gets it over its DevTools pipe; anyone else reads the owner-only file.
  const browser = opts.open && hasDisplay() ? findChromium() : null;
  let kiosk: OpenedBrowser | null = null;
  if (browser) {
    try {
      kiosk = await openKiosk(browser, server.url);
      say(`listening on ${server.origin}; opened in ${browser} (kiosk mode); close it or press Ctrl+C to stop`);
    } catch (err) {
      say(`could not open ${browser}: ${(err as Error).message}`);
    }
  }
  let addressFile: string | null = null;
  if (!kiosk) {
    addressFile = writeAddressFile(dataDir, server.url);
    say(`listening on ${server.origin}; the address to open (with its access token) is in ${addressFile}, readable only by this user`);
    if (opts.open) say(!hasDisplay() ? 'no display: open that address in a browser; Ctrl+C stops' : browser ? 'open that address in a browser; Ctrl+C stops' : 'no Chromium found: open that address in a browser; Ctrl+C stops');
  }
  if (kiosk) {
    await Promise.race([stopped, kiosk.exited]);
    kiosk.close();
  } else {
    await stopped;
  }
  if (addressFile) rmSync(addressFile, { force: true });
  await server.close();
  await runtime.close();
  say('stopped');
  return 0;
}

/** `<data>/kiosk-address`: the kiosk's address with its token, readable by the terminal's user only (0600). */
export const ADDRESS_FILE = 'kiosk-address';

function writeAddressFile(dataDir: string, url: string): string {
  const file = join(dataDir, ADDRESS_FILE);
  rmSync(file, { force: true }); // a file left by a killed run may have other permissions: write a fresh one
  writeFileSync(file, `${url}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // exactly owner read-write, whatever the umask
  return file;
}

/** The flags the Electron shell reads again (electron/shell.ts parseArgs). */
function shellFlags(opts: TerminalOptions): string[] {
  const c = opts.config ?? {};
  return [
    ...(opts.demo ? ['--demo'] : []),
    ...(c.scanner ? ['--scanner', c.scanner] : []),
    ...(c.centre ? ['--centre', c.centre] : []),
    ...(c.insecureHttp ? ['--insecure-http'] : []),
    ...(c.printer ? ['--printer', c.printer] : []),
  ];
}

function runElectron(binary: string, root: string, dataDir: string, lang: Language | undefined, flags: string[]): Promise<number> {
  const args = [join(root, 'dist', 'electron', 'main.cjs'), '--data', dataDir, ...(lang ? ['--lang', lang] : []), ...flags];
  // Chromium's sandbox will not start as root; a kiosk should never run as root, this is for development.
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(binary, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? 1);
    });
  });
}
