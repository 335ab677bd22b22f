/**
 * SerialTransport: a serial port (UART, USB CDC or a socat pty). The `serialport` package opens and configures it
 * (baud, 8N1, flow control) and owns its control lines. Where `directReads` is on (Linux, by default), bytes are
 * read through Node's own tty stream on a second descriptor of the same device, and writes go straight to the
 * port's descriptor; see `SerialTransportOptions.directReads` for why.
 */
import { access, closeSync, constants, openSync, writeSync } from 'node:fs';
import { ReadStream, isatty } from 'node:tty';
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
  /**
   * Read through Node's tty stream on a second, non-blocking descriptor of the device, and write straight to the
   * port's descriptor while the kernel takes the bytes whole. serialport reads a tty from the thread pool, one
   * read of at most 4 KB (a tty's line-discipline buffer) per round trip, and writes with a write and a tcdrain,
   * each a thread-pool round trip: a 640×480 frame took ~75 round trips. The tty stream is read on the event loop
   * itself, which empties the buffer at each wake-up. Default: on for Linux. Off, or where the second descriptor
   * cannot be opened as a tty, serialport reads and writes as before (`readPath` says which is in use).
   */
  directReads?: boolean;
}

/** Which read path an open SerialTransport uses. */
export type SerialReadPath = 'direct' | 'serialport';

/** errno codes that mean the device is gone (a pulled adapter, a pty whose other end ended). */
const GONE = new Set(['EIO', 'ENXIO', 'ENODEV', 'EBADF', 'EPIPE']);

export class SerialTransport extends BaseTransport {
  readonly kind = 'serial' as const;
  readonly description: string;
  private port: SerialPortType | null = null;
  private reader: ReadStream | null = null;
  /** The port's own descriptor, written directly (direct mode only). */
  private writeFd: number | null = null;
  /** Writes handed to serialport (a direct write the kernel did not take whole) and not finished: while any is
   * queued, later writes queue behind it there, so bytes never overtake each other. */
  private queuedWrites = 0;
  private presence: NodeJS.Timeout | undefined;
  private path_: SerialReadPath | null = null;

  constructor(private readonly opts: SerialTransportOptions) {
    super();
    this.description = `serial ${opts.path}`;
  }

  /** The read path in use while open; null when closed. */
  get readPath(): SerialReadPath | null {
    return this.path_;
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
    port.on('error', () => undefined); // errors are followed by close or fail the write that caused them
    port.on('close', (err?: Error) => {
      if (this.port !== port) return;
      this.goneAway(err ? new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${err.message}`, { cause: err }) : null);
    });
    const reader = (this.opts.directReads ?? process.platform === 'linux') ? this.openDirectReader() : null;
    if (reader) {
      this.reader = reader;
      this.writeFd = (port.port as { fd?: number | null } | undefined)?.fd ?? null;
      this.path_ = 'direct';
      reader.on('data', (b: Buffer) => this.deliver(new Uint8Array(b.buffer, b.byteOffset, b.length)));
      const ended = (why: string) => () => {
        if (this.reader === reader) this.goneAway(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${why}`));
      };
      reader.on('error', (err: Error) => {
        if (this.reader === reader) this.goneAway(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${err.message}`, { cause: err }));
      });
      reader.on('end', ended('end of stream'));
      reader.on('close', ended('the read stream closed'));
    } else {
      this.path_ = 'serialport';
      port.on('data', (b: Buffer) => this.deliver(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    }
    this.markOpen();
    // A pulled USB-serial adapter (or a socat pty that ended) takes its device node with it, but a port waiting
    // for a reply may never hear of it: no data, no error. Watching the node makes an unplug a prompt disconnect,
    // never a silent wait (the connection then reconnects when the node comes back).
    this.presence = setInterval(() => {
      access(this.opts.path, (err) => {
        if (!err || this.port !== port) return;
        this.goneAway(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} was unplugged (the device node is gone)`));
      });
    }, this.opts.presenceCheckMs ?? 500);
    this.presence.unref();
  }

  /** The second descriptor as a tty stream, or null (then serialport reads): not a tty, or it would not open. */
  private openDirectReader(): ReadStream | null {
    let fd: number;
    try {
      fd = openSync(this.opts.path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      if (!isatty(fd)) throw new Error('not a tty');
      return new ReadStream(fd);
    } catch {
      closeSync(fd);
      return null;
    }
  }

  /** Ends this open: stops reading, closes both descriptors, and says why (null: we closed it). */
  private goneAway(err: DriverError | null): void {
    const port = this.port;
    const reader = this.reader;
    this.port = null;
    this.reader = null;
    this.writeFd = null;
    this.path_ = null;
    this.stopPresenceCheck();
    reader?.destroy();
    this.markClosed(err);
    try {
      if (port?.isOpen) port.close(() => undefined);
    } catch {
      // already closed by the driver underneath
    }
  }

  private stopPresenceCheck(): void {
    clearInterval(this.presence);
    this.presence = undefined;
  }

  async close(): Promise<void> {
    const port = this.port;
    const reader = this.reader;
    this.port = null;
    this.reader = null;
    this.writeFd = null;
    this.path_ = null;
    this.stopPresenceCheck();
    if (reader && !reader.closed) await new Promise<void>((resolve) => reader.once('close', () => resolve()).destroy());
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const port = this.port!;
    let rest = data;
    if (this.writeFd !== null && this.queuedWrites === 0) {
      const taken = this.writeDirect(this.writeFd, data);
      if (taken === data.length) return;
      rest = data.subarray(taken);
    }
    // serialport's path: its queue keeps the order; it waits for the port to take the bytes, then for tcdrain.
    this.queuedWrites++;
    try {
      await waitFor<void>(`write ${this.opts.path}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 2000, signal: call.signal }, (resolve, reject) => {
        port.write(Buffer.from(rest.buffer, rest.byteOffset, rest.length), (err) => {
          if (err) return reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.opts.path} failed: ${err.message}`, { cause: err }));
          port.drain((e) => (e ? reject(new DriverError('TRANSPORT_WRITE_FAILED', `drain ${this.opts.path}: ${e.message}`, { cause: e })) : resolve()));
        });
      });
    } finally {
      this.queuedWrites--;
    }
  }

  /** Writes what the kernel takes now; returns how many bytes it took (the rest is for serialport's queue). A
   * device that is gone ends the open (TRANSPORT_DISCONNECTED) and fails this write typed. */
  private writeDirect(fd: number, data: Uint8Array): number {
    let taken = 0;
    try {
      while (taken < data.length) {
        const n = writeSync(fd, data, taken, data.length - taken);
        if (n <= 0) break;
        taken += n;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return taken;
      const e = new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.opts.path} failed: ${(err as Error).message}`, { cause: err });
      if (GONE.has(code)) this.goneAway(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${(err as Error).message}`, { cause: err }));
      throw e;
    }
    return taken;
  }
}
