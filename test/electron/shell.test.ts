// The Electron main process's security settings and IPC bridge, run against a stand-in `electron` module
// with the real host runtime behind it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_CALL_NAMES, IPC_EVENT_CHANNEL, ipcChannel } from '../../src/api/index.ts';
import { ELECTRON_CSP, START_URL, windowOptions } from '../../electron/security.ts';
import { parseArgs, startShell } from '../../electron/shell.ts';
import { createElectronStandIn, type ElectronStandIn } from './stand-in.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-electron-'));
const baseDir = join(scratch, 'app', 'electron');
let e: ElectronStandIn;
let shell: ReturnType<typeof startShell>;
const said: string[] = [];

beforeAll(async () => {
  mkdirSync(baseDir, { recursive: true });
  mkdirSync(join(scratch, 'app', 'renderer'));
  writeFileSync(join(scratch, 'app', 'renderer', 'index.html'), '<!doctype html><title>kiosk</title>');
  writeFileSync(join(scratch, 'secret.txt'), 'do not serve');
  e = createElectronStandIn();
  // `palmpay terminal --demo` passes --demo through: the simulated scanner and the embedded centre.
  shell = startShell(e.asElectron, { argv: ['electron', 'main.cjs', '--data', join(scratch, 'data'), '--lang', 'en', '--demo'], baseDir, say: (l) => said.push(l) });
  await shell.ready;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const win = () => e.BrowserWindow.instances[0]!;
const invoke = (name: string, frame: unknown, ...args: unknown[]) => e.ipcMain.handlers.get(ipcChannel(name))!({ senderFrame: frame }, ...args);

describe('Electron window', () => {
  it('opens one kiosk window with the sandboxed, isolated renderer and loads the app page', () => {
    expect(e.BrowserWindow.instances).toHaveLength(1);
    expect(win().options).toEqual(windowOptions(join(baseDir, 'preload.cjs'), false));
    expect(win().options).toMatchObject({
      kiosk: true,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, devTools: false },
    });
    expect(win().loadedUrl).toBe(START_URL);
  });

  it('says which parts are placeholders (the simulated scanner), and no longer calls the real server one', () => {
    expect(said).toContainEqual(expect.stringMatching(/^palmpay terminal: PLACEHOLDER scanner: simulated scanner/));
    expect(said.some((line) => /PLACEHOLDER server/.test(line))).toBe(false);
  });

  it('blocks navigation, redirects, webviews and window.open', () => {
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() };
      win().webContents.emit(name, event, 'https://evil.example/');
      expect(event.preventDefault, name).toHaveBeenCalledOnce();
    }
    expect(win().webContents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check, and all device access', () => {
    const s = e.session.defaultSession;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'serial', 'usb', 'openExternal']) {
      const callback = vi.fn();
      s.permissionRequest!(win().webContents, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect(s.permissionCheck!(win().webContents, permission, START_URL, {})).toBe(false);
    }
    expect(s.devicePermission!({ deviceType: 'hid', origin: 'app://palmpay' })).toBe(false);
  });

  it('sets a strict CSP on every response', () => {
    expect(ELECTRON_CSP).toContain("default-src 'none'");
    expect(ELECTRON_CSP).toContain("script-src 'self'");
    expect(ELECTRON_CSP).toContain("connect-src 'self'");
    expect(ELECTRON_CSP).not.toMatch(/unsafe|ws:|http:/);
    const callback = vi.fn();
    e.session.defaultSession.headersReceived!({ responseHeaders: { 'X-A': ['1'] } }, callback);
    expect(callback).toHaveBeenCalledWith({ responseHeaders: { 'X-A': ['1'], 'Content-Security-Policy': [ELECTRON_CSP] } });
  });

  it('serves only the renderer folder over app://palmpay, with the CSP', async () => {
    expect(e.protocol.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    const handle = e.protocol.handlers.get('app')!;
    const ok = await handle({ url: 'app://palmpay/index.html' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(ELECTRON_CSP);
    expect(ok.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ok.text()).toContain('kiosk');
    for (const url of ['app://palmpay/../../secret.txt', 'app://palmpay/%2e%2e/%2e%2e/secret.txt', 'app://palmpay/..%2F..%2Fsecret.txt', 'app://other/index.html', 'app://palmpay/missing.js']) {
      expect((await handle({ url })).status, url).toBe(404);
    }
  });

  it('focuses the existing window when a second instance starts', () => {
    e.app.emit('second-instance');
    expect(win().focused).toBe(true);
  });
});

describe('Electron IPC', () => {
  it('has one handler per call in the table, and no other', () => {
    expect([...e.ipcMain.handlers.keys()].sort()).toEqual(API_CALL_NAMES.map(ipcChannel).sort());
  });

  it('answers calls from the app page through the real host', async () => {
    const main = win().webContents.mainFrame;
    expect(await invoke('status.get', main)).toMatchObject({ ok: true, output: { mode: 'electron', scanner: { kind: 'simulated', placeholder: true } } });
    expect(await invoke('settings.get', main)).toMatchObject({ ok: true, output: { language: 'en' } }); // from --lang
  });

  it('refuses calls from any other frame', async () => {
    const main = win().webContents.mainFrame;
    const frames = [
      null,
      undefined,
      { ...main, url: 'https://evil.example/' }, // our frame, navigated elsewhere
      { ...main, routingId: 7, parent: main }, // a subframe of our page
      { ...main, routingId: 2 }, // looks right but is another frame (another window)
      { ...main, processId: 5 },
    ];
    for (const frame of frames) {
      expect(await invoke('settings.setLanguage', frame, { language: 'ku' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect(await invoke('settings.get', main)).toMatchObject({ output: { language: 'en' } }); // unchanged
  });

  it('validates every argument', async () => {
    const main = win().webContents.mainFrame;
    expect(await invoke('settings.setLanguage', main, { language: 'fr' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await invoke('settings.setLanguage', main, 'ku')).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await invoke('settings.setLanguage', main, { language: 'ku' }, 'extra')).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await invoke('session.ping', main, { nonce: 'x'.repeat(1000) })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });

  it('pushes host events to the window', async () => {
    const main = win().webContents.mainFrame;
    win().webContents.sent.length = 0;
    expect(await invoke('settings.setDigits', main, { digits: 'latn' })).toMatchObject({ ok: true });
    expect(win().webContents.sent).toEqual([[IPC_EVENT_CHANNEL, { type: 'settings', settings: { language: 'en', digits: 'latn' } }]]);
  });
});

describe('Electron start-up', () => {
  it('quits at once when another instance holds the lock', async () => {
    const other = createElectronStandIn({ lock: false });
    const s = startShell(other.asElectron, { argv: [], baseDir });
    await s.ready;
    expect(other.app.quitCalls).toBe(1);
    expect(other.BrowserWindow.instances).toHaveLength(0);
    expect(other.ipcMain.handlers.size).toBe(0);
  });

  it('reports an unusable data folder in one line and exits 1', async () => {
    writeFileSync(join(scratch, 'file'), '');
    const other = createElectronStandIn();
    const lines: string[] = [];
    const s = startShell(other.asElectron, { argv: ['--data', join(scratch, 'file', 'data')], baseDir, fail: (l) => lines.push(l) });
    await s.ready;
    expect(other.app.exitCode).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^palmpay: cannot use data folder .*part of the path is a file/);
    expect(other.BrowserWindow.instances).toHaveLength(0);
  });
});

describe('the shell reads the flags palmpay terminal passes through', () => {
  it('data, language, demo, scanner, centre, insecure http', () => {
    expect(parseArgs(['e', 'main.cjs', '--data', '/d', '--lang', 'ku', '--demo', '--scanner', 'serial:/dev/ttyACM0', '--centre', 'https://c.example', '--insecure-http'])).toEqual({
      data: '/d', lang: 'ku', demo: true, scanner: 'serial:/dev/ttyACM0', centre: 'https://c.example', insecureHttp: true,
    });
    expect(parseArgs(['e', 'main.cjs', '--lang', 'fr'])).toEqual({ data: undefined, lang: undefined });
  });
});
