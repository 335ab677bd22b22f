// The test hooks over the terminal's own WebSocket API (`palmpay terminal --test-hooks`): script the simulated
// scanner and inject faults, as the e2e tests do.
import WebSocket from 'ws';
import type { RunningTerminal } from './spawn-terminal.ts';

/** Token-guarded, like the page. */
export class HookClient {
  private next = 1;
  private readonly pending = new Map<number, (r: { ok: boolean; output?: unknown; error?: { code: string; message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { kind: string; id?: number; result?: { ok: boolean; output?: unknown; error?: { code: string; message: string } } };
      if (msg.kind === 'result' && msg.id !== undefined) this.pending.get(msg.id)?.(msg.result!);
    });
  }
  static open(t: RunningTerminal): Promise<HookClient> {
    const ws = new WebSocket(`${t.origin.replace('http', 'ws')}/api?token=${encodeURIComponent(t.token)}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new HookClient(ws)));
      ws.once('error', reject);
    });
  }
  /** Any API call (the hooks, and e.g. `status.get`); resolves with its output. */
  call<T = void>(name: string, input: unknown): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.ok ? resolve(r.output as T) : reject(new Error(`${name}: ${r.error?.code} ${r.error?.message}`))));
      this.ws.send(JSON.stringify({ id, call: name, input }));
    });
  }
  present(identity: string, more: { distanceMm?: number; sample?: number } = {}) {
    return this.call('test.present', { identity, ...more });
  }
  fault(f: Record<string, unknown>) {
    return this.call('test.fault', f);
  }
  close() {
    this.ws.close();
  }
}

