// Which receipt printer and cash drawer a counter uses (`--printer`, terminal-config.ts): the ESC/POS printer on a
// serial port, a USB printer node (/dev/usb/lpN, or usb:VID:PID resolved to it) or a TCP address with the drawer on
// its drawer port, the one `auto` finds (drivers/printer/discover.ts choosePrinter), or none — receipts
// then go to <data>/receipts.log and the drawer is simulated, which the status bar and the log say. The printer's
// last reported state (paper out, cover open, …) is kept for the status bar.
import { choosePrinter, findPrinter, listPrinterCandidates, RECEIPT_PRINTER_VENDORS, resolveUsbPrinter, type DiscoveryRoots } from '../../drivers/printer/discover.ts';
import { formatUsbId, parseUsbId } from '../../drivers/transport/discovery.ts';
import type { PrinterLink } from '../../drivers/printer/printer.ts';
import { DEFAULT_SETTINGS, type Digits, type Language, type PrinterStatus } from '../api/schemas.ts';
import type { Drawer, Printer } from '../flows/ports.ts';
import { printFailure } from '../flows/printing.ts';
import { receiptLogPrinter } from './adapters/receipt-log.ts';
import type { ReceiptPainter } from './adapters/receipt-picture.ts';
import { findChromium } from './chromium.ts';
import { PalmPayError } from '../util/errors.ts';
import { placeholderPrinter, type StatusSource } from './placeholders.ts';
import type { PrinterChoice } from './terminal-config.ts';

export interface PrinterParts {
  printer: Printer;
  /** The real drawer (on the printer's port), or null: the caller keeps its simulated one. */
  drawer: Drawer | null;
  status: StatusSource<PrinterStatus>;
  /** One English sentence when receipts only go to the log (a placeholder), else null. */
  placeholder: string | null;
  close(): Promise<void>;
}

export interface PrinterPartsOptions {
  choice: PrinterChoice;
  dataDir: string;
  settings?: () => { language: Language; digits: Digits };
  /** How receipts become pictures (default: the renderer's receipt page in headless Chromium). */
  painter?: ReceiptPainter;
  /** The built renderer (dist/renderer), whose receipt.html paints receipts. */
  rendererDir?: string;
  log: (msg: string, err?: unknown) => void;
}

/** The link a choice names; `auto` and `usb:VID:PID` look at what is plugged in (discover.ts owns the rule). */
export async function printerLink(choice: PrinterChoice, log: (msg: string) => void, roots: DiscoveryRoots = {}): Promise<PrinterLink | null> {
  switch (choice.kind) {
    case 'none':
      return null;
    case 'serial':
      return { kind: 'serial', path: choice.path, ...(choice.baudRate ? { baudRate: choice.baudRate } : {}) };
    case 'usblp':
      return { kind: 'usblp', path: choice.path };
    case 'tcp':
      return { kind: 'tcp', host: choice.host, port: choice.port };
    case 'usb': {
      const link = resolveUsbPrinter(parseUsbId(choice.usbId), await listPrinterCandidates(roots));
      log(`printer: USB ${choice.usbId} is ${link.path}`);
      return link;
    }
    case 'auto': {
      const found = await findPrinter(roots);
      log(found ? `printer: ${found.why} (auto)` : 'printer: none found (auto); receipts go to receipts.log');
      return found?.link ?? null;
    }
  }
}

