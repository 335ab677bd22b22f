// ESC/POS for a thermal receipt printer, pure: a receipt picture → the printer's bytes (through the maintained
// `@point-of-sale/receipt-printer-encoder`: initialise, raster image GS v 0, feed, cut), the cash drawer pulse,
// and the real-time status (DLE EOT n) requests and their answers. Text is never sent as text: printer code pages
// do not shape Arabic, so the host renders the receipt to a picture and this prints the picture.
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import { DriverError } from '../errors.ts';

/** An 8-bit grey picture (0 black … 255 white), row-major. */
export interface GreyPicture {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Printable dots across the paper: 576 on 80 mm paper, 384 on 58 mm (203 dpi heads). */
export const PAPER_DOTS = { '80mm': 576, '58mm': 384 } as const;

/** Grey at or below this prints black. */
const INK_THRESHOLD = 160;

const DLE = 0x10;
const EOT = 0x04;
const DC4 = 0x14;
const ESC = 0x1b;

/** The printer's bytes for one receipt: initialise, the picture as raster (GS v 0) blocks, feed and a full cut. */
export function encodeReceiptJob(picture: GreyPicture, opts: { paperDots?: number } = {}): Uint8Array {
  const dots = opts.paperDots ?? PAPER_DOTS['80mm'];
  if (!Number.isInteger(picture.width) || !Number.isInteger(picture.height) || picture.width < 1 || picture.height < 1 || picture.pixels.length !== picture.width * picture.height) {
    throw new DriverError('CONFIG_INVALID', `receipt picture ${picture.width}×${picture.height} with ${picture.pixels.length} pixels is malformed`);
  }
  if (picture.width > dots) throw new DriverError('CONFIG_INVALID', `receipt picture is ${picture.width} dots wide; the paper takes ${dots}`);
  const encoder = new ReceiptPrinterEncoder({ language: 'esc-pos', imageMode: 'raster', columns: dots === PAPER_DOTS['58mm'] ? 32 : 48, feedBeforeCut: 4 });
  // The encoder sends a tall picture as several GS v 0 blocks itself (printers cap the rows of one block).
  const width = Math.ceil(picture.width / 8) * 8;
  const height = Math.ceil(picture.height / 8) * 8;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let y = 0; y < picture.height; y++) {
    for (let x = 0; x < picture.width; x++) {
      const v = picture.pixels[y * picture.width + x]! <= INK_THRESHOLD ? 0 : 255;
      const o = (y * width + x) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = v;
    }
  }
  encoder.initialize().image({ data: rgba, width, height }, width, height, 'threshold', 128);
  return encoder.cut('full').encode();
}

/** Pin 2 of the drawer connector, 50 ms on, 500 ms off: ESC p 0 25 250 (units of 2 ms). */
export function drawerPulse(): Uint8Array {
  return Uint8Array.of(ESC, 0x70, 0, 25, 250);
}

/**
 * The real-time drawer pulse, DLE DC4 1 m t: executed at once even while the printer is offline (paper out, cover
 * open), where ESC p would wait in the buffer. Pin 2, 100 ms (t = 1 … 8, units of 100 ms).
 */
export function realtimeDrawerPulse(): Uint8Array {
  return Uint8Array.of(DLE, DC4, 1, 0, 1);
}

/** Which real-time status to ask for (DLE EOT n). */
export const STATUS = { printer: 1, offlineCause: 2, errorCause: 3, paperSensor: 4 } as const;
export type StatusKind = keyof typeof STATUS;

export function statusRequest(kind: StatusKind): Uint8Array {
  return Uint8Array.of(DLE, EOT, STATUS[kind]);
}

/** What the printer reported, gathered from the status bytes. */
export interface PrinterStatus {
  offline: boolean;
  coverOpen: boolean;
  paperOut: boolean;
  paperNearEnd: boolean;
  /** An error stopped the printer (cutter jam, head too hot, …). */
  error: boolean;
}

/**
 * Every DLE EOT answer is one byte with bits 0 and 7 clear and bits 1 and 4 set; anything else is not a status byte
 * (another protocol, line noise, an echo) and is refused rather than read as "all well".
 */
export function isStatusByte(b: number): boolean {
  return (b & 0b1001_0011) === 0b0001_0010;
}

/** Reads the three answers (printer, offline cause, paper sensor) into one status. */
export function parseStatus(bytes: { printer: number; offlineCause: number; paperSensor: number }): PrinterStatus {
  for (const [kind, b] of Object.entries(bytes)) {
    if (!isStatusByte(b)) throw new DriverError('PROTO_BAD_MESSAGE', `DLE EOT ${STATUS[kind as StatusKind]} answered 0x${b.toString(16).padStart(2, '0')}, which is not an ESC/POS status byte`);
  }
  return {
    offline: (bytes.printer & 0x08) !== 0,
    coverOpen: (bytes.offlineCause & 0x04) !== 0,
    paperOut: (bytes.offlineCause & 0x20) !== 0 || (bytes.paperSensor & 0x60) === 0x60,
    paperNearEnd: (bytes.paperSensor & 0x0c) === 0x0c,
    error: (bytes.offlineCause & 0x40) !== 0,
  };
}

/** The typed error a status stands for, or null when the printer can print. The cover is named before the paper. */
export function statusError(s: PrinterStatus): DriverError | null {
  if (s.coverOpen) return new DriverError('PRINTER_COVER_OPEN', 'the printer cover is open: close it, then print again');
  if (s.paperOut) return new DriverError('PRINTER_PAPER_OUT', 'the printer is out of paper: load a roll, then print again');
  if (s.offline || s.error) return new DriverError('PRINTER_OFFLINE', `the printer is offline${s.error ? ' with an error' : ''}: check it, then print again`);
  return null;
}
