/**
 * The drivers' public surface. The host creates a scanner from configuration:
 *   createScanner({ kind: 'serial', path: '/dev/ttyACM0' })
 *   createScanner({ kind: 'hid', usbId: '1d50:6150' })
 *   createScanner({ kind: 'sim', protocol: 'hid' })      // in-process simulator, scriptable via .sim
 */
import { ScannerClient, type ScannerClientOptions } from './client/client.ts';
import { DriverError } from './errors.ts';
import { parseUsbId, formatUsbId, findSerialByUsbId } from './transport/discovery.ts';
import { HidTransport, nodeHidOpener, type HidOpener } from './transport/hid.ts';
import { usbHotplug } from './transport/hotplug.ts';
import { SerialTransport } from './transport/serial.ts';
import { SimulatedScanner, type SimOptions } from './sim/simulator.ts';

export type ScannerConfig =
  | { kind: 'serial'; path?: string; usbId?: string; baudRate?: number }
  | { kind: 'hid'; usbId?: string; path?: string; open?: HidOpener }
  | { kind: 'sim'; sim?: SimOptions };

export interface Scanner {
  client: ScannerClient;
  /** Present for kind 'sim': script palms, inject faults, unplug. */
  sim?: SimulatedScanner;
  unplug?: () => void;
  plug?: () => void;
  unplugMidFrame?: (opts?: { afterBytes?: number; downMs?: number }) => void;
  close(): Promise<void>;
}

/** Builds and opens a scanner. Real devices reconnect by themselves after an unplug. */
export async function createScanner(config: ScannerConfig, opts: ScannerClientOptions & { openTimeoutMs?: number } = {}): Promise<Scanner> {
  if (config.kind === 'sim') {
    const sim = new SimulatedScanner(config.sim);
    const s = await sim.connectInProcess(opts);
    return { client: s.client, sim, unplug: s.unplug, plug: s.plug, unplugMidFrame: s.unplugMidFrame, close: s.close };
  }
  const withHotplug = { ...opts, connection: { hotplug: usbHotplug(), ...opts.connection } };
  let client: ScannerClient;
  if (config.kind === 'serial') {
    const path = config.path ?? (config.usbId ? await findSerialByUsbId(parseUsbId(config.usbId)) : undefined);
    if (!path) throw new DriverError('CONFIG_INVALID', 'a serial scanner needs a path or a USB id');
    client = new ScannerClient(new SerialTransport({ path, baudRate: config.baudRate }), withHotplug);
  } else {
    let open = config.open;
    let description = 'HID scanner';
    if (!open && config.path) [open, description] = [nodeHidOpener({ path: config.path }), `HID ${config.path}`];
    if (!open && config.usbId) {
      const id = parseUsbId(config.usbId);
      [open, description] = [nodeHidOpener(id), `HID ${formatUsbId(id)}`];
    }
    if (!open) throw new DriverError('CONFIG_INVALID', 'a HID scanner needs a USB id (VID:PID) or a path');
    client = new ScannerClient(new HidTransport({ open, description }), withHotplug);
  }
  await client.open({ timeoutMs: opts.openTimeoutMs ?? 5000 }).catch(async (err: unknown) => {
    await client.close();
    throw err instanceof DriverError && err.code === 'SCANNER_TIMEOUT' ? new DriverError('DEVICE_NOT_FOUND', `${client.transport.description}: could not be opened`, { cause: err }) : err;
  });
  return { client, close: () => client.close() };
}

export { ScannerClient } from './client/client.ts';
export type { ScannerClientOptions } from './client/client.ts';
export type * from './client/types.ts';
export { DriverError, isDriverError, DRIVER_ERROR_CODES, type DriverErrorCode } from './errors.ts';
export { SimulatedScanner, type SimOptions } from './sim/simulator.ts';
export type { Presentation } from './sim/stage.ts';
export { syntheticSource, folderSource } from './sim/sources.ts';
export { syntheticPalm, type GreyImage } from './sim/synthetic-palm.ts';
export { PtyPair } from './sim/pty.ts';
export { listSerialPorts, listHidDevices, parseUsbId } from './transport/discovery.ts';