export async function openPrinter(opts: PrinterPartsOptions): Promise<PrinterParts> {
  const link = await printerLink(opts.choice, (m) => opts.log(m));
  if (!link) {
    return {
      printer: receiptLogPrinter(opts.dataDir),
      drawer: null,
      status: placeholderPrinter(),
      placeholder: 'no receipt printer: receipts go to receipts.log and the cash drawer is simulated',
      close: async () => {},
    };
  }

  // Loaded only for a real printer: the ESC/POS encoder and the receipt painter are no part of a log-only counter's start.
  const [{ escposPrinterParts }, painter] = await Promise.all([import('./adapters/escpos-printer.ts'), opts.painter ?? defaultPainter(opts.rendererDir, opts.log)]);
  const parts = escposPrinterParts({ link, dataDir: opts.dataDir, painter, settings: opts.settings ?? (() => DEFAULT_SETTINGS), log: opts.log });
  const name = parts.device.description;
  let current: PrinterStatus = { kind: 'escpos', name, state: 'unknown' };
  const listeners = new Set<(s: PrinterStatus) => void>();
  const set = (state: PrinterStatus['state']) => {
    if (current.state === state) return;
    current = { ...current, state };
    listeners.forEach((l) => l(current));
  };
  const stateOf = (err: unknown): PrinterStatus['state'] => {
    const reason = printFailure((err as { code?: unknown } | null)?.code);
    return reason === 'printer-error' ? 'error' : reason === 'printer-offline' ? 'offline' : reason === 'printer-unreachable' ? 'unreachable' : reason;
  };
  const tracked = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      const r = await fn(...a);
      set('ready');
      return r;
    } catch (err) {
      // A fault of the picture (no browser) says nothing about the printer.
      if ((err as { code?: unknown } | null)?.code !== 'RECEIPT_RENDER_FAILED') set(stateOf(err));
      throw err;
    }
  };
  // First look at the printer in the background: the status bar shows it before the first receipt.
  void parts.device.status().then(
    (s) => set(s.coverOpen ? 'cover-open' : s.paperOut ? 'paper-out' : s.offline || s.error ? 'offline' : 'ready'),
    (err: unknown) => {
      set(stateOf(err));
      opts.log(`printer: ${name} did not answer at start`, err);
    },
  );
  return {
    printer: { print: tracked(parts.printer.print) },
    drawer: { open: tracked(parts.drawer.open) },
    status: { status: () => current, onChange: (l) => (listeners.add(l), () => void listeners.delete(l)) },
    placeholder: null,
    close: () => parts.close(),
  };
}

async function defaultPainter(rendererDir: string | undefined, log: (msg: string, err?: unknown) => void): Promise<ReceiptPainter> {
  const browser = findChromium();
  const missing = !browser ? 'no Chromium found to paint receipts (set PALMPAY_BROWSER)' : !rendererDir ? 'no renderer folder to paint receipts from' : null;
  if (missing) {
    log(`printer: ${missing}: printing will fail with RECEIPT_RENDER_FAILED`);
    return { paint: async () => Promise.reject(new PalmPayError('RECEIPT_RENDER_FAILED', missing)) };
  }
  const { chromiumReceiptPainter } = await import('./adapters/receipt-picture.ts');
  return chromiumReceiptPainter({ browser: browser!, rendererDir: rendererDir!, paperDots: 576 });
}

/** `palmpay printer list`: what is plugged in that could be a receipt printer, and what `auto` would take. */
export async function listPrinters(roots: DiscoveryRoots = {}) {
  const c = await listPrinterCandidates(roots);
  const id = (x: { vendorId?: number; productId?: number }) => (x.vendorId === undefined ? null : formatUsbId({ vendorId: x.vendorId, productId: x.productId ?? 0 }));
  const pick = choosePrinter(c);
  return {
    usb_printer_nodes: c.usblp.map((l) => ({ path: l.path, usb_id: id(l), receipt_printer_maker: RECEIPT_PRINTER_VENDORS.get(l.vendorId ?? -1) ?? null })),
    serial_ports: c.serial.map((p) => ({ path: p.path, usb_id: id(p), manufacturer: p.manufacturer ?? null, receipt_printer_maker: RECEIPT_PRINTER_VENDORS.get(p.vendorId ?? -1) ?? null })),
    usb_printer_devices: c.usb.map((d) => ({ usb_id: id(d)!, bus: d.bus, address: d.address, node: c.usblp.find((l) => l.vendorId === d.vendorId && l.productId === d.productId)?.path ?? null })),
    auto_would_pick: pick ? { printer: pick.link.kind === 'tcp' ? `tcp:${pick.link.host}:${pick.link.port}` : pick.link.kind === 'serial' ? `serial:${pick.link.path}` : pick.link.path, why: pick.why } : null,
  };
}
