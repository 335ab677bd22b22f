/**
 * UsbLpTransport: a byte pipe over a Linux USB printer-class device node (`/dev/usb/lpN`, the kernel's usblp
 * driver). Not a tty (serialport cannot open it) and not a socket: a character device read and written with plain
 * file calls. Opened non-blocking so that a read never parks a libuv worker thread on a printer that does not
 * answer (usblp reads block without a timeout): the answer to a status request is polled, quickly for a while after
 * each write (when an answer is due), slowly otherwise (to notice an unplug).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { DriverError, asDriverError } from '../errors.ts';
import { abortError, type CallOptions } from '../util/abort.ts';
import { BaseTransport } from './transport.ts';

export interface UsbLpTransportOptions {
  path: string;
  /** Default timeout for a write, ms. */
  timeoutMs?: number;
}

/** Poll periods: just after a write (an answer is due) and at rest. */
const FAST_POLL_MS = 10;
const SLOW_POLL_MS = 500;
const FAST_FOR_MS = 3000;

export class UsbLpTransport extends BaseTransport {
  readonly kind = 'usblp' as const;
  readonly description: string;
  private file: FileHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  private fastUntil = 0;
  private readonly chunk = Buffer.alloc(256);

  constructor(private readonly opts: UsbLpTransportOptions) {
    super();
    this.description = `usblp ${opts.path}`;
  }

  async open(call: CallOptions = {}): Promise<void> {
    if (this.opened) return;
    if (call.signal?.aborted) throw abortError(call.signal, `open ${this.description}`);
    try {
      this.file = await open(this.opts.path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint = code === 'EACCES' ? ' (add the user to the lp group, or install the udev rule: build/README.md)' : code === 'ENOENT' ? ' (unplugged, or the usblp driver is not loaded)' : '';
      throw new DriverError('TRANSPORT_OPEN_FAILED', `cannot open ${this.opts.path}: ${(err as Error).message}${hint}`, { cause: err });
    }
    this.markOpen();
    this.schedule();
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const deadline = Date.now() + (call.timeoutMs ?? this.opts.timeoutMs ?? 3000);
    let offset = 0;
    while (offset < data.length) {
      if (call.signal?.aborted) throw abortError(call.signal, `write ${this.description}`);
      if (Date.now() > deadline) throw new DriverError('SCANNER_TIMEOUT', `write ${this.description}: ${data.length - offset} of ${data.length} bytes not taken in time`);
      const file = this.file;
      if (!file) throw new DriverError('TRANSPORT_NOT_OPEN', `${this.description} is not open`);
      try {
        offset += (await file.write(data, offset, data.length - offset)).bytesWritten;
      } catch (err) {
        // usblp answers EAGAIN while its previous transfer is still on the wire.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') await new Promise((r) => setTimeout(r, 5));
        else throw this.gone(err, 'write');
      }
    }
    this.fastUntil = Date.now() + FAST_FOR_MS;
    this.schedule(FAST_POLL_MS);
  }

  private schedule(delayMs?: number): void {
    if (!this.opened) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs ?? (Date.now() < this.fastUntil ? FAST_POLL_MS : SLOW_POLL_MS));
  }

  private async poll(): Promise<void> {
    this.timer = null;
    const file = this.file;
    if (!file) return;
    try {
      for (;;) {
        const { bytesRead } = await file.read(this.chunk, 0, this.chunk.length, null);
        if (bytesRead === 0) break; // nothing now (a plain file at its end reads 0 too)
        this.deliver(Uint8Array.from(this.chunk.subarray(0, bytesRead)));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
        if (this.file === file) {
          this.file = null;
          await file.close().catch(() => undefined);
          this.markClosed(this.gone(err, 'read'));
        }
        return;
      }
    }
    this.schedule();
  }

  private gone(err: unknown, what: string): DriverError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODEV' || code === 'EIO' || code === 'ENXIO') return new DriverError('TRANSPORT_DISCONNECTED', `${this.description} went away (${code})`, { cause: err });
    return asDriverError(err, 'TRANSPORT_WRITE_FAILED', `${what} ${this.description}`);
  }
}
