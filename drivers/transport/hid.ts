/**
 * HidTransport: 64-byte reports through node-hid's HIDAsync. The device is obtained from an injectable
 * opener so tests can use an in-memory device that behaves like node-hid (there is no virtual HID here).
 */
import { DriverError, asDriverError } from '../errors.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import { BaseTransport } from './transport.ts';

/** The part of node-hid's HIDAsync we use. */
export interface HidDeviceLike {
  write(values: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
  on(event: 'data', fn: (data: Buffer) => void): unknown;
  on(event: 'error', fn: (err: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
export type HidOpener = () => Promise<HidDeviceLike>;

export interface HidTransportOptions {
  open: HidOpener;
  description: string;
  /** Report id byte node-hid expects in front of every write (0 for devices without numbered reports). */
  reportId?: number;
  timeoutMs?: number;
}

/** An opener for a real device by VID:PID or hidraw path (node-hid loaded lazily; it needs libusb). */
export function nodeHidOpener(target: { vendorId: number; productId: number } | { path: string }): HidOpener {
  return async () => {
    const hid = await import('node-hid');
    const HIDAsync = hid.HIDAsync ?? (hid as unknown as { default: typeof hid }).default.HIDAsync;
    return 'path' in target ? HIDAsync.open(target.path) : HIDAsync.open(target.vendorId, target.productId);
  };
}

export class HidTransport extends BaseTransport {
  readonly kind = 'hid' as const;
  readonly description: string;
  private dev: HidDeviceLike | null = null;

  constructor(private readonly opts: HidTransportOptions) {
    super();
    this.description = opts.description;
  }

  async open(call: CallOptions = {}): Promise<void> {
    if (this.opened) return;
    const dev = await waitFor<HidDeviceLike>(`open ${this.description}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 2000, signal: call.signal }, (resolve, reject) => {
      let gaveUp = false;
      this.opts.open().then(
        (d) => (gaveUp ? void d.close().catch(() => undefined) : resolve(d)), // opened too late: do not leak it
        (err: unknown) => reject(asDriverError(err, 'TRANSPORT_OPEN_FAILED', `cannot open ${this.description}`)),
      );
      return () => {
        gaveUp = true;
      };
    });
    this.dev = dev;
    dev.on('data', (b: Buffer) => this.deliver(new Uint8Array(b.buffer, b.byteOffset, b.length).slice()));
    // node-hid reports an unplugged device as a read error on its data loop.
    dev.on('error', (err: unknown) => {
      if (this.dev !== dev) return;
      this.dev = null;
      dev.removeAllListeners();
      dev.close().catch(() => undefined);
      this.markClosed(asDriverError(err, 'TRANSPORT_DISCONNECTED', `${this.description} went away`));
    });
    this.markOpen();
  }

  async close(): Promise<void> {
    const dev = this.dev;
    this.dev = null;
    if (dev) {
      dev.removeAllListeners();
      await dev.close().catch(() => undefined);
    }
    this.markClosed(null);
  }

  async write(data: Uint8Array, call: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const dev = this.dev!;
    const out = Buffer.alloc(data.length + 1);
    out[0] = this.opts.reportId ?? 0;
    out.set(data, 1);
    await waitFor<void>(`write ${this.description}`, { timeoutMs: call.timeoutMs ?? this.opts.timeoutMs ?? 2000, signal: call.signal }, (resolve, reject) => {
      dev.write(out).then(
        () => resolve(),
        (err: unknown) => reject(new DriverError('TRANSPORT_WRITE_FAILED', `write to ${this.description} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
      );
    });
  }
}
