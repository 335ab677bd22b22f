// Preload (bundled to dist/electron/preload.cjs, runs sandboxed): exposes one function per API call, and the
// event subscription, on window.palmpay. Derived from the call table: a new call needs no change here.
// The renderer never sees ipcRenderer or IPC event objects.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_CALL_NAMES, BRIDGE_GLOBAL, IPC_EVENT_CHANNEL, ipcChannel } from '../src/api/index.ts';

export function buildBridge(ipc: Pick<typeof ipcRenderer, 'invoke' | 'on' | 'removeListener'>): Record<string, unknown> {
  const bridge: Record<string, unknown> = {};
  for (const name of API_CALL_NAMES) bridge[name] = (input: unknown) => ipc.invoke(ipcChannel(name), input);
  bridge.onEvent = (listener: (event: unknown) => void) => {
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipc.on(IPC_EVENT_CHANNEL, handler);
    return () => void ipc.removeListener(IPC_EVENT_CHANNEL, handler);
  };
  return Object.freeze(bridge);
}

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, buildBridge(ipcRenderer));
