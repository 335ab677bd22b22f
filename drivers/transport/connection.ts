/**
 * Keeps a Transport open: opens it, and after an unplug re-opens it with exponential backoff
 * (woken early by a USB hot-plug hint). Emits 'up' and 'down'; forwards data.
 */
import type { DriverError } from '../errors.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import { Emitter } from '../util/emitter.ts';
import type { HotplugSource } from './hotplug.ts';
import type { Transport } from './transport.ts';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
}

export interface ConnectionOptions {
  backoff?: BackoffOptions;
  hotplug?: HotplugSource;
  openTimeoutMs?: number;
}

export interface ConnectionEvents extends Record<string, unknown> {
  up: undefined;
  down: DriverError | null;
  data: Uint8Array;
  /** A failed open attempt (the loop keeps trying). */
  retry: { attempt: number; delayMs: number; error: unknown };
}

export class Connection extends Emitter<ConnectionEvents> {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly transport: Transport,
    private readonly opts: ConnectionOptions = {},
  ) {
    super();
    transport.on('data', (d) => this.emit('data', d));
    transport.on('close', (err) => {
      this.emit('down', err);
      if (this.running) this.ensureLoop();
    });
  }

  get connected(): boolean {
    return this.transport.isOpen;
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.opts.hotplug?.subscribe((event) => {
      if (event === 'attach') this.wake?.();
    }) ?? null;
    this.ensureLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.wake?.();
    await this.loop;
    await this.transport.close();
  }

  /** Resolves when the transport is open (or rejects on timeout/abort). */
  waitConnected(opts: CallOptions = {}): Promise<void> {
    if (this.transport.isOpen) return Promise.resolve();
    return waitFor<void>(`connect ${this.transport.description}`, opts, (resolve) => this.on('up', () => resolve()));
  }

  private ensureLoop(): void {
    if (this.loop) return;
    this.loop = this.connectLoop().finally(() => {
      this.loop = null;
    });
  }

  private async connectLoop(): Promise<void> {
    const { initialMs = 50, maxMs = 1000, factor = 2 } = this.opts.backoff ?? {};
    let delay = initialMs;
    let attempt = 0;
    while (this.running && !this.transport.isOpen) {
      attempt++;
      try {
        await this.transport.open({ timeoutMs: this.opts.openTimeoutMs ?? 2000 });
        if (!this.running) {
          await this.transport.close();
          return;
        }
        this.emit('up', undefined);
        return;
      } catch (error) {
        this.emit('retry', { attempt, delayMs: delay, error });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
        delay = Math.min(maxMs, delay * factor);
      }
    }
  }
}
