// Transports at the edges: discovery guards, the real SerialPort on a socat pty, hot-plug hints and
// the HID transport over an in-memory device that behaves like node-hid.
import { afterAll, describe, expect, it } from 'vitest';
import { listSerialPorts, parseUsbId, formatUsbId } from '../../drivers/transport/discovery.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { HidTransport } from '../../drivers/transport/hid.ts';
import { Connection } from '../../drivers/transport/connection.ts';
import { ManualHotplug } from '../../drivers/transport/hotplug.ts';
import { FakeHidBus } from '../../drivers/sim/fake-hid.ts';
import { PtyPair } from '../../drivers/sim/pty.ts';
import { DriverError } from '../../drivers/errors.ts';

describe('discovery', () => {
  it('parses and formats USB ids', () => {
    expect(parseUsbId('1D50:6150')).toEqual({ vendorId: 0x1d50, productId: 0x6150 });
    expect(formatUsbId({ vendorId: 0x1d50, productId: 0x6150 })).toBe('1d50:6150');
    expect(() => parseUsbId('hello')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('lists serial ports without udevadm instead of crashing the process', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const ports = await listSerialPorts();
      expect(Array.isArray(ports)).toBe(true);
      for (const p of ports) expect(p.path).toMatch(/^\/dev\/tty/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('SerialTransport on a socat pty', () => {
  const pairs: PtyPair[] = [];
  afterAll(async () => {
    for (const p of pairs) await p.stop();
  });

  it('carries bytes both ways, reports a vanished device as TRANSPORT_DISCONNECTED, and reopens', async () => {
    const pty = await PtyPair.start();
    pairs.push(pty);
    const a = new SerialTransport({ path: pty.hostPath });
    const b = new SerialTransport({ path: pty.devicePath });
    await a.open();
    await b.open();
    const got: Buffer[] = [];
    b.on('data', (d) => got.push(Buffer.from(d)));
    const payload = new Uint8Array(20_000).map((_, i) => i & 0xff);
    await a.write(payload);
    while (Buffer.concat(got).length < payload.length) await new Promise((r) => setTimeout(r, 5));
    expect(Buffer.concat(got).equals(Buffer.from(payload))).toBe(true);

    const closed = new Promise<DriverError | null>((resolve) => a.on('close', resolve));
    await pty.unplug();
    expect(await closed).toMatchObject({ code: 'TRANSPORT_DISCONNECTED' });
    await expect(a.write(new Uint8Array([1]))).rejects.toMatchObject({ code: 'TRANSPORT_NOT_OPEN' });
    await expect(new SerialTransport({ path: pty.hostPath }).open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
    await b.close();
    await pty.replug();
    await a.open();
    expect(a.isOpen).toBe(true);
    await a.close();
  });
});

describe('Connection backoff and hot-plug', () => {
  it('keeps retrying with backoff and reconnects at once on a USB attach hint', async () => {
    const bus = new FakeHidBus();
    bus.unplug();
    const hotplug = new ManualHotplug();
    const conn = new Connection(new HidTransport({ open: bus.opener(), description: 'fake' }), { backoff: { initialMs: 50, maxMs: 10_000, factor: 10 }, hotplug });
    const retries: number[] = [];
    conn.on('retry', (r) => retries.push(r.delayMs));
    conn.start();
    await new Promise((r) => setTimeout(r, 700)); // backoff grows: 50, 500, 5000…
    expect(retries.slice(0, 3)).toEqual([50, 500, 5000]);
    bus.plug();
    const t0 = Date.now();
    hotplug.fire('attach');
    await conn.waitConnected({ timeoutMs: 4000 });
    expect(Date.now() - t0).toBeLessThan(1500); // long before the 5 s backoff step would end
    await conn.stop();
  });

  it('HidTransport prefixes the report id and turns a node-hid read error into a disconnect', async () => {
    const bus = new FakeHidBus();
    await bus.deviceEnd.open();
    const seen: Uint8Array[] = [];
    bus.deviceEnd.on('data', (d) => seen.push(d));
    const t = new HidTransport({ open: bus.opener(), description: 'fake' });
    await t.open();
    await t.write(new Uint8Array(64).fill(7));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen[0]?.length).toBe(64); // the bus strips the report-id byte HidTransport added
    const closed = new Promise<DriverError | null>((resolve) => t.on('close', resolve));
    bus.unplug();
    expect(await closed).toMatchObject({ code: 'TRANSPORT_DISCONNECTED' });
    await expect(t.open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
  });
});
