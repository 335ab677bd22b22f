// Finding receipt printers, and the one rule `--printer auto` and `palmpay printer list` share (choosePrinter).
// Three kinds of candidates: Linux USB printer-class device nodes (/dev/usb/lpN, the usblp driver), serial ports
// (USB CDC or a USB-serial bridge) and, for the listing, USB devices with the printer class (from libusb, also when
// no driver is bound). A port of another vendor is never written to: a probe sent to the palm scanner's port could
// upset it; a printer-class device can never be the scanner.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DriverError } from '../errors.ts';
import { formatUsbId, listSerialPorts, type SerialPortInfo, type UsbId } from '../transport/discovery.ts';
import type { PrinterLink } from './printer.ts';

/**
 * USB vendor ids that belong to receipt printer makers only (Epson, Star, Citizen, Bixolon). Printers built on a
 * generic microcontroller's vendor id (many 80 mm clones) are not guessed at on a serial port, since the palm
 * scanner may share it: name them with serial:PATH.
 */
export const RECEIPT_PRINTER_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x04b8, 'Epson'],
  [0x0519, 'Star Micronics'],
  [0x1d90, 'Citizen'],
  [0x1504, 'Bixolon'],
]);

/** The USB interface class of printers. */
export const USB_PRINTER_CLASS = 7;

/** A /dev/usb/lpN node and the USB id of the device behind it (from sysfs; absent when sysfs does not say). */
export interface UsbLpInfo {
  path: string;
  vendorId?: number;
  productId?: number;
}

/** A USB device with a printer-class interface, as libusb sees it. */
export interface UsbPrinterDevice {
  vendorId: number;
  productId: number;
  bus: number;
  address: number;
}

export interface PrinterCandidates {
  usblp: UsbLpInfo[];
  serial: SerialPortInfo[];
  usb: UsbPrinterDevice[];
}

/** Where the listing looks (tests point these at a made-up tree). */
export interface DiscoveryRoots {
  devUsbDir?: string;
  sysDir?: string;
}

export function printerCandidates(ports: SerialPortInfo[]): SerialPortInfo[] {
  return ports.filter((p) => p.vendorId !== undefined && RECEIPT_PRINTER_VENDORS.has(p.vendorId));
}

const vendorName = (id: number | undefined) => (id === undefined ? undefined : RECEIPT_PRINTER_VENDORS.get(id));

/**
 * What `--printer auto` takes, in this order: a /dev/usb/lpN of a receipt-printer maker, a serial port of one, then
 * any other /dev/usb/lpN (a printer by its class, so never the scanner; an office printer would be reported as not
 * answering its status). Null when there is none. Pure.
 */
export function choosePrinter(c: PrinterCandidates): { link: PrinterLink; why: string } | null {
  const lpKnown = c.usblp.find((l) => vendorName(l.vendorId));
  if (lpKnown) return { link: { kind: 'usblp', path: lpKnown.path }, why: `${vendorName(lpKnown.vendorId)} USB printer on ${lpKnown.path}` };
  const serial = printerCandidates(c.serial)[0];
  if (serial) return { link: { kind: 'serial', path: serial.path }, why: `${vendorName(serial.vendorId)} printer on ${serial.path}` };
  const lp = c.usblp[0];
  if (lp) return { link: { kind: 'usblp', path: lp.path }, why: `USB printer-class device ${lp.path}${lp.vendorId !== undefined ? ` (${formatUsbId({ vendorId: lp.vendorId, productId: lp.productId ?? 0 })})` : ''}` };
  return null;
}

/** The /dev/usb/lpN nodes, with the USB id sysfs gives for each. */
export async function listUsbLp(roots: DiscoveryRoots = {}): Promise<UsbLpInfo[]> {
  const dev = roots.devUsbDir ?? '/dev/usb';
  let names: string[];
  try {
    names = (await readdir(dev)).filter((n) => /^lp\d+$/.test(n)).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
  } catch {
    return [];
  }
  return Promise.all(names.map(async (n) => ({ path: join(dev, n), ...(await usbIdOfLp(n, roots.sysDir ?? '/sys')) })));
}

/** /sys/class/usbmisc/lpN/device is the USB interface; its parent, the device with idVendor and idProduct. */
async function usbIdOfLp(name: string, sysDir: string): Promise<Partial<UsbId>> {
  try {
    const device = dirname(await realpath(join(sysDir, 'class', 'usbmisc', name, 'device')));
    const hex = async (f: string) => parseInt((await readFile(join(device, f), 'utf8')).trim(), 16);
    const [vendorId, productId] = await Promise.all([hex('idVendor'), hex('idProduct')]);
    return Number.isFinite(vendorId) && Number.isFinite(productId) ? { vendorId, productId } : {};
  } catch {
    return {};
  }
}

/** USB devices with a printer-class interface (libusb; empty when libusb is missing). */
export async function listUsbPrinterDevices(): Promise<UsbPrinterDevice[]> {
  try {
    const { getDeviceList } = await import('usb');
    const out: UsbPrinterDevice[] = [];
    for (const d of getDeviceList()) {
      let printer = d.deviceDescriptor.bDeviceClass === USB_PRINTER_CLASS;
      try {
        printer ||= (d.allConfigDescriptors ?? []).some((c) => c.interfaces.some((alts) => alts.some((i) => i.bInterfaceClass === USB_PRINTER_CLASS)));
      } catch {
        // descriptors not readable without permission: judged by the device class alone
      }
      if (printer) out.push({ vendorId: d.deviceDescriptor.idVendor, productId: d.deviceDescriptor.idProduct, bus: d.busNumber, address: d.deviceAddress });
    }
    return out;
  } catch {
    return [];
  }
}

export async function listPrinterCandidates(roots: DiscoveryRoots = {}): Promise<PrinterCandidates> {
  const [usblp, serial, usb] = await Promise.all([listUsbLp(roots), listSerialPorts().catch(() => []), listUsbPrinterDevices()]);
  return { usblp, serial, usb };
}

/** `--printer auto`: the printer choosePrinter takes among what is plugged in, or null. */
export async function findPrinter(roots: DiscoveryRoots = {}): Promise<{ link: PrinterLink; why: string } | null> {
  return choosePrinter(await listPrinterCandidates(roots));
}

/**
 * `usb:VID:PID`: the /dev/usb/lpN of that device, else the serial port it offers (USB CDC); a printer-class device
 * without a node means the usblp driver is not bound, which is said as such.
 */
export function resolveUsbPrinter(id: UsbId, c: PrinterCandidates): Extract<PrinterLink, { kind: 'usblp' | 'serial' }> {
  const same = (x: { vendorId?: number; productId?: number }) => x.vendorId === id.vendorId && x.productId === id.productId;
  const lp = c.usblp.find(same);
  if (lp) return { kind: 'usblp', path: lp.path };
  const serial = c.serial.find(same);
  if (serial) return { kind: 'serial', path: serial.path };
  if (c.usb.some(same)) {
    throw new DriverError('DEVICE_NOT_FOUND', `the USB printer ${formatUsbId(id)} is plugged in but has no /dev/usb/lp node: load the usblp driver (modprobe usblp) or check the udev rule`);
  }
  throw new DriverError('DEVICE_NOT_FOUND', `no printer with USB id ${formatUsbId(id)}: see palmpay printer list`);
}
