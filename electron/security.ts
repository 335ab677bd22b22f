// The Electron shell's security settings, as plain data so tests can assert them without Electron.
import type { BrowserWindowConstructorOptions } from 'electron';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../src/host/csp.ts';

/** The renderer is served from this privileged custom scheme, never from file:// (which would grant file access). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'palmpay';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const START_URL = `${APP_ORIGIN}/index.html`;

/** Electron talks IPC, not WebSocket: the renderer may connect nowhere. */
export const ELECTRON_CSP = contentSecurityPolicy();
export const ELECTRON_RESPONSE_HEADERS: Readonly<Record<string, string>> = { 'Content-Security-Policy': ELECTRON_CSP, ...SECURITY_HEADERS };

export function windowOptions(preload: string, devTools = false): BrowserWindowConstructorOptions {
  return {
    kiosk: true,
    fullscreen: true,
    autoHideMenuBar: true,
    show: false,
    backgroundColor: '#eef2f6',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools,
    },
  };
}

interface FrameLike {
  url: string;
  parent: unknown;
  processId: number;
  routingId: number;
}

/**
 * Only our own window's top frame, showing our own page, may call the host: not a subframe, not another
 * window, not a page we were somehow navigated to. Frames are compared by (processId, routingId), which
 * identify a frame whatever JS wrapper Electron hands out.
 */
export function isTrustedFrame(frame: FrameLike | null | undefined, mainFrame: FrameLike | null | undefined): boolean {
  if (!frame || !mainFrame || frame.parent !== null) return false;
  if (frame.processId !== mainFrame.processId || frame.routingId !== mainFrame.routingId) return false;
  try {
    const url = new URL(frame.url);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};
export function mimeType(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 && MIME[path.slice(dot).toLowerCase()]) || 'application/octet-stream';
}
