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

  // Both read paths: Node's tty stream on a second descriptor (the default on Linux) and serialport's own reads.
  for (const directReads of [true, false]) {
    const path = directReads ? 'direct' : 'serialport';
    it(`(${path} reads) carries bytes both ways, reports a vanished device as TRANSPORT_DISCONNECTED, and reopens`, async () => {
      const pty = await PtyPair.start();
      pairs.push(pty);
      const a = new SerialTransport({ path: pty.hostPath, directReads });
      const b = new SerialTransport({ path: pty.devicePath, directReads });
      await a.open();
      await b.open();
      expect(a.readPath).toBe(path);
      const got: Buffer[] = [];
      b.on('data', (d) => got.push(Buffer.from(d)));
      const payload = new Uint8Array(20_000).map((_, i) => i & 0xff);
      await a.write(payload);
      while (Buffer.concat(got).length < payload.length) await new Promise((r) => setTimeout(r, 5));
      expect(Buffer.concat(got).equals(Buffer.from(payload))).toBe(true);

      const closed = new Promise<DriverError | null>((resolve) => a.on('close', resolve));
      await pty.unplug();
      expect(await closed).toMatchObject({ code: 'TRANSPORT_DISCONNECTED' });
      expect(a.readPath).toBeNull();
      await expect(a.write(new Uint8Array([1]))).rejects.toMatchObject({ code: 'TRANSPORT_NOT_OPEN' });
      await expect(new SerialTransport({ path: pty.hostPath, directReads }).open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
      await b.close();
      await pty.replug();
      await a.open();
      expect(a.isOpen).toBe(true);
      expect(a.readPath).toBe(path);
      await a.close();
    });
  }

  it('(direct reads) hears an unplug from the read itself, typed, without waiting for the device-node check', async () => {
    const pty = await PtyPair.start();
    pairs.push(pty);
    const a = new SerialTransport({ path: pty.hostPath, presenceCheckMs: 60_000 });
    await a.open();
    expect(a.readPath).toBe('direct');
    const closed = new Promise<DriverError | null>((resolve) => a.on('close', resolve));
    const t0 = Date.now();
    await pty.unplug();
    expect(await closed).toMatchObject({ code: 'TRANSPORT_DISCONNECTED' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    await a.close();
  });

  it('(direct reads) a write the kernel cannot take whole is finished in order: a later write never overtakes it', async () => {
    const pty = await PtyPair.start();
    pairs.push(pty);
    const a = new SerialTransport({ path: pty.hostPath, timeoutMs: 20_000 });
    const b = new SerialTransport({ path: pty.devicePath });
    await a.open();
    await b.open();
    // Far more than the kernel's tty buffers hold: the rest of this write waits in serialport's queue. Each time the
    // device end takes bytes the kernel has room again, and a small write made then must still queue behind it.
    const big = new Uint8Array(1 << 20).fill(0x11);
    let bigDone = false;
    const markers: Promise<unknown>[] = [];
    const got: Buffer[] = [];
    let n = 0;
    b.on('data', (d) => {
      got.push(Buffer.from(d));
      n += d.length;
      if (!bigDone && markers.length < 40) markers.push(a.write(new Uint8Array([0x22])));
    });
    await a.write(big).then(() => (bigDone = true));
    await Promise.all(markers);
    expect(markers.length).toBeGreaterThan(0);
    while (n < big.length + markers.length) await new Promise((r) => setTimeout(r, 5));
    const all = Buffer.concat(got);
    expect(all.length).toBe(big.length + markers.length);
    expect(all.indexOf(0x22)).toBe(big.length); // no marker among the big write's bytes
    await a.close();
    await b.close();
  });

  it('closes cleanly: no close error, and the port opens again at once', async () => {
    const pty = await PtyPair.start();
    pairs.push(pty);
    const a = new SerialTransport({ path: pty.hostPath });
    await a.open();
    const events: (DriverError | null)[] = [];
    a.on('close', (e) => events.push(e));
    await a.close();
    expect(events).toEqual([null]);
    await a.open();
    expect(a.readPath).toBe('direct');
    await a.close();
    expect(events).toEqual([null, null]);
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
