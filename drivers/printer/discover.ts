// `--printer auto`: the first serial port (USB CDC or a USB-serial bridge) whose USB vendor makes receipt printers.
// Ports of other vendors are never written to: a probe byte sent to the palm scanner's port could upset it.
import { listSerialPorts, type SerialPortInfo } from '../transport/discovery.ts';

/**
 * USB vendor ids that belong to receipt printer makers only (Epson, Star, Citizen, Bixolon). Printers built on a
 * generic microcontroller's vendor id (many 80 mm clones) are not guessed at, since the palm scanner may share it:
 * name them with serial:PATH.
 */
export const RECEIPT_PRINTER_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x04b8, 'Epson'],
  [0x0519, 'Star Micronics'],
  [0x1d90, 'Citizen'],
  [0x1504, 'Bixolon'],
]);

export function printerCandidates(ports: SerialPortInfo[]): SerialPortInfo[] {
  return ports.filter((p) => p.vendorId !== undefined && RECEIPT_PRINTER_VENDORS.has(p.vendorId));
}

/** The path of the first receipt printer found on a serial port, or null. */
export async function findSerialPrinter(): Promise<{ path: string; vendor: string } | null> {
  const found = printerCandidates(await listSerialPorts().catch(() => []))[0];
  return found ? { path: found.path, vendor: RECEIPT_PRINTER_VENDORS.get(found.vendorId!)! } : null;
}
