// A stand-in for the `electron` module: records what the shell asks of it, so its security settings can be
// asserted here, where the Electron binary cannot run. Only what electron/shell.ts and preload.ts use.
import { EventEmitter } from 'node:events';
import type { ElectronModule } from '../../electron/shell.ts';
import { START_URL } from '../../electron/security.ts';

type Handler = (...args: unknown[]) => unknown;

export class FakeWebContents extends EventEmitter {
  mainFrame = { url: START_URL, parent: null, processId: 4, routingId: 1 };
  sent: Array<[string, unknown]> = [];
  windowOpenHandler: Handler | null = null;
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  setWindowOpenHandler(handler: Handler) {
    this.windowOpenHandler = handler;
  }
}

export function createElectronStandIn(opts: { lock?: boolean } = {}) {
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    quitCalls: 0,
    exitCode: undefined as number | undefined,
    requestSingleInstanceLock: () => opts.lock ?? true,
    whenReady: () => Promise.resolve(),
    quit() {
      app.quitCalls++;
    },
    exit(code: number) {
      app.exitCode = code;
    },
    getVersion: () => '0.0.0-test',
  });

  class BrowserWindow extends EventEmitter {
    static instances: BrowserWindow[] = [];
    webContents = new FakeWebContents();
    loadedUrl: string | null = null;
    focused = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      BrowserWindow.instances.push(this);
      app.emit('web-contents-created', {}, this.webContents); // as Electron does for every new web contents
    }
    loadURL(url: string) {
      this.loadedUrl = url;
      return Promise.resolve();
    }
    show() {}
    isMinimized() {
      return false;
    }
    restore() {}
    focus() {
      this.focused = true;
    }
  }

  const ipcMain = {
    handlers: new Map<string, Handler>(),
    handle(channel: string, handler: Handler) {
      if (ipcMain.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      ipcMain.handlers.set(channel, handler);
    },
  };

  const protocol = {
    privileged: [] as unknown[],
    handlers: new Map<string, (request: { url: string }) => Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: unknown[]) {
      protocol.privileged.push(...schemes);
    },
    handle(scheme: string, handler: (request: { url: string }) => Promise<Response>) {
      protocol.handlers.set(scheme, handler);
    },
  };

  const defaultSession = {
    permissionRequest: null as Handler | null,
    permissionCheck: null as Handler | null,
    devicePermission: null as Handler | null,
    headersReceived: null as Handler | null,
    setPermissionRequestHandler: (h: Handler) => void (defaultSession.permissionRequest = h),
    setPermissionCheckHandler: (h: Handler) => void (defaultSession.permissionCheck = h),
    setDevicePermissionHandler: (h: Handler) => void (defaultSession.devicePermission = h),
    webRequest: { onHeadersReceived: (h: Handler) => void (defaultSession.headersReceived = h) },
  };

  const standIn = { app, BrowserWindow, ipcMain, protocol, session: { defaultSession } };
  return { ...standIn, asElectron: standIn as unknown as ElectronModule };
}

export type ElectronStandIn = ReturnType<typeof createElectronStandIn>;
