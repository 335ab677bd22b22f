// What the host needs from a part that reports status (StatusSource), and fixed stand-ins for the scanner, the
// link and the outbox queue, for hosts composed without the kiosk (the transport and dispatcher tests). Each
// stand-in says what it is, on screen (status.placeholders) and in the log at start.
import type { LinkStatus, Placeholder, PrinterStatus, QueueStatus, ScannerStatus } from '../api/index.ts';

/** What the host needs from a part that reports status. Real implementations replace the placeholders. */
export interface StatusSource<T> {
  status(): T;
  /** Calls back on every change; returns an unsubscribe function. */
  onChange(listener: (status: T) => void): () => void;
  /** Present when this part is a placeholder: one sentence for logs and support. */
  placeholder?: Placeholder;
  close?(): Promise<void> | void;
}

function fixed<T>(value: T, placeholder: Placeholder): StatusSource<T> {
  return { status: () => value, onChange: () => () => {}, placeholder };
}

export function placeholderScanner(): StatusSource<ScannerStatus> {
  return fixed<ScannerStatus>(
    { state: 'ready', kind: 'simulated', placeholder: true },
    { part: 'scanner', description: 'simulated scanner (placeholder until the drivers land: no wire protocol, no palms)' },
  );
}

export function placeholderReferenceServer(): StatusSource<LinkStatus> {
  return fixed<LinkStatus>(
    { state: 'up', server: 'in-process', placeholder: true, lastSyncAt: null },
    { part: 'server', description: 'in-process reference server (placeholder until the server and sync land: accepts nothing yet)' },
  );
}

export function placeholderQueue(): StatusSource<QueueStatus> {
  return fixed<QueueStatus>({ length: 0 }, { part: 'queue', description: 'outbox queue (placeholder until the store lands: always empty)' });
}

/** Receipts to <data>/receipts.log and a simulated cash drawer (`--printer none`, the default). */
export function placeholderPrinter(): StatusSource<PrinterStatus> {
  return fixed<PrinterStatus>({ kind: 'log', name: 'receipts.log', state: 'ready' }, { part: 'printer', description: 'no receipt printer: receipts go to receipts.log and the cash drawer is simulated' });
}
