/**
 * The drivers' public surface. The host creates a scanner from configuration:
 *   createScanner({ kind: 'serial', path: '/dev/ttyACM0' })
 *   createScanner({ kind: 'hid', usbId: '1d50:6150' })
 * It never imports the simulator: product entry points that choose a simulated scanner import
 * `drivers/sim/index.ts` (createSimScanner) where they choose it, so a kiosk build carries no simulator.
 */
import { ScannerClient, type ScannerClientOptions } from './client/client.ts';
import { DriverError } from './errors.ts';
import { parseUsbId, formatUsbId, findSerialByUsbId } from './transport/discovery.ts';
import { HidTransport, nodeHidOpener, type HidOpener } from './transport/hid.ts';
import { usbHotplug } from './transport/hotplug.ts';
import { SerialTransport } from './transport/serial.ts';

export type ScannerConfig =
  | { kind: 'serial'; path?: string; usbId?: string; baudRate?: number }
  | { kind: 'hid'; usbId?: string; path?: string; open?: HidOpener };

export interface Scanner {
  client: ScannerClient;
  close(): Promise<void>;
}

/** Builds and opens a scanner. Real devices reconnect by themselves after an unplug. */
export async function createScanner(config: ScannerConfig, opts: ScannerClientOptions & { openTimeoutMs?: number } = {}): Promise<Scanner> {
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
export { judgeVerdict, type ModuleVerdict, type VerdictChecks, type VerdictDecision } from './client/verdict.ts';
export { planReconcile, type ExpectedUser, type ReconcilePlan } from './client/module-users.ts';
export { capabilityNames, type ModuleCapabilities, type ModuleUser, type EnrolRequest, type EnrolResult } from './client/serial-driver.ts';
export { checkPseudonym, RESULTS as MODULE_RESULTS } from './serial-module/family.ts';
export { listSerialPorts, listHidDevices, parseUsbId } from './transport/discovery.ts';
