/**
 * In-memory links for tests and the in-process simulator: two Transport ends joined back to back.
 * `unplug()` closes both ends as a cable pull would; `plug()` lets them open again.
 */
import { DriverError } from '../errors.ts';
import type { CallOptions } from '../util/abort.ts';
import { BaseTransport, type TransportKind } from './transport.ts';

export class MemoryEnd extends BaseTransport {
  peer: MemoryEnd | null = null;
  constructor(
    readonly kind: TransportKind,
    readonly description: string,
    private readonly link: MemoryLink,
  ) {
    super();
  }

  async open(_opts?: CallOptions): Promise<void> {
    if (!this.link.plugged) throw new DriverError('TRANSPORT_OPEN_FAILED', `${this.description}: not plugged in`);
    this.markOpen();
  }

  async close(): Promise<void> {
    this.markClosed(null);
  }

  async write(data: Uint8Array, _opts?: CallOptions): Promise<void> {
    this.assertOpen();
    const copy = data.slice();
    const peer = this.peer;
    // Deliver asynchronously, in order, like a real pipe.
    setImmediate(() => peer?.receive(copy));
  }

  receive(data: Uint8Array): void {
    this.deliver(data);
  }

  drop(err: DriverError): void {
    this.markClosed(err);
  }
}

export class MemoryLink {
  plugged = true;
  readonly host: MemoryEnd;
  readonly device: MemoryEnd;
  constructor(kind: TransportKind, name = 'memory') {
    this.host = new MemoryEnd(kind, `${name} (host end)`, this);
    this.device = new MemoryEnd(kind, `${name} (device end)`, this);
    this.host.peer = this.device;
    this.device.peer = this.host;
  }
  unplug(): void {
    this.plugged = false;
    const err = new DriverError('TRANSPORT_DISCONNECTED', 'memory link unplugged');
    this.host.drop(err);
    this.device.drop(err);
  }
  plug(): void {
    this.plugged = true;
  }
}
