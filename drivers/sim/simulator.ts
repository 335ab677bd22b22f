/**
 * SimulatedScanner: a scanner you can script. It owns the glass (Stage), an image source and one
 * simulated device (serial palm module or HID image scanner), and can run in-process (memory link,
 * or an in-memory node-hid-like device) or over a socat pty with the real SerialPort.
 *
 *   const sim = new SimulatedScanner({ protocol: 'serial' });
 *   const { client } = await sim.connectInProcess();
 *   sim.enqueue({ identity: 'alice' }, { identity: 'bob', sample: 2, afterMs: 500 });
 *   await client.waitForPalm(); const cap = await client.capture();
 */
import { ScannerClient, type ScannerClientOptions } from '../client/client.ts';
import { HidTransport } from '../transport/hid.ts';
import { MemoryLink } from '../transport/memory.ts';
import { SerialTransport } from '../transport/serial.ts';
import type { Transport } from '../transport/transport.ts';
import { FakeHidBus } from './fake-hid.ts';
import type { FaultPlan, FaultKind } from './faults.ts';
import { SimHidScanner } from './hid-scanner.ts';
import { PtyPair } from './pty.ts';
import { SimSerialModule, type SerialDialect } from './serial-module.ts';
import { syntheticSource, type ImageSource } from './sources.ts';
import { Stage, type Presentation } from './stage.ts';

export interface SimOptions {
  protocol?: 'serial' | 'hid';
  /** Image size (default 640×480; the source must produce this size). */
  width?: number;
  height?: number;
  /** Default: synthetic palms of width×height. */
  source?: ImageSource;
  faults?: FaultPlan;
  /** Serial modules: whether the module uploads images our way (else it gives features only). */
  canImage?: boolean;
  /** Serial modules: 'family' (published messages only), 'palm' (+ feature transfer), 'extended' (default: + every PalmPay extension). */
  dialect?: SerialDialect;
  /** Serial modules, extended dialect: image chunk requests taken in flight (default 8; 1 = one at a time, as older modules). */
  window?: number;
  /** Serial modules, extended dialect: PP_INFO bit 4, frames packed when the host asks (default true; false = a module before it). */
  packFrames?: boolean;
  /** Serial modules: false = no images at all, only features and its own verdicts (a module that matches on its own). */
  images?: boolean;
  /** Serial modules: users the table holds (default 255); beyond it enrolment answers `table full`. */
  maxUsers?: number;
}

export interface InProcessScanner {
  client: ScannerClient;
  /** Pull the cable (serial: memory link; HID: the fake device vanishes). */
  unplug(): void;
  plug(): void;
  /** Fault: pull the cable once `afterBytes` of the next frame have been sent; plug back after `downMs`. */
  unplugMidFrame(opts?: { afterBytes?: number; downMs?: number }): void;
  close(): Promise<void>;
}

export class SimulatedScanner {
  readonly stage = new Stage();
  readonly protocol: 'serial' | 'hid';
  readonly width: number;
  readonly height: number;
  readonly device: SimSerialModule | SimHidScanner;
  private pty: PtyPair | null = null;

  constructor(opts: SimOptions = {}) {
    this.protocol = opts.protocol ?? 'serial';
    this.width = opts.width ?? 640;
    this.height = opts.height ?? 480;
    const source = opts.source ?? syntheticSource({ width: this.width, height: this.height });
    const common = { stage: this.stage, source, width: this.width, height: this.height, faults: opts.faults };
    this.device = this.protocol === 'serial' ? new SimSerialModule({ ...common, canImage: opts.canImage, dialect: opts.dialect, ...(opts.window ? { window: opts.window } : {}), ...(opts.packFrames === false ? { packFrames: false } : {}), ...(opts.maxUsers ? { maxUsers: opts.maxUsers } : {}), ...(opts.images === false ? { images: false } : {}) }) : new SimHidScanner(common);
  }

  // ----- scripting the glass -----
  present(p: Presentation | string): void {
    this.stage.present(typeof p === 'string' ? { identity: p } : p);
  }
  remove(): void {
    this.stage.remove();
  }
  enqueue(...ps: Presentation[]): void {
    this.stage.enqueue(...ps);
  }
  /** Whenever a capture waits and nothing is queued, lay a palm from this function. */
  autoPresent(fn: (() => Presentation) | null): void {
    this.stage.autoPresent = fn;
  }

  // ----- faults -----
  get faultCounts(): Partial<Record<FaultKind, number>> {
    return this.device.faults.counts;
  }
  /** Silent device: receives everything, answers nothing. */
  set silent(on: boolean) {
    this.device.silent = on;
  }
  /** A power-up note mid-session. */
  restart(): void {
    this.device.powerUp();
  }

  /** Calls `hook(offset)` before each image chunk is sent (either protocol); null removes it. */
  onFrameBytes(hook: ((offset: number, total: number) => void) | null): void {
    if (this.device instanceof SimSerialModule) this.device.onUploadChunk = hook;
    else this.device.onChunk = hook;
  }

  /** Serves any device-end transport (kept open across unplugs). */
  serve(t: Transport): void {
    this.device.serve(t);
  }

  /** Wires a ScannerClient to this simulator in memory. */
  async connectInProcess(clientOpts: ScannerClientOptions = {}): Promise<InProcessScanner> {
    let host: Transport;
    let unplug: () => void;
    let plug: () => void;
    if (this.protocol === 'serial') {
      const link = new MemoryLink('serial', 'sim-serial');
      this.serve(link.device);
      host = link.host;
      unplug = () => link.unplug();
      plug = () => link.plug();
    } else {
      const bus = new FakeHidBus();
      this.serve(bus.deviceEnd);
      host = new HidTransport({ open: bus.opener(), description: 'sim HID 1d50:6150' });
      unplug = () => bus.unplug();
      plug = () => bus.plug();
    }
    const client = new ScannerClient(host, clientOpts);
    await client.open();
    const unplugMidFrame = ({ afterBytes = 1, downMs = 200 } = {}) => {
      const hook = (offset: number) => {
        if (offset < afterBytes) return;
        this.onFrameBytes(null);
        unplug();
        setTimeout(plug, downMs);
      };
      this.onFrameBytes(hook);
    };
    return { client, unplug, plug, unplugMidFrame, close: () => this.closeWith(client) };
  }

  /** Starts a socat pty pair and serves its device end with the real SerialPort; returns the host path. */
  async startPty(): Promise<PtyPair> {
    if (this.protocol !== 'serial') throw new Error('only the serial protocol runs over a pty');
    this.pty = await PtyPair.start();
    this.serve(new SerialTransport({ path: this.pty.devicePath, baudRate: 115200 }));
    return this.pty;
  }

  private async closeWith(client: ScannerClient): Promise<void> {
    await client.close();
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stage.dispose();
    await this.device.stop();
    await this.pty?.stop();
    this.pty = null;
  }
}
