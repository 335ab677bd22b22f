// The renderer's API client: the same typed HostApi over either transport. In Electron the preload bridge
// (window.palmpay) carries calls over IPC; in browser mode a WebSocket to the host does. Both are derived
// from the call table in @api, so a new call needs no code here.
import {
  API_CALL_NAMES,
  calls,
  CallResult,
  HostEvent,
  WireMessage,
  type CallName,
  type HostApi,
} from '@api/index.ts';

export interface Transport {
  invoke(name: CallName, input: unknown): Promise<CallResult>;
  onEvent(listener: (event: HostEvent) => void): () => void;
  onConnection?(listener: (connected: boolean) => void): () => void;
  close?(): void;
}

/** What electron/preload.ts exposes: one function per call (returning the result envelope) plus events. */
export type PreloadBridge = { [N in CallName]: (input: unknown) => Promise<CallResult> } & {
  onEvent(listener: (event: unknown) => void): () => void;
};

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** Builds the typed API from a transport: one function per entry of the call table. */
export function createApi(transport: Transport): HostApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of API_CALL_NAMES) {
    api[name] = async (input) => {
      const result = CallResult.parse(await transport.invoke(name, input));
      if (!result.ok) throw new ApiCallError(result.error.code, result.error.message);
      return calls[name].output.parse(result.output);
    };
  }
  return api as HostApi;
}

export function bridgeTransport(bridge: PreloadBridge): Transport {
  return {
    invoke: (name, input) => bridge[name](input),
    onEvent: (listener) =>
      bridge.onEvent((raw) => {
        const parsed = HostEvent.safeParse(raw);
        if (parsed.success) listener(parsed.data);
      }),
  };
}

/** JSON over WebSocket to the browser-kiosk host; reconnects after a drop, and waits for the socket on a call. */
export function socketTransport(url: string, retryMs = 1000): Transport {
  const eventListeners = new Set<(event: HostEvent) => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  const pending = new Map<number, (result: CallResult) => void>();
  let nextId = 1;
  // Resolves with the socket once one is open; replaced when it drops, so calls made meanwhile wait for
  // whichever later attempt succeeds.
  let resolveReady!: (ws: WebSocket) => void;
  let ready!: Promise<WebSocket>;
  const resetReady = () => {
    ready = new Promise((resolve) => (resolveReady = resolve));
  };
  resetReady();

  let closed = false;
  let current: WebSocket | null = null;
  const connect = () => {
    if (closed) return;
    const socket = new WebSocket(url);
    current = socket;
    let wasOpen = false;
    socket.addEventListener('open', () => {
      wasOpen = true;
      connectionListeners.forEach((l) => l(true));
      resolveReady(socket);
    });
    socket.addEventListener('message', (msg) => {
      let parsed;
      try {
        parsed = WireMessage.safeParse(JSON.parse(String(msg.data)));
      } catch {
        return;
      }
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.kind === 'event') eventListeners.forEach((l) => l(message.event));
      else {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    });
    socket.addEventListener('close', () => {
      if (wasOpen) {
        resetReady();
        connectionListeners.forEach((l) => l(false));
      }
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'DISCONNECTED', message: 'the host connection dropped' } });
      pending.clear();
      setTimeout(connect, retryMs);
    });
  };
  connect();

  return {
    async invoke(name, input) {
      const ws = await ready;
      const id = nextId++;
      return new Promise<CallResult>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, call: name, input }));
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closed = true;
      current?.close();
    },
  };
}

/** Picks the transport for where we run: the preload bridge in Electron, the token-guarded socket otherwise. */
export function defaultTransport(win: Window = window): Transport {
  if (win.palmpay) return bridgeTransport(win.palmpay);
  const token = new URLSearchParams(win.location.hash.slice(1)).get('token') ?? '';
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  return socketTransport(`${scheme}://${win.location.host}/api?token=${encodeURIComponent(token)}`);
}
