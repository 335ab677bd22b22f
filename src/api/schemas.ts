// The data shapes that cross the host ↔ renderer boundary. zod schemas are the source; types are inferred.
import { z } from 'zod';

export const LANGUAGES = ['ar', 'ku', 'en'] as const;
export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

/** Numbering system for Arabic: Arabic-Indic (٠١٢٣) or Latin (0123) digits. Kurmanji and English always use Latin. */
export const Digits = z.enum(['arab', 'latn']);
export type Digits = z.infer<typeof Digits>;

export const Settings = z.strictObject({
  language: Language,
  digits: Digits,
});
export type Settings = z.infer<typeof Settings>;
export const DEFAULT_SETTINGS: Settings = { language: 'ar', digits: 'arab' };

/** Money is an integer number of minor units (e.g. piastres, cents) plus an ISO 4217 currency code. Never a float. */
export const Money = z.strictObject({
  minor: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type Money = z.infer<typeof Money>;

export const ScannerStatus = z.strictObject({
  state: z.enum(['disconnected', 'connecting', 'ready', 'busy', 'error']),
  kind: z.enum(['simulated', 'serial', 'hid']),
  /** True while the scanner is a stand-in that does not speak any wire protocol yet. */
  placeholder: z.boolean(),
  /** A palm module that matches on its own whose user table is not what the store says (src/host/module-sync.ts). */
  module: z.enum(['table-full', 'feature-refused', 'sync-failed']).optional(),
});
export type ScannerStatus = z.infer<typeof ScannerStatus>;

export const LinkStatus = z.strictObject({
  state: z.enum(['up', 'down', 'unknown']),
  /** 'in-process' for the embedded reference server, otherwise its base URL. */
  server: z.string().max(2048),
  placeholder: z.boolean(),
  lastSyncAt: z.iso.datetime().nullable(),
  /** Plain http to a centre off this machine (`--insecure-http`): the status bar says so. */
  insecure: z.boolean().optional(),
});
export type LinkStatus = z.infer<typeof LinkStatus>;

export const QueueStatus = z.strictObject({
  /** Records waiting in the outbox for upload. */
  length: z.number().int().nonnegative(),
});
export type QueueStatus = z.infer<typeof QueueStatus>;

/** The receipt printer (the cash drawer hangs on it): `log` is the stand-in that writes receipts.log. */
export const PrinterStatus = z.strictObject({
  kind: z.enum(['log', 'escpos']),
  /** Where it is: a serial path, host:port, or receipts.log. */
  name: z.string().max(300),
  state: z.enum(['ready', 'paper-out', 'cover-open', 'offline', 'unreachable', 'error', 'unknown']),
});
export type PrinterStatus = z.infer<typeof PrinterStatus>;

/** The 1:N palm index: loaded after the first screen is up (a hand laid meanwhile is read once it is loaded). */
export const PalmsStatus = z.strictObject({
  state: z.enum(['waiting', 'loading', 'ready', 'error']),
  /** Enrolled palms in the index so far, of `total` to load. */
  loaded: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type PalmsStatus = z.infer<typeof PalmsStatus>;

export const PlaceholderPart = z.enum(['scanner', 'server', 'queue', 'printer']);
export const Placeholder = z.strictObject({
  part: PlaceholderPart,
  /** One English sentence for logs and support; the screen shows a translated label keyed by `part`. */
  description: z.string().max(500),
});
export type Placeholder = z.infer<typeof Placeholder>;

export const Status = z.strictObject({
  mode: z.enum(['electron', 'browser']),
  version: z.string().max(64),
  scanner: ScannerStatus,
  link: LinkStatus,
  queue: QueueStatus,
  printer: PrinterStatus,
  /** Absent on a host composed without the kiosk. */
  palms: PalmsStatus.optional(),
  placeholders: z.array(Placeholder).max(16),
});
export type Status = z.infer<typeof Status>;

/** What a failed call returns: a stable machine code and one line for a person. */
export const ApiError = z.strictObject({
  code: z.string().max(64),
  message: z.string().max(1000),
});
export type ApiError = z.infer<typeof ApiError>;
