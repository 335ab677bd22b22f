// The kiosk's scanner, as configured (terminal-config.ts): the in-process simulator (demo), a serial palm module
// or HID image scanner at a named path/id, or the first known scanner found (`auto`). Real devices connect in the
// background and reconnect after an unplug (the drivers' connection loop, with USB hot-plug hints): the counter
// shows "scanner disconnected" meanwhile, a flow waiting for a palm keeps its state and goes on after the replug.
import { ScannerClient, type ScannerClientOptions } from '../../../drivers/client/client.ts';
import { formatUsbId, listHidDevices, listSerialPorts, parseUsbId, type HidDeviceInfo, type SerialPortInfo } from '../../../drivers/transport/discovery.ts';
import { HidTransport, nodeHidOpener } from '../../../drivers/transport/hid.ts';
import { usbHotplug } from '../../../drivers/transport/hotplug.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import type { ScannerStatus } from '../../api/schemas.ts';
import type { PalmReader, PalmRead } from '../../flows/ports.ts';
import type { PlacementEvent } from '../../flows/types.ts';
import type { ScannerChoice } from '../terminal-config.ts';
import { ScannerPalmReader, type Template } from './palm.ts';

/** USB ids of the scanners and serial bridges PalmPay knows (the same as build/linux/99-palmpay.rules). */
export const KNOWN_HID_VENDORS = [0x04c5];
export const KNOWN_SERIAL_BRIDGES = ['10c4:ea60', '1a86:7523', '0403:6001'];

export interface KioskScanner {
  kind: ScannerStatus['kind'];
  /** One line for the status bar and the log: transport and where. */
  description(): string;
  palm: PalmReader<Template>;
  state(): ScannerStatus['state'];
  /** The driver client once a device is found (the scanner check asks it who it is), else null. */
  client(): ScannerClient | null;
  /** Fires on every state change (and when `auto` finds its scanner). */
  onChange(listener: () => void): () => void;
  /** The serial palm module's client once there is one (a module that matches on its own is kept in sync through it), else null. */
  moduleClient(): ScannerClient | null;
  close(): Promise<void>;
}

/** A scanner around a client the kiosk already holds (the in-process simulator). */
export function clientScanner(client: ScannerClient, kind: ScannerStatus['kind'], description: string): KioskScanner {
  return {
    kind,
    description: () => description,
    palm: new ScannerPalmReader(client),
    state: () => stateOf(client),
    client: () => client,
    onChange: (fn) => {
      client.on('state', fn);
      return () => void client.off('state', fn);
    },
    moduleClient: () => (client.kind === 'serial-module' ? client : null),
    close: () => client.close(),
  };
}

