// What a terminal runs on: which scanner, which centre and which receipt printer. A file in the data folder (`terminal-config.json`,
// written at provisioning or by a technician) with command-line flags over it. `--demo` means the simulated
// scanner and the embedded centre; without it nothing simulated or embedded starts unless it is named.
// Pure parsing here; reading and writing the file at the bottom.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PalmPayError } from '../util/errors.ts';

export type ScannerChoice =
  | { kind: 'auto' }
  | { kind: 'sim' }
  | { kind: 'serial'; path: string }
  | { kind: 'hid'; usbId: string };

export type CentreChoice =
  | { kind: 'none' }
  | { kind: 'embedded' }
  | { kind: 'remote'; url: string; insecureHttp: boolean };

/** The receipt printer (with the cash drawer on its drawer port); `none`: receipts go to <data>/receipts.log. */
export type PrinterChoice =
  | { kind: 'none' }
  | { kind: 'auto' }
  | { kind: 'serial'; path: string; baudRate?: number }
  /** A Linux USB printer-class node (/dev/usb/lpN, the usblp driver). */
  | { kind: 'usblp'; path: string }
  /** A USB printer by its id: its /dev/usb/lpN, or the serial port it offers (resolved at start). */
  | { kind: 'usb'; usbId: string }
  | { kind: 'tcp'; host: string; port: number };

export interface TerminalConfig {
  scanner: ScannerChoice;
  centre: CentreChoice;
  printer: PrinterChoice;
}

export const CONFIG_FILE = 'terminal-config.json';

/** `auto`, `sim`, `serial:PATH`, `hid:VID:PID`. */
export function parseScanner(spec: string): ScannerChoice {
  const s = spec.trim();
  if (s === 'auto' || s === 'sim') return { kind: s };
  if (s.startsWith('serial:') && s.length > 'serial:'.length) return { kind: 'serial', path: s.slice('serial:'.length) };
  const hid = /^hid:([0-9a-f]{1,4}:[0-9a-f]{1,4})$/i.exec(s);
  if (hid) return { kind: 'hid', usbId: hid[1]!.toLowerCase() };
  throw new PalmPayError('CONFIG_INVALID', `--scanner '${spec}': use auto, sim, serial:PATH or hid:VID:PID (hex, e.g. hid:04c5:1234)`);
}

/** What --printer takes (said in every refusal). */
export const PRINTER_SPECS = 'auto, none, serial:PATH[@BAUD], /dev/usb/lpN (or usblp:PATH), usb:VID:PID or tcp:HOST:PORT';

