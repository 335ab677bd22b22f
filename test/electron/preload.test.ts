// The preload exposes exactly one function per call (plus onEvent) and never hands IPC objects to the page.
import { describe, expect, it, vi } from 'vitest';
import { API_CALL_NAMES, BRIDGE_GLOBAL, IPC_EVENT_CHANNEL, ipcChannel } from '../../src/api/index.ts';

const exposed = vi.hoisted(() => ({ name: '', api: {} as Record<string, (...a: unknown[]) => unknown> }));
const ipc = vi.hoisted(() => ({
  invoke: vi.fn(async (...args: unknown[]) => ({ ok: true, output: args })),
  on: vi.fn(),
  removeListener: vi.fn(),
}));
vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (name: string, api: Record<string, (...a: unknown[]) => unknown>) => {
      exposed.name = name;
      exposed.api = api;
    },
  },
  ipcRenderer: ipc,
}));
await import('../../electron/preload.ts');

describe('preload bridge', () => {
  it('exposes one function per call and onEvent, frozen', () => {
    expect(exposed.name).toBe(BRIDGE_GLOBAL);
    expect(Object.keys(exposed.api).sort()).toEqual([...API_CALL_NAMES, 'onEvent'].sort());
    expect(Object.isFrozen(exposed.api)).toBe(true);
  });

  it('sends each call on its own channel with exactly one argument', async () => {
    for (const name of API_CALL_NAMES) {
      ipc.invoke.mockClear();
      await exposed.api[name]!({ probe: name }, 'ignored extra');
      expect(ipc.invoke).toHaveBeenCalledWith(ipcChannel(name), { probe: name });
    }
  });

  it('delivers event payloads without the IPC event object, and unsubscribes', () => {
    const listener = vi.fn();
    const off = exposed.api.onEvent!(listener) as () => void;
    const [channel, handler] = ipc.on.mock.calls[0] as [string, (e: unknown, p: unknown) => void];
    expect(channel).toBe(IPC_EVENT_CHANNEL);
    handler({ sender: 'ipc internals' }, { type: 'queue', queue: { length: 3 } });
    expect(listener).toHaveBeenCalledWith({ type: 'queue', queue: { length: 3 } });
    off();
    expect(ipc.removeListener).toHaveBeenCalledWith(IPC_EVENT_CHANNEL, handler);
  });
});
