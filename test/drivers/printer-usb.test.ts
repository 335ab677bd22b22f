// USB receipt printers: a Linux printer-class node (/dev/usb/lpN) and usb:VID:PID. The node transport drives the
// virtual printer on a real socat pty (a character device read and written with plain file calls, as usblp is);
// a temp file stands in for /dev/usb/lp0 for path handling (a node that takes bytes but never answers); a made-up
// /dev/usb + sysfs tree gives the USB ids that `--printer auto`, `usb:VID:PID` and `palmpay printer list` use.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreyPicture } from '../../drivers/printer/escpos.ts';
import { choosePrinter, listUsbLp, resolveUsbPrinter, type PrinterCandidates } from '../../drivers/printer/discover.ts';
import { EscPosPrinter } from '../../drivers/printer/printer.ts';
import { listPrinters, printerLink } from '../../src/host/printer-choice.ts';
import { parsePrinter } from '../../src/host/terminal-config.ts';
import { runCli } from '../e2e/spawn-terminal.ts';
import { VirtualPrinter } from '../support/virtual-printer.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-usblp-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function stripes(width = 576, height = 64): GreyPicture {
  const pixels = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x >> 3) % 3 === 0 || y % 16 === 0) pixels[y * width + x] = 0;
  return { width, height, pixels };
}

