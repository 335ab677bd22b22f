/** TcpTransport: a byte pipe over TCP (a network receipt printer's raw port, usually 9100). */
import { Socket } from 'node:net';
import { DriverError, asDriverError } from '../errors.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import { BaseTransport } from './transport.ts';

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Default timeout for connect and write, ms. */
  timeoutMs?: number;
}

export class TcpTransport extends BaseTransport {
  readonly kind = 'tcp' as const;
  readonly description: string;
  private socket: Socket | null = null;

  constructor(private readonly opts: TcpTransportOptions) {
    super();
    this.description = `tcp ${opts.host}:${opts.port}`;
  }

  async open(call: CallOptions = {}): Promise<void> {
    if (this.opened) return;
    const socket = new Socket();
    await waitFor<void>(`connect ${this.description}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 3000, signal: call.signal }, (resolve, reject) => {
      const onError = (err: Error) => reject(new DriverError('TRANSPORT_OPEN_FAILED', `cannot connect to ${this.opts.host}:${this.opts.port}: ${err.message}`, { cause: err }));
      socket.once('error', onError);
      socket.connect(this.opts.port, this.opts.host, () => {
        socket.off('error', onError);
        resolve();
      });
    }).catch((err: unknown) => {
      socket.destroy();
      throw asDriverError(err, 'TRANSPORT_OPEN_FAILED', `connect ${this.description}`);
    });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (b: Buffer) => this.deliver(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    socket.on('error', () => undefined); // followed by close
    socket.on('close', (hadError) => {
      if (this.socket === socket) this.socket = null;
      this.markClosed(hadError ? new DriverError('TRANSPORT_DISCONNECTED', `${this.description} went away`) : null);
    });
    this.markOpen();
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.end(() => resolve()));
    socket?.destroy();
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const socket = this.socket!;
    await waitFor<void>(`write ${this.description}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 3000, signal: call.signal }, (resolve, reject) => {
      socket.write(data, (err) => (err ? reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.description} failed: ${err.message}`, { cause: err })) : resolve()));
    });
  }
}
