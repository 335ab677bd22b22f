/**
 * The Transport abstraction: a byte pipe (serial) or a report pipe (HID, one 64-byte report per data
 * event) that can be opened, written, closed and re-opened after an unplug. Errors are DriverErrors.
 */
import { DriverError } from '../errors.ts';
import type { CallOptions } from '../util/abort.ts';
import { Emitter } from '../util/emitter.ts';

export type TransportKind = 'serial' | 'hid' | 'tcp' | 'usblp';

export interface TransportEvents extends Record<string, unknown> {
  /** Bytes (serial) or one report (HID). The buffer belongs to the listener. */
  data: Uint8Array;
  /** The transport closed: null when we closed it, an error (TRANSPORT_DISCONNECTED) when it went away. */
  close: DriverError | null;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Human-readable: path or VID:PID. */
  readonly description: string;
  readonly isOpen: boolean;
  open(opts?: CallOptions): Promise<void>;
  close(): Promise<void>;
  write(data: Uint8Array, opts?: CallOptions): Promise<void>;
  on<K extends keyof TransportEvents>(event: K, fn: (v: TransportEvents[K]) => void): () => void;
}

/** Shared bookkeeping: open state and the close event fired exactly once per open. */
export abstract class BaseTransport extends Emitter<TransportEvents> implements Transport {
  abstract readonly kind: TransportKind;
  abstract readonly description: string;
  protected opened = false;

  get isOpen(): boolean {
    return this.opened;
  }

  abstract open(opts?: CallOptions): Promise<void>;
  abstract close(): Promise<void>;
  abstract write(data: Uint8Array, opts?: CallOptions): Promise<void>;

  protected markOpen(): void {
    this.opened = true;
  }

  /** Called by implementations when the link ends, whoever ended it. */
  protected markClosed(err: DriverError | null): void {
    if (!this.opened) return;
    this.opened = false;
    this.emit('close', err);
  }

  protected deliver(data: Uint8Array): void {
    if (this.opened) this.emit('data', data);
  }

  protected assertOpen(): void {
    if (!this.opened) throw new DriverError('TRANSPORT_NOT_OPEN', `${this.description} is not open`);
  }
}
