/**
 * Finding scanners: serial ports (by path, or by USB VID:PID) and HID devices (by VID:PID).
 * SerialPort.list() spawns `udevadm` and throws an *uncaught* error when it is missing, so we check
 * for it first and fall back to a plain /dev scan (which knows paths but not VID:PID).
 */
import { access, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DriverError, asDriverError } from '../errors.ts';
import { waitFor } from '../util/abort.ts';

export interface SerialPortInfo {
  path: string;
  vendorId?: number;
  productId?: number;
  manufacturer?: string;
  serialNumber?: string;
}
export interface HidDeviceInfo {
  path?: string;
  vendorId: number;
  productId: number;
  product?: string;
  serialNumber?: string;
}

export interface UsbId {
  vendorId: number;
  productId: number;
}

/** Parses "1a2b:3c4d" (hex, as lsusb prints). */
export function parseUsbId(text: string): UsbId {
  const m = /^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  if (!m) throw new DriverError('CONFIG_INVALID', `'${text}' is not a USB id (want VID:PID in hex, e.g. 1a2b:3c4d)`);
  return { vendorId: parseInt(m[1]!, 16), productId: parseInt(m[2]!, 16) };
}

export function formatUsbId(id: UsbId): string {
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return `${h(id.vendorId)}:${h(id.productId)}`;
}

export async function onPath(command: string, pathVar = process.env.PATH ?? ''): Promise<boolean> {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

const SERIAL_NAME = /^tty(S|ACM|USB|AMA|WCH|XRUSB)\d+$/;

async function scanDev(): Promise<SerialPortInfo[]> {
  try {
    return (await readdir('/dev')).filter((n) => SERIAL_NAME.test(n)).map((n) => ({ path: `/dev/${n}` }));
  } catch {
    return [];
  }
}

/** Lists serial ports without ever crashing the process. */
export async function listSerialPorts(opts: { timeoutMs?: number } = {}): Promise<SerialPortInfo[]> {
  if (process.platform === 'linux' && !(await onPath('udevadm'))) return scanDev();
  try {
    const { SerialPort } = await import('serialport');
    const ports = await waitFor<Awaited<ReturnType<typeof SerialPort.list>>>('list serial ports', { timeoutMs: opts.timeoutMs ?? 3000 }, (resolve, reject) => {
      SerialPort.list().then(resolve, reject);
    });
    return ports.map((p) => ({
      path: p.path,
      vendorId: p.vendorId ? parseInt(p.vendorId, 16) : undefined,
      productId: p.productId ? parseInt(p.productId, 16) : undefined,
      manufacturer: p.manufacturer,
      serialNumber: p.serialNumber,
    }));
  } catch (err) {
    throw asDriverError(err, 'DISCOVERY_FAILED', 'listing serial ports');
  }
}

/** Lists HID devices via node-hid (needs libusb-1.0 even to list). */
export async function listHidDevices(): Promise<HidDeviceInfo[]> {
  try {
    const hid = await import('node-hid');
    const devicesAsync = hid.devicesAsync ?? (hid as unknown as { default: typeof hid }).default.devicesAsync;
    const list = await devicesAsync();
    return list.map((d) => ({ path: d.path, vendorId: d.vendorId, productId: d.productId, product: d.product, serialNumber: d.serialNumber }));
  } catch (err) {
    throw asDriverError(err, 'DISCOVERY_FAILED', 'listing HID devices');
  }
}

/** The serial path of the first port with this VID:PID. */
export async function findSerialByUsbId(id: UsbId): Promise<string> {
  const port = (await listSerialPorts()).find((p) => p.vendorId === id.vendorId && p.productId === id.productId);
  if (!port) throw new DriverError('DEVICE_NOT_FOUND', `no serial port with USB id ${formatUsbId(id)}`);
  return port.path;
}
