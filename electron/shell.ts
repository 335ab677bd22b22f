// The Electron main process, with Electron passed in (so tests run it against a stand-in module).
// It composes the same host runtime as the browser kiosk and bridges the API table over IPC.
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import type * as ElectronNS from 'electron';
import { API_CALL_NAMES, IPC_EVENT_CHANNEL, ipcChannel, LANGUAGES, type CallResult, type Language } from '../src/api/index.ts';
import { startRuntime as realStartRuntime, type Runtime, type RuntimeOptions } from '../src/host/runtime.ts';
import { PalmPayError } from '../src/util/errors.ts';
import type { Logger } from '../src/util/log.ts';
import { APP_HOST, APP_SCHEME, ELECTRON_CSP, ELECTRON_RESPONSE_HEADERS, isTrustedFrame, mimeType, START_URL, windowOptions } from './security.ts';

export type ElectronModule = Pick<typeof ElectronNS, 'app' | 'BrowserWindow' | 'ipcMain' | 'protocol' | 'session'>;

export interface ShellOptions {
  argv: string[];
  /** Folder of the bundled main.cjs: preload.cjs sits beside it, the renderer in ../renderer. */
  baseDir: string;
  startRuntime?: (opts: RuntimeOptions) => Promise<Runtime>;
  /** Where the one-line fatal error goes (stderr). */
  fail?: (line: string) => void;
  /** Where the start-up lines for a person go (stdout). */
  say?: (line: string) => void;
}

export interface Shell {
  /** Resolves once the window is loading (or the app decided to quit). */
  ready: Promise<void>;
  window(): ElectronNS.BrowserWindow | null;
}

export interface ShellArgs {
  data?: string;
  lang?: Language;
  demo?: boolean;
  /** Over `<data>/terminal-config.json`, as `palmpay terminal` passes them. */
  scanner?: string;
  centre?: string;
  insecureHttp?: boolean;
  printer?: string;
}

export function parseArgs(argv: string[]): ShellArgs {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const lang = value('--lang');
  return {
    data: value('--data'),
    lang: LANGUAGES.find((l) => l === lang),
    ...(argv.includes('--demo') ? { demo: true } : {}),
    ...(value('--scanner') ? { scanner: value('--scanner') } : {}),
    ...(value('--centre') ? { centre: value('--centre') } : {}),
    ...(argv.includes('--insecure-http') ? { insecureHttp: true } : {}),
    ...(value('--printer') ? { printer: value('--printer') } : {}),
  };
}

export function startShell(electron: ElectronModule, opts: ShellOptions): Shell {
  const { app, BrowserWindow, ipcMain, protocol, session } = electron;
  const fail = opts.fail ?? ((line: string) => process.stderr.write(line + '\n'));
  const say = opts.say ?? ((line: string) => process.stdout.write(line + '\n'));
  let win: ElectronNS.BrowserWindow | null = null;

  // One terminal per machine: a second start focuses the first and exits.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return { ready: Promise.resolve(), window: () => null };
  }
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  // Must happen before 'ready'.
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

  // Every web contents (window, or anything that slips in): no navigation, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.on('window-all-closed', () => app.quit());

  const ready = app.whenReady().then(async () => {
    const args = parseArgs(opts.argv);
    let runtime: Runtime;
    try {
      runtime = await (opts.startRuntime ?? realStartRuntime)({
        mode: 'electron', version: app.getVersion(), dataDir: args.data, language: args.lang, demo: args.demo,
        config: { scanner: args.scanner, centre: args.centre, insecureHttp: args.insecureHttp, printer: args.printer },
        // The receipt page paints printed receipts (in the system's Chromium; Electron's own is not used for it yet).
        rendererDir: join(opts.baseDir, '..', 'renderer'),
      });
    } catch (err) {
      fail(`palmpay: ${err instanceof PalmPayError ? err.message : (err as Error).message}`);
      app.exit(1);
      return;
    }
    app.on('before-quit', () => void runtime.close());
    say(`palmpay terminal: data folder: ${runtime.dataDir}`);
    for (const p of runtime.service.status().placeholders) say(`palmpay terminal: PLACEHOLDER ${p.part}: ${p.description}`);

    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    ses.setPermissionCheckHandler(() => false);
    ses.setDevicePermissionHandler(() => false); // WebHID / WebUSB / Web Serial: the scanner is the host's, not the page's
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [ELECTRON_CSP] } });
    });
    protocol.handle(APP_SCHEME, (request) => serveRenderer(request.url, join(opts.baseDir, '..', 'renderer')));

    registerIpc(ipcMain, runtime, () => win?.webContents.mainFrame ?? null);

    win = new BrowserWindow(windowOptions(join(opts.baseDir, 'preload.cjs'), !app.isPackaged && process.env.PALMPAY_DEVTOOLS === '1'));
    const unsubscribe = runtime.events.subscribe((event) => win?.webContents.send(IPC_EVENT_CHANNEL, event));
    win.on('closed', () => {
      unsubscribe();
      win = null;
    });
    win.once('ready-to-show', () => win?.show());
    await win.loadURL(START_URL);
  });

  return { ready, window: () => win };
}

/** One IPC handler per call in the table; each checks the sender frame, then lets the dispatcher validate. */
export function registerIpc(
  ipcMain: ElectronModule['ipcMain'],
  runtime: Pick<Runtime, 'dispatch' | 'log'>,
  mainFrame: () => ElectronNS.WebFrameMain | null,
): void {
  for (const name of API_CALL_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event, ...args: unknown[]): Promise<CallResult> => {
      if (!isTrustedFrame(event.senderFrame, mainFrame())) {
        runtime.log.warn({ call: name, url: event.senderFrame?.url }, 'IPC call from an untrusted frame refused');
        return { ok: false, error: { code: 'FORBIDDEN', message: 'calls are only accepted from the terminal page' } };
      }
      if (args.length > 1) return { ok: false, error: { code: 'BAD_INPUT', message: `${name}: takes one argument` } };
      return runtime.dispatch(name, args[0]);
    });
  }
}

/** Serves dist/renderer under app://palmpay/ with the CSP; nothing outside that folder, no other host. */
export async function serveRenderer(url: string, rendererDir: string, log?: Logger): Promise<Response> {
  const notFound = () => new Response('not found', { status: 404, headers: ELECTRON_RESPONSE_HEADERS });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return notFound();
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return notFound();
  const relative = decodeURIComponent(parsed.pathname).replace(/^\/+/, '') || 'index.html';
  const root = normalize(rendererDir + sep);
  const file = normalize(join(root, relative));
  if (!file.startsWith(root)) return notFound();
  try {
    const body = await readFile(file);
    return new Response(body, { status: 200, headers: { ...ELECTRON_RESPONSE_HEADERS, 'Content-Type': mimeType(file) } });
  } catch (err) {
    log?.debug({ err, url }, 'renderer file not found');
    return notFound();
  }
}
