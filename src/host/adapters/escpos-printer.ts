// The counter's receipt printer and cash drawer on a real ESC/POS printer (drivers/printer): each receipt is painted
// from the screen's receipt layout (receipt-picture.ts) and printed as a raster image; the drawer, wired to the
// printer's drawer port, opens with the printer's pulse. The flows open the drawer only after the payout record is
// committed (src/flows/payout.ts), so a pulse always follows a durable record. A printer fault (paper out, cover
// open, no answer) rejects with its typed code: the record stands, and the screen offers to print again.
import { statusError } from '../../../drivers/printer/escpos.ts';
import { EscPosPrinter, PrinterFault, type PrinterLink } from '../../../drivers/printer/printer.ts';
import type { Digits, Language } from '../../api/schemas.ts';
import type { Drawer, Printer } from '../../flows/ports.ts';
import type { Receipt } from '../../flows/types.ts';
import { printLog } from './receipt-log.ts';
import type { ReceiptPainter } from './receipt-picture.ts';

export interface EscPosParts {
  printer: Printer;
  drawer: Drawer;
  device: EscPosPrinter;
  close(): Promise<void>;
}

export function escposPrinterParts(opts: {
  link: PrinterLink;
  dataDir: string;
  painter: ReceiptPainter;
  /** The counter's language and digits now: the receipt prints in them. */
  settings: () => { language: Language; digits: Digits };
  paperDots?: number;
  log?: (msg: string, err?: unknown) => void;
}): EscPosParts {
  const device = EscPosPrinter.open(opts.link, { paperDots: opts.paperDots ?? 576 });
  const printed = printLog(opts.dataDir);
  const printer: Printer = {
    async print(receipt: Receipt, signal: AbortSignal) {
      const copy = printed.printed(receipt.recordId);
      // Ask the printer first: paper out or an open cover is said at once, not after painting the receipt.
      const fault = statusError(await device.status(signal));
      if (fault) throw new PrinterFault(fault.code, fault.message, false);
      const picture = await opts.painter.paint(receipt, { ...opts.settings(), copy }, signal);
      try {
        await device.print(picture, signal);
      } catch (err) {
        // Sent but reported short (paper ran out mid-receipt): what came out counts, so the next print says COPY.
        if (err instanceof PrinterFault && err.sent) printed.note(receipt, { copy, printer: device.description, outcome: err.code });
        throw err;
      }
      printed.note(receipt, { copy, printer: device.description });
      return { copy };
    },
  };
  const drawer: Drawer = {
    async open(signal: AbortSignal) {
      const r = await device.openDrawer(signal);
      opts.log?.(`cash drawer opened by the printer's ${r.realtime ? 'real-time pulse (printer offline)' : 'pulse'} on ${device.description}`);
    },
  };
  return { printer, drawer, device, close: () => device.close() };
}
