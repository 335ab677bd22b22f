/** SerialTransport: a serial port (UART, USB CDC or a socat pty) through the `serialport` package. */
import { access } from 'node:fs';
import type { SerialPort as SerialPortType } from 'serialport';
import { DriverError, asDriverError } from '../errors.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import { BaseTransport } from './transport.ts';

export interface SerialTransportOptions {
  path: string;
  baudRate?: number;
  /** Default timeout for open and write, ms. */
  timeoutMs?: number;
  /** How often an open port checks that its device node still exists, ms (default 500). */
  presenceCheckMs?: number;
}

export class SerialTransport extends BaseTransport {
  readonly kind = 'serial' as const;
  readonly description: string;
  private port: SerialPortType | null = null;
  private presence: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SerialTransportOptions) {
    super();
    this.description = `serial ${opts.path}`;
  }

  async open(call: CallOptions = {}): Promise<void> {
    if (this.opened) return;
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 115200, autoOpen: false });
    let gaveUp = false;
    await waitFor<void>(`open ${this.opts.path}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 2000, signal: call.signal }, (resolve, reject) => {
      port.open((err) => {
        if (err) return reject(new DriverError('TRANSPORT_OPEN_FAILED', `cannot open ${this.opts.path}: ${err.message}`, { cause: err }));
        if (gaveUp) return port.close(() => undefined); // opened after the timeout: do not leak it
        resolve();
      });
    }).catch((err: unknown) => {
      gaveUp = true;
      if (port.isOpen) port.close(() => undefined);
      throw asDriverError(err, 'TRANSPORT_OPEN_FAILED', `open ${this.opts.path}`);
    });
    this.port = port;
    port.on('data', (b: Buffer) => this.deliver(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    port.on('error', () => undefined); // errors are followed by close or fail the write that caused them
    port.on('close', (err?: Error) => {
      if (this.port === port) this.port = null;
      this.stopPresenceCheck();
      this.markClosed(err ? new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${err.message}`, { cause: err }) : null);
    });
    this.markOpen();
    // A pulled USB-serial adapter (or a socat pty that ended) takes its device node with it, but a port waiting
    // for a reply may never hear of it: no data, no error. Watching the node makes an unplug a prompt disconnect,
    // never a silent wait (the connection then reconnects when the node comes back).
    this.presence = setInterval(() => {
      access(this.opts.path, (err) => {
        if (!err || this.port !== port) return;
        this.port = null;
        this.stopPresenceCheck();
        this.markClosed(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} was unplugged (the device node is gone)`));
        try {
          if (port.isOpen) port.close(() => undefined);
        } catch {
          // already closed by the driver underneath
        }
      });
    }, this.opts.presenceCheckMs ?? 500);
    this.presence.unref();
  }

  private stopPresenceCheck(): void {
    clearInterval(this.presence);
    this.presence = undefined;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.stopPresenceCheck();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const port = this.port!;
    await waitFor<void>(`write ${this.opts.path}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 2000, signal: call.signal }, (resolve, reject) => {
      port.write(Buffer.from(data.buffer, data.byteOffset, data.length), (err) => {
        if (err) return reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.opts.path} failed: ${err.message}`, { cause: err }));
        port.drain((e) => (e ? reject(new DriverError('TRANSPORT_WRITE_FAILED', `drain ${this.opts.path}: ${e.message}`, { cause: e })) : resolve()));
      });
    });
  }
}