describe('--printer spec', () => {
  it('takes /dev/usb/lpN, usblp:PATH and usb:VID:PID; refuses the rest naming every form', () => {
    expect(parsePrinter('/dev/usb/lp0')).toEqual({ kind: 'usblp', path: '/dev/usb/lp0' });
    expect(parsePrinter('usblp:/tmp/stand-in')).toEqual({ kind: 'usblp', path: '/tmp/stand-in' });
    expect(parsePrinter('usb:04B8:0202')).toEqual({ kind: 'usb', usbId: '04b8:0202' });
    expect(() => parsePrinter('/dev/usb/lpx')).toThrow(/\/dev\/usb\/lpN.*usb:VID:PID/);
    expect(() => parsePrinter('usb:04b8')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('USB printer node transport', () => {
  let vp: VirtualPrinter;
  beforeAll(async () => {
    vp = await VirtualPrinter.onPty();
  });
  afterAll(async () => vp?.close());

  it('prints to the virtual printer and kicks its drawer through a node opened as a file (pty)', async () => {
    const node = vp.spec.slice('serial:'.length);
    const printer = EscPosPrinter.open(parsePrinter(`usblp:${node}`) as { kind: 'usblp'; path: string });
    try {
      expect(printer.description).toBe(`usblp ${node}`);
      expect(await printer.status()).toMatchObject({ paperOut: false, coverOpen: false });
      const picture = stripes();
      const got = vp.nextReceipt();
      await printer.print(picture);
      const printed = (await got).picture;
      let wrong = 0;
      for (let y = 0; y < picture.height; y++) for (let x = 0; x < picture.width; x++) if (printed.ink[y * printed.width + x] !== (picture.pixels[y * picture.width + x]! <= 160 ? 1 : 0)) wrong++;
      expect(wrong).toBe(0);
      vp.paperOut = true;
      await expect(printer.print(picture)).rejects.toMatchObject({ code: 'PRINTER_PAPER_OUT' });
      const pulse = new Promise((resolve) => vp.onPulse(resolve));
      expect(await printer.openDrawer()).toEqual({ realtime: true });
      expect(await pulse).toMatchObject({ kind: 'realtime' });
      vp.paperOut = false;
    } finally {
      await printer.close();
    }
  }, 60_000);

  it('a temp file standing in for /dev/usb/lp0: the bytes go to that path; no answer is a typed timeout', async () => {
    const standIn = join(scratch, 'lp0');
    writeFileSync(standIn, '');
    const printer = EscPosPrinter.open({ kind: 'usblp', path: standIn }, { statusTimeoutMs: 300 });
    try {
      await expect(printer.status()).rejects.toMatchObject({ code: 'PRINTER_TIMEOUT' });
      expect([...readFileSync(standIn)].slice(0, 3)).toEqual([0x10, 0x04, 0x01]); // DLE EOT 1: the status was asked there
    } finally {
      await printer.close();
    }
    const missing = EscPosPrinter.open({ kind: 'usblp', path: join(scratch, 'lp9') });
    await expect(missing.status()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED', message: expect.stringMatching(/unplugged, or the usblp driver/) });
    await missing.close();
  });
});

describe('finding USB printers (a made-up /dev/usb and sysfs)', () => {
  const dev = join(scratch, 'dev-usb');
  const sys = join(scratch, 'sys');
  beforeAll(() => {
    mkdirSync(dev, { recursive: true });
    // lp0: an 80 mm clone (generic vendor), lp1: an Epson; lp2: no sysfs entry.
    for (const [lp, vid, pid, port] of [['lp0', '0fe6', '811e', '1-1'], ['lp1', '04b8', '0202', '1-2']] as const) {
      writeFileSync(join(dev, lp), '');
      const device = join(sys, 'devices', 'pci0000:00', 'usb1', port);
      mkdirSync(join(device, `${port}:1.0`), { recursive: true });
      writeFileSync(join(device, 'idVendor'), `${vid}\n`);
      writeFileSync(join(device, 'idProduct'), `${pid}\n`);
      mkdirSync(join(sys, 'class', 'usbmisc', lp), { recursive: true });
      symlinkSync(join(device, `${port}:1.0`), join(sys, 'class', 'usbmisc', lp, 'device'));
    }
    writeFileSync(join(dev, 'lp2'), '');
    writeFileSync(join(dev, 'hiddev0'), '');
  });
  const roots = () => ({ devUsbDir: dev, sysDir: sys });

  it('lists the nodes with their USB ids', async () => {
    expect(await listUsbLp(roots())).toEqual([
      { path: join(dev, 'lp0'), vendorId: 0x0fe6, productId: 0x811e },
      { path: join(dev, 'lp1'), vendorId: 0x04b8, productId: 0x0202 },
      { path: join(dev, 'lp2') },
    ]);
  });

  it('auto: a receipt maker\'s node, then a receipt maker\'s serial port, then any printer node; never another serial port', async () => {
    const usblp = await listUsbLp(roots());
    const epsonSerial = { path: '/dev/ttyACM3', vendorId: 0x04b8, productId: 0x0e15 };
    const scannerSerial = { path: '/dev/ttyACM0', vendorId: 0x0483, productId: 0x5740 };
    const c = (x: Partial<PrinterCandidates>): PrinterCandidates => ({ usblp: [], serial: [], usb: [], ...x });
    expect(choosePrinter(c({ usblp, serial: [epsonSerial] }))?.link).toEqual({ kind: 'usblp', path: join(dev, 'lp1') });
    expect(choosePrinter(c({ usblp: [usblp[0]!], serial: [scannerSerial, epsonSerial] }))?.link).toEqual({ kind: 'serial', path: '/dev/ttyACM3' });
    expect(choosePrinter(c({ usblp: [usblp[0]!], serial: [scannerSerial] }))?.link).toEqual({ kind: 'usblp', path: join(dev, 'lp0') });
    expect(choosePrinter(c({ serial: [scannerSerial] }))).toBeNull();
  });

  it('usb:VID:PID is the node of that device, or its serial port; a printer without a node says usblp is not bound', async () => {
    const usblp = await listUsbLp(roots());
    expect(await printerLink(parsePrinter('usb:04b8:0202'), () => {}, roots())).toEqual({ kind: 'usblp', path: join(dev, 'lp1') });
    expect(resolveUsbPrinter({ vendorId: 0x04b8, productId: 0x0e15 }, { usblp, serial: [{ path: '/dev/ttyACM3', vendorId: 0x04b8, productId: 0x0e15 }], usb: [] })).toEqual({ kind: 'serial', path: '/dev/ttyACM3' });
    expect(() => resolveUsbPrinter({ vendorId: 0x0519, productId: 1 }, { usblp, serial: [], usb: [{ vendorId: 0x0519, productId: 1, bus: 1, address: 7 }] })).toThrow(/modprobe usblp/);
    expect(() => resolveUsbPrinter({ vendorId: 0x0519, productId: 2 }, { usblp, serial: [], usb: [] })).toThrow(expect.objectContaining({ code: 'DEVICE_NOT_FOUND' }));
  });

  it('palmpay printer list shows what auto would take, by the same rule', async () => {
    const l = await listPrinters(roots());
    expect(l.usb_printer_nodes.map((n) => [n.path, n.usb_id, n.receipt_printer_maker])).toEqual([
      [join(dev, 'lp0'), '0fe6:811e', null],
      [join(dev, 'lp1'), '04b8:0202', 'Epson'],
      [join(dev, 'lp2'), null, null],
    ]);
    expect(l.auto_would_pick).toEqual({ printer: join(dev, 'lp1'), why: `Epson USB printer on ${join(dev, 'lp1')}` });
    // The real command on this machine: same keys, and its pick agrees with the rule over what it listed.
    const r = await runCli(['printer', 'list', '--json']);
    expect(r.code).toBe(0);
    const real = JSON.parse(r.stdout) as typeof l;
    expect(Object.keys(real)).toEqual(['usb_printer_nodes', 'serial_ports', 'usb_printer_devices', 'auto_would_pick']);
    if (real.usb_printer_nodes.length === 0 && real.serial_ports.every((p) => !p.receipt_printer_maker)) expect(real.auto_would_pick).toBeNull();
    expect((await runCli(['printer', 'list', '--help'])).stdout).toContain('--json');
  }, 60_000);
});
