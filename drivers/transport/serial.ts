/**
 * SerialTransport: a serial port (UART, USB CDC or a socat pty). The `serialport` package opens and configures it
 * (baud, 8N1, flow control) and owns its control lines. Where `directReads` is on (Linux, by default), bytes are
 * read through Node's own tty stream on a second descriptor of the same device and written through a non-blocking
 * tty stream on a third; see `SerialTransportOptions.directReads` for why.
 */
import { access, closeSync, constants, openSync } from 'node:fs';
import { ReadStream, WriteStream, isatty } from 'node:tty';
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
   * Read through Node's tty stream on a second, non-blocking descriptor of the device, and write through a
   * non-blocking tty stream on a third. serialport reads a tty from the thread pool, one read of at most 4 KB (a
   * tty's line-discipline buffer) per round trip, and writes with a write and a tcdrain, each a thread-pool round
   * trip: a 640×480 frame took ~75 round trips. The tty streams work on the event loop itself: reads empty the
   * buffer at each wake-up; a write the kernel cannot take whole (a busy peer: a module sending a window of 4 KB
   * chunks) is finished by libuv when the device has room, in order, instead of going through serialport's
   * write + tcdrain (measured: that fallback was a third of a simulated module's CPU per frame). Default: on for
   * Linux. Off, or where the descriptors cannot be opened as a non-blocking tty, serialport reads and writes as
   * before (`readPath` says which is in use).
   */
  directReads?: boolean;
}

/** Which read path an open SerialTransport uses. */
export type SerialReadPath = 'direct' | 'serialport';

export class SerialTransport extends BaseTransport {
  readonly kind = 'serial' as const;
  readonly description: string;
  private port: SerialPortType | null = null;
  private reader: ReadStream | null = null;
  /** Direct mode: a non-blocking tty stream on a third descriptor. libuv writes what the kernel takes at once and
   * finishes the rest when the device has room, on the event loop, in order (no thread pool, no tcdrain). */
  private writer: WriteStream | null = null;
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
    const writer = reader ? this.openDirectWriter() : null;
    if (reader && !writer) reader.destroy();
    if (reader && writer) {
      this.reader = reader;
      this.writer = writer;
      this.path_ = 'direct';
      writer.on('error', (err: Error) => {
        if (this.writer === writer) this.goneAway(new DriverError('TRANSPORT_DISCONNECTED', `${this.opts.path} went away: ${err.message}`, { cause: err }));
      });
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

  /**
   * The write side as a tty stream switched to non-blocking writes, or null (then serialport writes). Node makes a tty
   * WriteStream blocking (for a console); a blocking write to a pty whose reader is this very process (a simulator
   * in-process) would never return, so without the switch it is not used.
   */
  private openDirectWriter(): WriteStream | null {
    let fd: number;
    try {
      fd = openSync(this.opts.path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch {
      return null;
    }
    let stream: WriteStream | null = null;
    try {
      if (!isatty(fd)) throw new Error('not a tty');
      stream = new WriteStream(fd);
      const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
      if (typeof handle?.setBlocking !== 'function' || handle.setBlocking(false) !== 0) throw new Error('cannot make the tty stream non-blocking');
      return stream;
    } catch {
      if (stream) stream.destroy();
      else closeSync(fd);
      return null;
    }
  }

  /** Ends this open: stops reading, closes the descriptors, and says why (null: we closed it). */
  private goneAway(err: DriverError | null): void {
    const port = this.port;
    const reader = this.reader;
    const writer = this.writer;
    this.port = null;
    this.reader = null;
    this.writer = null;
    this.path_ = null;
    this.stopPresenceCheck();
    reader?.destroy();
    writer?.destroy();
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
    const writer = this.writer;
    this.port = null;
    this.reader = null;
    this.writer = null;
    this.path_ = null;
    this.stopPresenceCheck();
    if (reader && !reader.closed) await new Promise<void>((resolve) => reader.once('close', () => resolve()).destroy());
    if (writer && !writer.closed) await new Promise<void>((resolve) => writer.once('close', () => resolve()).destroy());
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const what = `write ${this.opts.path}`;
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs ?? 2000;
    const writer = this.writer;
    if (writer) {
      // libuv tries the write at once and queues what the kernel did not take, finishing it in order when the device
      // has room. Taken whole (nothing left in the stream): done, with no timer. A write that times out stays queued
      // (its bytes still go out, in order): the caller counts it as lost.
      let settled: { err: Error | null | undefined } | null = null;
      let onDone: ((err: Error | null | undefined) => void) | null = null;
      writer.write(data, (err?: Error | null) => (onDone ? onDone(err) : (settled = { err })));
      if (writer.writableLength === 0 && !writer.destroyed) return;
      return waitFor<void>(what, { timeoutMs, signal: call.signal }, (resolve, reject) => {
        onDone = (err) => (err ? reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.opts.path} failed: ${err.message}`, { cause: err })) : resolve());
        if (settled) onDone(settled.err);
      });
    }
    // serialport's path: its queue keeps the order; it waits for the port to take the bytes, then for tcdrain.
    const port = this.port!;
    await waitFor<void>(what, { timeoutMs, signal: call.signal }, (resolve, reject) => {
      port.write(Buffer.from(data.buffer, data.byteOffset, data.length), (err) => {
        if (err) return reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.opts.path} failed: ${err.message}`, { cause: err }));
        port.drain((e) => (e ? reject(new DriverError('TRANSPORT_WRITE_FAILED', `drain ${this.opts.path}: ${e.message}`, { cause: e })) : resolve()));
      });
    });
  }
}
