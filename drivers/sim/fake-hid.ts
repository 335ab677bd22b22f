/**
 * An in-memory HID device that behaves like node-hid's HIDAsync (there is no virtual HID here):
 * writes carry a leading report-id byte, reads arrive as 'data' events, an unplug surfaces as an
 * 'error' event on the open handle and makes open() fail until the device is back.
 */
import { EventEmitter } from 'node:events';
import type { HidDeviceLike, HidOpener } from '../transport/hid.ts';
import { MemoryLink, type MemoryEnd } from '../transport/memory.ts';

class FakeHIDAsync extends EventEmitter implements HidDeviceLike {
  closed = false;
  private readonly unsubscribe: Array<() => void>;
  constructor(private readonly end: MemoryEnd) {
    super();
    this.unsubscribe = [
      end.on('data', (d) => !this.closed && this.emit('data', Buffer.from(d))),
      end.on('close', (err) => {
        if (err && !this.closed) this.emit('error', new Error('could not read from HID device'));
        this.detach();
      }),
    ];
  }
  private detach(): void {
    for (const u of this.unsubscribe) u();
  }
  async write(values: number[] | Buffer): Promise<number> {
    if (this.closed || !this.end.isOpen) throw new Error('Cannot write to hid device');
    const bytes = Uint8Array.from(values);
    await this.end.write(bytes.subarray(1)); // strip the report id, as the bus does
    return bytes.length;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    await this.end.close();
  }
}

export class FakeHidBus {
  readonly link = new MemoryLink('hid', 'fake-hid');
  constructor(readonly vendorId = 0x1d50, readonly productId = 0x6150) {}

  /** The device side, for the simulator to serve. */
  get deviceEnd(): MemoryEnd {
    return this.link.device;
  }

  /** An opener with node-hid's behaviour, for HidTransport. */
  opener(): HidOpener {
    return async () => {
      if (!this.link.plugged) throw new Error(`cannot open device with vendor id 0x${this.vendorId.toString(16)} and product id 0x${this.productId.toString(16)}`);
      await this.link.host.open();
      return new FakeHIDAsync(this.link.host);
    };
  }

  unplug(): void {
    this.link.unplug();
  }

  plug(): void {
    this.link.plug();
  }
}
