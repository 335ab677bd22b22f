// The ESC/POS receipt printer driver against the virtual printer (test/support/virtual-printer.ts) over a real
// socat pty and over TCP: what the driver sends decodes back to the picture it was given; a printer that reports
// paper out or an open cover refuses before anything is sent; paper that runs out during a receipt is reported;
// the drawer opens through the real-time pulse while the printer is offline; a silent port is a typed timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverError } from '../../drivers/errors.ts';
import { encodeReceiptJob, isStatusByte, parseStatus, type GreyPicture } from '../../drivers/printer/escpos.ts';
import { EscPosPrinter } from '../../drivers/printer/printer.ts';
import { PtyPair } from '../../drivers/sim/pty.ts';
import { EscPosDecoder, VirtualPrinter } from '../support/virtual-printer.ts';

/** A picture with structure in both directions: a diagonal band and a frame, not a multiple of 8 wide or high. */
function testPicture(width = 300, height = 203): GreyPicture {
  const pixels = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1 || Math.abs(x - y) < 4 || (x > 200 && y > 150)) pixels[y * width + x] = 0;
      else if ((x + y) % 7 === 0) pixels[y * width + x] = 120; // dark grey prints black
      else if ((x * y) % 11 === 0) pixels[y * width + x] = 200; // light grey stays white
    }
  }
  return { width, height, pixels };
}

function expectSamePicture(printed: { width: number; height: number; ink: Uint8Array }, p: GreyPicture) {
  expect(printed.width).toBe(Math.ceil(p.width / 8) * 8);
  expect(printed.height).toBe(Math.ceil(p.height / 8) * 8);
  let wrong = 0;
  for (let y = 0; y < printed.height; y++) {
    for (let x = 0; x < printed.width; x++) {
      const want = x < p.width && y < p.height && p.pixels[y * p.width + x]! <= 160 ? 1 : 0;
      if (printed.ink[y * printed.width + x] !== want) wrong++;
    }
  }
  expect(wrong).toBe(0);
}

describe('ESC/POS codec', () => {
  it('status bytes: fixed bits checked, paper and cover read from their bits', () => {
    expect(isStatusByte(0x12)).toBe(true);
    expect(isStatusByte(0x00)).toBe(false);
    expect(isStatusByte(0xff)).toBe(false);
    expect(parseStatus({ printer: 0x12, offlineCause: 0x12, paperSensor: 0x12 })).toEqual({ offline: false, coverOpen: false, paperOut: false, paperNearEnd: false, error: false });
    expect(parseStatus({ printer: 0x1a, offlineCause: 0x32, paperSensor: 0x72 }).paperOut).toBe(true);
    expect(parseStatus({ printer: 0x1a, offlineCause: 0x16, paperSensor: 0x12 }).coverOpen).toBe(true);
    expect(parseStatus({ printer: 0x12, offlineCause: 0x12, paperSensor: 0x1e }).paperNearEnd).toBe(true);
    expect(() => parseStatus({ printer: 0x41, offlineCause: 0x12, paperSensor: 0x12 })).toThrow(/not an ESC\/POS status byte/);
  });

  it('a receipt longer than one raster block is split into blocks that stack back exactly, whatever the byte split', () => {
    const p = testPicture(576, 2600);
    const job = encodeReceiptJob(p);
    const dec = new EscPosDecoder(() => 0x12, { offline: () => false });
    for (let i = 0; i < job.length; i += 997) dec.feed(job.subarray(i, i + 997));
    expect(dec.errors).toEqual([]);
    expect(dec.receipts).toHaveLength(1);
    expect(dec.receipts[0]!.blocks).toBeGreaterThan(1);
    expectSamePicture(dec.receipts[0]!.picture, p);
  });

  it('refuses a picture wider than the paper, or malformed', () => {
    expect(() => encodeReceiptJob({ width: 600, height: 10, pixels: new Uint8Array(6000) })).toThrow(/paper takes 576/);
    expect(() => encodeReceiptJob({ width: 10, height: 10, pixels: new Uint8Array(5) })).toThrow(/malformed/);
  });
});

