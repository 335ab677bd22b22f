// An ESC/POS receipt printer with a cash drawer on its drawer port, over a byte transport (serial, USB CDC,
// a Linux USB printer-class node /dev/usb/lpN, TCP).
// Before printing or kicking the drawer it asks the printer's real-time status (DLE EOT), so a closed-off printer,
// an open cover or an empty roll is a typed error, never a silent loss; after printing it asks again, so paper
// that ran out during the receipt is reported too. One job at a time, in order.
import { DriverError, asDriverError } from '../errors.ts';
import { SerialTransport } from '../transport/serial.ts';
import { TcpTransport } from '../transport/tcp.ts';
import { UsbLpTransport } from '../transport/usblp.ts';
import type { Transport } from '../transport/transport.ts';
import { waitFor } from '../util/abort.ts';
import {
  drawerPulse, encodeReceiptJob, parseStatus, realtimeDrawerPulse, statusError, statusRequest,
  type GreyPicture, type PrinterStatus, type StatusKind,
} from './escpos.ts';

/** A fault the printer reported; `sent`: the receipt had already been sent (it may be printed in part). */
export class PrinterFault extends DriverError {
  constructor(
    code: DriverError['code'],
    message: string,
    readonly sent: boolean,
  ) {
    super(code, message);
    this.name = 'PrinterFault';
  }
}

export type PrinterLink = { kind: 'serial'; path: string; baudRate?: number } | { kind: 'usblp'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface EscPosPrinterOptions {
  /** Dots across the paper (576 for 80 mm, 384 for 58 mm). */
  paperDots?: number;
  /** How long one status byte may take, ms. */
  statusTimeoutMs?: number;
  /** How long writing one receipt may take, ms (a 9600-baud line moves about 1 KB/s). */
  writeTimeoutMs?: number;
}

export class EscPosPrinter {
  readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: ((byte: number) => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly paperDots: number;
  private readonly statusTimeoutMs: number;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly transport: Transport,
    opts: EscPosPrinterOptions = {},
  ) {
    this.description = transport.description;
    this.paperDots = opts.paperDots ?? 576;
    this.statusTimeoutMs = opts.statusTimeoutMs ?? 1000;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 60_000;
  }

  static open(link: PrinterLink, opts: EscPosPrinterOptions = {}): EscPosPrinter {
    const transport =
      link.kind === 'serial' ? new SerialTransport({ path: link.path, baudRate: link.baudRate ?? 38400 }) : link.kind === 'usblp' ? new UsbLpTransport({ path: link.path }) : new TcpTransport({ host: link.host, port: link.port });
    return new EscPosPrinter(transport, opts);
  }

  get paperWidth(): number {
    return this.paperDots;
  }

  /** The printer's real-time status (DLE EOT 1, 2 and 4). */
  status(signal?: AbortSignal): Promise<PrinterStatus> {
    return this.exclusive(() => this.readStatus(signal));
  }

  /**
   * Prints one receipt picture and cuts. Refuses before sending anything when the printer reports a fault
   * (nothing printed); a fault reported after sending means the receipt may be cut short (`partial` in the message).
   */
  print(picture: GreyPicture, signal?: AbortSignal): Promise<{ bytes: number }> {
    const job = encodeReceiptJob(picture, { paperDots: this.paperDots });
    return this.exclusive(async () => {
      const before = statusError(await this.readStatus(signal));
      if (before) throw new PrinterFault(before.code, before.message, false);
      await this.write(job, signal, this.writeTimeoutMs);
      const after = statusError(await this.readStatus(signal).catch((err: unknown) => Promise.reject(new PrinterFault(asDriverError(err, 'PRINTER_TIMEOUT', 'status after printing').code, (err as Error).message, true))));
      if (after) throw new PrinterFault(after.code, `${after.message} (the receipt was sent and may be cut short)`, true);
      return { bytes: job.length };
    });
  }

  /**
   * Kicks the cash drawer. The printer must answer its status first (a drawer port that nobody drives must not count
   * as opened); an offline printer (paper out, cover open) still opens the drawer through the real-time pulse.
   */
  openDrawer(signal?: AbortSignal): Promise<{ realtime: boolean }> {
    return this.exclusive(async () => {
      const s = await this.readStatus(signal);
      const realtime = s.offline || s.coverOpen || s.paperOut;
      await this.write(realtime ? realtimeDrawerPulse() : drawerPulse(), signal, this.statusTimeoutMs);
      return { realtime };
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.transport.close();
  }

  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureOpen(signal?: AbortSignal): Promise<void> {
    if (this.transport.isOpen) return;
    await this.transport.open({ timeoutMs: 3000, ...(signal ? { signal } : {}) });
    this.unsubscribe?.();
    this.unsubscribe = this.transport.on('data', (bytes) => {
      // Only the byte a status request waits for is taken; anything else (automatic status back, noise) is dropped.
      const take = this.waiting;
      if (!take || bytes.length === 0) return;
      this.waiting = null;
      take(bytes[bytes.length - 1]!);
    });
  }

  private async write(bytes: Uint8Array, signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    await this.ensureOpen(signal);
    try {
      await this.transport.write(bytes, { timeoutMs, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw asDriverError(err, 'TRANSPORT_WRITE_FAILED', `write to the printer on ${this.description}`);
    }
  }

  private async ask(kind: StatusKind, signal?: AbortSignal): Promise<number> {
    await this.ensureOpen(signal);
    const answer = waitFor<number>(`printer status (${kind})`, { timeoutMs: this.statusTimeoutMs, ...(signal ? { signal } : {}) }, (resolve) => {
      this.waiting = resolve;
      return () => {
        if (this.waiting === resolve) this.waiting = null;
      };
    });
    answer.catch(() => undefined); // a failed write below rejects first; the wait then ends unobserved
    try {
      await this.transport.write(statusRequest(kind), { timeoutMs: this.statusTimeoutMs, ...(signal ? { signal } : {}) });
      return await answer;
    } catch (err) {
      if (err instanceof DriverError && err.code === 'SCANNER_TIMEOUT') {
        throw new DriverError('PRINTER_TIMEOUT', `the printer on ${this.description} did not answer its status within ${this.statusTimeoutMs} ms: is it on and connected?`);
      }
      throw err;
    }
  }

  private async readStatus(signal?: AbortSignal): Promise<PrinterStatus> {
    const printer = await this.ask('printer', signal);
    const offlineCause = await this.ask('offlineCause', signal);
    const paperSensor = await this.ask('paperSensor', signal);
    return parseStatus({ printer, offlineCause, paperSensor });
  }
}