/** Opens the configured real scanner ('serial' / 'hid' / 'auto'); never waits for the device to be there. */
export function openDeviceScanner(choice: Exclude<ScannerChoice, { kind: 'sim' }>, opts: { log: (line: string) => void; pollMs?: number; clientOptions?: ScannerClientOptions }): KioskScanner {
  const clientOpts: ScannerClientOptions = { ...opts.clientOptions, connection: { hotplug: usbHotplug(), ...opts.clientOptions?.connection } };
  const listeners = new Set<() => void>();
  const fire = () => listeners.forEach((l) => l());
  let client: ScannerClient | null = null;
  let kind: ScannerStatus['kind'] = choice.kind === 'hid' ? 'hid' : 'serial';
  let where = choice.kind === 'serial' ? choice.path : choice.kind === 'hid' ? choice.usbId : 'searching';
  let closed = false;
  let poll: NodeJS.Timeout | undefined;

  const attach = (c: ScannerClient) => {
    client = c;
    c.on('state', fire);
    c.start(); // connects in the background, and again after every unplug
    opts.log(`scanner: ${kind} ${where}`);
    fire();
  };
  const found = new Promise<ScannerClient>((resolve) => {
    if (choice.kind === 'serial') return resolve(new ScannerClient(new SerialTransport({ path: choice.path }), clientOpts));
    if (choice.kind === 'hid') return resolve(hidClient(parseUsbId(choice.usbId)));
    // auto: look for a known scanner now and every few seconds until one is plugged in.
    const look = async () => {
      if (closed || client) return;
      const hit = await discover().catch(() => null);
      if (hit && !closed) {
        clearInterval(poll);
        kind = hit.kind;
        where = hit.where;
        resolve(hit.kind === 'hid' ? hidClient(hit.usbId) : new ScannerClient(new SerialTransport({ path: hit.where }), clientOpts));
      }
    };
    opts.log('scanner: auto — looking for a known scanner (plug one in)');
    poll = setInterval(() => void look(), opts.pollMs ?? 3000);
    poll.unref();
    void look();
  });
  function hidClient(id: { vendorId: number; productId: number }): ScannerClient {
    return new ScannerClient(new HidTransport({ open: nodeHidOpener(id), description: `HID ${formatUsbId(id)}` }), clientOpts);
  }
  void found.then((c) => (closed ? void c.close() : attach(c)));

  const palm = found.then((c) => new ScannerPalmReader(c));
  return {
    get kind() {
      return kind;
    },
    description: () => (client ? `${kind} ${where}` : choice.kind === 'auto' ? 'no scanner found yet (auto)' : `${kind} ${where}`),
    palm: deferredReader(palm),
    state: () => (client ? stateOf(client) : 'disconnected'),
    client: () => client,
    onChange: (fn) => {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    moduleClient: () => (client?.kind === 'serial-module' ? client : null),
    async close() {
      closed = true;
      clearInterval(poll);
      await client?.close();
    },
  };
}

/** What is plugged in, as `palmpay scanner list` shows it, and which device `--scanner auto` would take. */
export interface ScannerListing {
  serial_ports: Array<{ path: string; usb_id: string | null; manufacturer: string | null; serial_number: string | null; known_bridge: boolean }>;
  hid_devices: Array<{ usb_id: string; product: string | null; path: string | null; serial_number: string | null; known_vendor: boolean }>;
  /** Why HID devices could not be listed (e.g. libusb missing), or null. */
  hid_error: string | null;
  /** The `--scanner` spec auto would pick now (a known HID vendor first, then a known serial bridge), or null. */
  auto_would_pick: string | null;
}

/** Pure: the listing from what discovery found. */
export function summariseDevices(serial: SerialPortInfo[], hid: HidDeviceInfo[], hidError: string | null = null): ScannerListing {
  const serialPorts = serial.map((p) => {
    const usbId = p.vendorId !== undefined && p.productId !== undefined ? formatUsbId({ vendorId: p.vendorId, productId: p.productId }) : null;
    return { path: p.path, usb_id: usbId, manufacturer: p.manufacturer ?? null, serial_number: p.serialNumber ?? null, known_bridge: usbId !== null && KNOWN_SERIAL_BRIDGES.includes(usbId) };
  });
  const hidDevices = hid.map((d) => ({ usb_id: formatUsbId(d), product: d.product ?? null, path: d.path ?? null, serial_number: d.serialNumber ?? null, known_vendor: KNOWN_HID_VENDORS.includes(d.vendorId) }));
  const h = hidDevices.find((d) => d.known_vendor);
  const p = serialPorts.find((x) => x.known_bridge);
  return { serial_ports: serialPorts, hid_devices: hidDevices, hid_error: hidError, auto_would_pick: h ? `hid:${h.usb_id}` : p ? `serial:${p.path}` : null };
}

export async function listScanners(): Promise<ScannerListing> {
  let hidError: string | null = null;
  const hid = await listHidDevices().catch((err: unknown) => {
    hidError = err instanceof Error ? err.message : String(err);
    return [];
  });
  return summariseDevices(await listSerialPorts().catch(() => []), hid, hidError);
}

/** The first known scanner, as the listing picks it. */
async function discover(): Promise<{ kind: 'hid'; usbId: { vendorId: number; productId: number }; where: string } | { kind: 'serial'; where: string } | null> {
  const pick = (await listScanners()).auto_would_pick;
  if (pick?.startsWith('hid:')) {
    const where = pick.slice('hid:'.length);
    return { kind: 'hid', usbId: parseUsbId(where), where };
  }
  return pick ? { kind: 'serial', where: pick.slice('serial:'.length) } : null;
}

function stateOf(client: ScannerClient): ScannerStatus['state'] {
  const s = client.state;
  return s === 'ready' || s === 'connected' ? 'ready' : s === 'busy' ? 'busy' : s === 'unresponsive' ? 'error' : 'disconnected';
}

/** A palm reader for a scanner that is not there yet: reads wait for it (abortable), guidance starts with it. */
function deferredReader(ready: Promise<ScannerPalmReader>): PalmReader<Template> {
  return {
    async read(opts): Promise<PalmRead<Template>> {
      opts.signal.throwIfAborted();
      const reader = await new Promise<ScannerPalmReader>((resolve, reject) => {
        const abort = () => reject(opts.signal.reason);
        opts.signal.addEventListener('abort', abort, { once: true });
        void ready.then((r) => {
          opts.signal.removeEventListener('abort', abort);
          resolve(r);
        });
      });
      return reader.read(opts);
    },
    onPlacement(listener: (e: PlacementEvent) => void) {
      let off = () => {};
      let cancelled = false;
      void ready.then((r) => {
        if (!cancelled) off = r.onPlacement(listener);
      });
      return () => {
        cancelled = true;
        off();
      };
    },
  };
}