describe.each(['pty', 'tcp'] as const)('ESC/POS printer over %s', (link) => {
  let vp: VirtualPrinter;
  let printer: EscPosPrinter;

  beforeAll(async () => {
    vp = link === 'pty' ? await VirtualPrinter.onPty() : await VirtualPrinter.onTcp();
    const [kind, ...rest] = vp.spec.split(':');
    printer = EscPosPrinter.open(kind === 'serial' ? { kind: 'serial', path: rest.join(':') } : { kind: 'tcp', host: rest[0]!, port: Number(rest[1]) });
  });
  afterAll(async () => {
    await printer.close();
    await vp.close();
  });

  it('prints a picture that decodes back to the same dots, and cuts', async () => {
    const p = testPicture();
    const next = vp.nextReceipt();
    await printer.print(p);
    const r = await next;
    expect(vp.decoder.errors).toEqual([]);
    expect(r.whileOffline).toBe(false);
    expectSamePicture(r.picture, p);
  });

  it('paper out: refused before anything is sent, as PRINTER_PAPER_OUT; prints again once paper is loaded', async () => {
    vp.paperOut = true;
    const before = vp.receipts.length;
    const err = await printer.print(testPicture()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ code: 'PRINTER_PAPER_OUT', sent: false });
    expect(vp.receipts.length).toBe(before);
    vp.paperOut = false;
    await printer.print(testPicture());
    expect(vp.receipts.length).toBe(before + 1);
  });

  it('cover open: PRINTER_COVER_OPEN, nothing sent', async () => {
    vp.coverOpen = true;
    const before = vp.receipts.length;
    await expect(printer.print(testPicture())).rejects.toMatchObject({ code: 'PRINTER_COVER_OPEN' });
    expect(vp.receipts.length).toBe(before);
    vp.coverOpen = false;
  });

  it('paper that runs out during the receipt is reported after sending (the receipt may be cut short)', async () => {
    vp.runOutDuringNextReceipt = true;
    await expect(printer.print(testPicture())).rejects.toMatchObject({ code: 'PRINTER_PAPER_OUT', sent: true, message: expect.stringMatching(/cut short/) });
    vp.paperOut = false;
  });

  it('the drawer: ESC p when online, the real-time pulse when the printer is offline', async () => {
    const n = vp.pulses.length;
    expect(await printer.openDrawer()).toEqual({ realtime: false });
    vp.paperOut = true;
    expect(await printer.openDrawer()).toEqual({ realtime: true });
    vp.paperOut = false;
    await new Promise((r) => setTimeout(r, 100));
    expect(vp.pulses.slice(n)).toEqual([{ kind: 'esc-p', pin: 2 }, { kind: 'realtime', pin: 2 }]);
  });
});

describe('a port where no printer answers', () => {
  it('status, print and drawer fail as PRINTER_TIMEOUT (the drawer is not counted as opened)', async () => {
    const pty = await PtyPair.start();
    const printer = EscPosPrinter.open({ kind: 'serial', path: pty.hostPath }, { statusTimeoutMs: 300 });
    try {
      await expect(printer.status()).rejects.toMatchObject({ code: 'PRINTER_TIMEOUT' });
      await expect(printer.openDrawer()).rejects.toMatchObject({ code: 'PRINTER_TIMEOUT' });
      await expect(printer.print(testPicture())).rejects.toMatchObject({ code: 'PRINTER_TIMEOUT' });
    } finally {
      await printer.close();
      await pty.stop();
    }
  });

  it('a TCP printer that is not there: TRANSPORT_OPEN_FAILED', async () => {
    const printer = EscPosPrinter.open({ kind: 'tcp', host: '127.0.0.1', port: 1 });
    await expect(printer.status()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
    await printer.close();
  });
});
