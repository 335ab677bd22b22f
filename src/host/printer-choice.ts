// Which receipt printer and cash drawer a counter uses (`--printer`, terminal-config.ts): the ESC/POS printer on a
// serial port or a TCP address with the drawer on its drawer port, the first one found (`auto`), or none — receipts
// then go to <data>/receipts.log and the drawer is simulated, which the status bar and the log say. The printer's
// last reported state (paper out, cover open, …) is kept for the status bar.
import { findSerialPrinter } from '../../drivers/printer/discover.ts';
import type { PrinterLink } from '../../drivers/printer/printer.ts';
import { DEFAULT_SETTINGS, type Digits, type Language, type PrinterStatus } from '../api/schemas.ts';
import type { Drawer, Printer } from '../flows/ports.ts';
import { printFailure } from '../flows/printing.ts';
import { escposPrinterParts } from './adapters/escpos-printer.ts';
import { receiptLogPrinter } from './adapters/receipt-log.ts';
import { chromiumReceiptPainter, type ReceiptPainter } from './adapters/receipt-picture.ts';
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

export async function openPrinter(opts: PrinterPartsOptions): Promise<PrinterParts> {
  let link: PrinterLink | null = null;
  if (opts.choice.kind === 'serial') link = { kind: 'serial', path: opts.choice.path, ...(opts.choice.baudRate ? { baudRate: opts.choice.baudRate } : {}) };
  if (opts.choice.kind === 'tcp') link = { kind: 'tcp', host: opts.choice.host, port: opts.choice.port };
  if (opts.choice.kind === 'auto') {
    const found = await findSerialPrinter();
    if (found) link = { kind: 'serial', path: found.path };
    opts.log(found ? `printer: ${found.vendor} printer found on ${found.path}` : 'printer: none found (auto); receipts go to receipts.log');
  }
  if (!link) {
    return {
      printer: receiptLogPrinter(opts.dataDir),
      drawer: null,
      status: placeholderPrinter(),
      placeholder: 'no receipt printer: receipts go to receipts.log and the cash drawer is simulated',
      close: async () => {},
    };
  }

  const painter = opts.painter ?? defaultPainter(opts.rendererDir, opts.log);
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

function defaultPainter(rendererDir: string | undefined, log: (msg: string, err?: unknown) => void): ReceiptPainter {
  const browser = findChromium();
  const missing = !browser ? 'no Chromium found to paint receipts (set PALMPAY_BROWSER)' : !rendererDir ? 'no renderer folder to paint receipts from' : null;
  if (missing) {
    log(`printer: ${missing}: printing will fail with RECEIPT_RENDER_FAILED`);
    return { paint: async () => Promise.reject(new PalmPayError('RECEIPT_RENDER_FAILED', missing)) };
  }
  return chromiumReceiptPainter({ browser: browser!, rendererDir: rendererDir!, paperDots: 576 });
}