/** `auto`, `none`, `serial:PATH[@BAUD]`, `/dev/usb/lpN` or `usblp:PATH`, `usb:VID:PID`, `tcp:HOST:PORT` (a network printer's raw port, usually 9100). */
export function parsePrinter(spec: string): PrinterChoice {
  const s = spec.trim();
  if (s === 'auto' || s === 'none') return { kind: s };
  if (/^\/dev\/usb\/lp\d+$/.test(s)) return { kind: 'usblp', path: s };
  if (s.startsWith('usblp:') && s.length > 'usblp:'.length) return { kind: 'usblp', path: s.slice('usblp:'.length) };
  const usb = /^usb:([0-9a-f]{1,4}:[0-9a-f]{1,4})$/i.exec(s);
  if (usb) return { kind: 'usb', usbId: usb[1]!.toLowerCase() };
  const serial = /^serial:([^@]+)(?:@(\d{3,7}))?$/.exec(s);
  if (serial) return { kind: 'serial', path: serial[1]!, ...(serial[2] ? { baudRate: Number(serial[2]) } : {}) };
  const tcp = /^tcp:(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(s);
  if (tcp && Number(tcp[2]) >= 1 && Number(tcp[2]) <= 65535) return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  throw new PalmPayError('CONFIG_INVALID', `--printer '${spec}': use ${PRINTER_SPECS} (e.g. /dev/usb/lp0, usb:04b8:0202, tcp:192.168.1.50:9100)`);
}

/** Loopback hosts: plain http there never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** `embedded`, or the centre's base URL: https, or http only to loopback unless `insecureHttp`. */
export function parseCentre(spec: string, insecureHttp = false): CentreChoice {
  const s = spec.trim();
  if (s === 'embedded') return { kind: 'embedded' };
  if (s === 'none') return { kind: 'none' };
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new PalmPayError('CONFIG_INVALID', `--centre '${spec}': use embedded, or the centre's URL (https://centre.example:8470)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PalmPayError('CONFIG_INVALID', `--centre '${spec}': only https (or http to this machine) is spoken`);
  if (url.username || url.password || url.search || url.hash) throw new PalmPayError('CONFIG_INVALID', `--centre '${spec}': give the base URL only (no credentials, query or fragment)`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecureHttp) {
    throw new PalmPayError('CENTRE_INSECURE', `--centre ${url.origin}: plain http off this machine would expose the counter's traffic; use https, or say --insecure-http on a link you trust`);
  }
  return { kind: 'remote', url: url.origin + url.pathname.replace(/\/+$/, ''), insecureHttp: url.protocol === 'http:' && !isLoopbackHost(url.hostname) };
}

export function describeScanner(s: ScannerChoice): string {
  return s.kind === 'serial' ? `serial ${s.path}` : s.kind === 'hid' ? `HID ${s.usbId}` : s.kind === 'sim' ? 'simulated scanner' : 'the first scanner found (auto)';
}

export function describePrinter(p: PrinterChoice): string {
  switch (p.kind) {
    case 'serial':
      return `ESC/POS serial ${p.path}${p.baudRate ? ` @${p.baudRate}` : ''}`;
    case 'usblp':
      return `ESC/POS USB printer ${p.path}`;
    case 'usb':
      return `ESC/POS USB printer ${p.usbId}`;
    case 'tcp':
      return `ESC/POS tcp ${p.host}:${p.port}`;
    case 'auto':
      return 'the first ESC/POS printer found (auto)';
    case 'none':
      return 'none: receipts go to receipts.log';
  }
}

export function describeCentre(c: CentreChoice): string {
  return c.kind === 'remote' ? `${c.url}${c.insecureHttp ? ' (INSECURE plain http)' : ''}` : c.kind === 'embedded' ? 'embedded centre (demo)' : 'none: not provisioned (palmpay terminal provision --centre URL --code CODE)';
}

/** The file's shape: specs as a technician writes them. */
const ConfigFile = z.strictObject({
  scanner: z.string().max(300).optional(),
  centre: z.string().max(2048).optional(),
  insecureHttp: z.boolean().optional(),
  printer: z.string().max(300).optional(),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export interface ConfigFlags {
  scanner?: string;
  centre?: string;
  insecureHttp?: boolean;
  printer?: string;
  demo?: boolean;
}

/** Flags over the file over the defaults (`--demo`: sim + embedded; otherwise auto + none; the printer: none). Pure. */
export function resolveConfig(file: ConfigFile, flags: ConfigFlags): TerminalConfig {
  const insecure = Boolean(flags.insecureHttp ?? file.insecureHttp);
  const scanner = flags.scanner ?? (flags.demo ? 'sim' : file.scanner) ?? 'auto';
  const centre = flags.centre ?? (flags.demo ? 'embedded' : file.centre) ?? 'none';
  const printer = flags.printer ?? file.printer ?? 'none';
  return { scanner: parseScanner(scanner), centre: parseCentre(centre, insecure), printer: parsePrinter(printer) };
}

export function readConfigFile(dataDir: string): ConfigFile {
  const file = join(dataDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PalmPayError('CONFIG_INVALID', `${file} is not JSON: fix or remove it`);
  }
  const r = ConfigFile.safeParse(parsed);
  if (!r.success) throw new PalmPayError('CONFIG_INVALID', `${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  // Specs are validated now, so a bad file stops the start with its own message, not a late failure.
  resolveConfig(r.data, {});
  return r.data;
}

/** Merges `patch` into the file (atomic, 0600). */
export function writeConfigFile(dataDir: string, patch: ConfigFile): ConfigFile {
  const next = ConfigFile.parse({ ...readConfigFile(dataDir), ...patch });
  const file = join(dataDir, CONFIG_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  if (process.platform !== 'win32') chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return next;
}
