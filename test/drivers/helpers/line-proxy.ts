/**
 * A man in the middle of a serial line: the host opens `hostPath` (one end of a socat pty pair); the proxy
 * holds the other end and the module's port, copies the host's bytes to the module unchanged (noting each
 * request's message id), and passes the module's messages back through `rewrite`, which may drop, change,
 * add or forge them. Written from the family's framing only: it works with any EF AA module.
 */
import { SerialDecoder, encodeMessage, type SerialMessage } from '../../../drivers/serial-module/codec.ts';
import { PtyPair } from '../../../drivers/sim/pty.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';

/** Return undefined to pass the message on unchanged, or the frames to send instead ([] drops it). */
export type Rewrite = (msg: SerialMessage) => Uint8Array[] | undefined;

export class LineProxy {
  /** Message ids the host sent, in order. */
  readonly requests: number[] = [];
  rewrite: Rewrite | null = null;
  private readonly up = new SerialDecoder();
  private readonly down = new SerialDecoder();

  private constructor(
    private readonly pty: PtyPair,
    private readonly hostSide: SerialTransport,
    private readonly moduleSide: SerialTransport,
  ) {
    hostSide.on('data', (d) => {
      for (const ev of this.up.push(d)) if (ev.type === 'message') this.requests.push(ev.message.mid);
      void moduleSide.write(d).catch(() => undefined);
    });
    moduleSide.on('data', (d) => {
      for (const ev of this.down.push(d)) {
        if (ev.type !== 'message') continue;
        const out = this.rewrite?.(ev.message) ?? [encodeMessage(ev.message.mid, ev.message.data)];
        for (const frame of out) void hostSide.write(frame).catch(() => undefined);
      }
    });
  }

  get hostPath(): string {
    return this.pty.hostPath;
  }

  static async start(modulePath: string): Promise<LineProxy> {
    const pty = await PtyPair.start();
    const hostSide = new SerialTransport({ path: pty.devicePath, baudRate: 115200 });
    const moduleSide = new SerialTransport({ path: modulePath, baudRate: 115200 });
    await hostSide.open({ timeoutMs: 5000 });
    await moduleSide.open({ timeoutMs: 5000 });
    return new LineProxy(pty, hostSide, moduleSide);
  }

  /** How many requests with this message id the host sent. */
  count(mid: number): number {
    return this.requests.filter((m) => m === mid).length;
  }

  async stop(): Promise<void> {
    await this.hostSide.close();
    await this.moduleSide.close();
    await this.pty.stop();
  }
}
