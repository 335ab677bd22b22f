/**
 * The device side of our HID image-scanner profile: answers 64-byte host reports, streams frames as
 * begin/chunks/end, keeps the last frame for RESEND_FRAME. Faults apply per exchange (command answers)
 * and per frame transfer (lost, duplicated, corrupt chunks; a stall; a restart mid-frame).
 */
import { DriverError } from '../errors.ts';
import { CHUNK_DATA, HOST, encodeDeviceReport, parseHostReport, type DeviceReport, type HostReport } from '../hid-profile/reports.ts';
import type { Transport } from '../transport/transport.ts';
import { sleep } from '../util/abort.ts';
import { crc32 } from '../util/crc32.ts';
import { serveTransport, waitPalm } from './device-common.ts';
import { FaultInjector, HID_FAULTS, type FaultKind, type FaultPlan } from './faults.ts';
import { atDistance, type ImageSource } from './sources.ts';
import type { Stage } from './stage.ts';

export interface SimHidOptions {
  stage: Stage;
  source: ImageSource;
  width: number;
  height: number;
  vendorId?: number;
  productId?: number;
  model?: string;
  serial?: string;
  firmware?: string;
  faults?: FaultPlan;
}

const COMMAND_FAULTS: FaultKind[] = ['garbage', 'drop', 'duplicate', 'delay', 'power_up'];
const FRAME_FAULTS: FaultKind[] = ['garbage', 'drop_chunk', 'dup_chunk', 'corrupt_chunk', 'stall', 'power_up'];

export class SimHidScanner {
  readonly faults: FaultInjector;
  silent = false;
  indicator = { led: 'off', beepMs: 0 };
  exposureUs = 2000;
  /** Called before each chunk is sent (tests use it to pull the device mid-frame). */
  onChunk: ((offset: number, total: number) => void) | null = null;
  private transport: Transport | null = null;
  private server: { stop(): Promise<void> } | null = null;
  private seq = 0;
  private last: { seq: number; pixels: Uint8Array } | null = null;
  private queue: Promise<void> = Promise.resolve();
  private task: AbortController | null = null;
  private generation = 0;

  constructor(private readonly o: SimHidOptions) {
    this.faults = new FaultInjector(o.faults ?? { rate: 0 }, HID_FAULTS);
    o.stage.on('change', (p) => {
      if (p) this.send({ type: 'event', event: 'distance', distanceMm: p.distanceMm });
      this.send({ type: 'event', event: p ? 'palm_present' : 'palm_removed', distanceMm: p?.distanceMm ?? 0 });
    });
  }

  serve(t: Transport): void {
    this.transport = t;
    this.server = serveTransport(t, (d) => this.onReport(d), () => this.powerUp());
  }

  async stop(): Promise<void> {
    this.task?.abort();
    await this.server?.stop();
  }

  /** A restart: forgets the last frame, stops any transfer, announces 'ready'. */
  powerUp(): void {
    this.generation++;
    this.last = null;
    this.task?.abort();
    this.send({ type: 'event', event: 'ready', distanceMm: 0 });
  }

  private send(r: DeviceReport | Uint8Array): void {
    if (!this.transport?.isOpen || this.silent) return;
    this.transport.write(r instanceof Uint8Array ? r : encodeDeviceReport(r)).catch(() => undefined);
  }

  private onReport(d: Uint8Array): void {
    let r: HostReport;
    try {
      r = parseHostReport(d);
    } catch {
      this.send({ type: 'ack', cmd: d[0] ?? 0, status: 'unknown_command', seq: 0 });
      return;
    }
    if (r.type === 'stop_capture' || r.type === 'reset') this.task?.abort();
    this.queue = this.queue.then(() => this.handle(r)).catch(() => undefined);
  }

  /** Sends a command's answer through the per-exchange fault plan. */
  private async answer(r: DeviceReport): Promise<void> {
    switch (this.faults.next(COMMAND_FAULTS)) {
      case 'garbage': {
        const g = new Uint8Array(64);
        for (let i = 0; i < 64; i++) g[i] = this.faults.int(256);
        this.send(g);
        return this.send(r);
      }
      case 'drop':
        return;
      case 'duplicate':
        this.send(r);
        return this.send(r);
      case 'delay':
        await sleep(this.faults.delay());
        return this.send(r);
      case 'power_up':
        return this.powerUp();
      default:
        return this.send(r);
    }
  }

  private async handle(r: HostReport): Promise<void> {
    const o = this.o;
    const ack = (cmd: number, status: 'ok' | 'no_frame' | 'busy' = 'ok', seq = 0) => this.answer({ type: 'ack', cmd, status, seq });
    switch (r.type) {
      case 'get_info':
        return this.answer({ type: 'info', vendorId: o.vendorId ?? 0x1d50, productId: o.productId ?? 0x6150, firmware: o.firmware ?? '1.0', width: o.width, height: o.height, serial: o.serial ?? 'SIMHID0001', model: o.model ?? 'PalmSim-HID' });
      case 'get_status':
        return this.answer({ type: 'status', palm: o.stage.ensurePalm() ? 'present' : 'none', distanceMm: o.stage.palm?.distanceMm ?? 0, capturing: false });
      case 'set_indicator':
        this.indicator = { led: r.led, beepMs: r.beepMs };
        return ack(HOST.SET_INDICATOR);
      case 'set_exposure':
        this.exposureUs = r.exposureUs;
        return ack(HOST.SET_EXPOSURE);
      case 'stop_capture':
        return ack(HOST.STOP_CAPTURE);
      case 'reset':
        this.last = null;
        return ack(HOST.RESET);
      case 'start_capture': {
        const task = new AbortController();
        this.task = task;
        const palm = await waitPalm(o.stage, r.timeoutS * 1000, task.signal).catch(() => null);
        if (!palm) return ack(HOST.START_CAPTURE, 'no_frame');
        const shot = o.stage.shoot();
        const img = atDistance(await o.source.image(palm.identity, palm.sample, shot), palm.distanceMm);
        if (img.width !== o.width || img.height !== o.height) throw new DriverError('SIM_FAILED', 'image source gave the wrong size');
        const seq = (this.seq = (this.seq + 1) & 0xffff);
        this.last = { seq, pixels: img.pixels };
        await ack(HOST.START_CAPTURE, 'ok', seq);
        return this.stream(seq, img.pixels, task.signal);
      }
      case 'resend_frame': {
        if (!this.last || this.last.seq !== r.seq) return ack(HOST.RESEND_FRAME, 'no_frame', r.seq);
        await ack(HOST.RESEND_FRAME, 'ok', r.seq);
        const task = new AbortController();
        this.task = task;
        return this.stream(r.seq, this.last.pixels, task.signal);
      }
    }
  }

  private async stream(seq: number, px: Uint8Array, signal: AbortSignal): Promise<void> {
    const gen = this.generation;
    const fault = this.faults.next(FRAME_FAULTS);
    const chunks = Math.ceil(px.length / CHUNK_DATA);
    const at = this.faults.int(chunks); // where the fault strikes
    this.send({ type: 'frame_begin', seq, width: this.o.width, height: this.o.height, total: px.length, crc: crc32(px) });
    for (let i = 0; i < chunks; i++) {
      if (signal.aborted || gen !== this.generation || !this.transport?.isOpen) return;
      if (i % 128 === 127) await new Promise((r) => setImmediate(r)); // pace like an interrupt endpoint
      const offset = i * CHUNK_DATA;
      this.onChunk?.(offset, px.length);
      let data = px.subarray(offset, offset + CHUNK_DATA);
      if (i === at) {
        if (fault === 'drop_chunk') continue;
        if (fault === 'stall') return;
        if (fault === 'power_up') return this.powerUp();
        if (fault === 'garbage') this.send(new Uint8Array(64).map(() => this.faults.int(256)));
        if (fault === 'corrupt_chunk') {
          data = data.slice();
          data[this.faults.int(data.length)]! ^= 1 << this.faults.int(8);
        }
        if (fault === 'dup_chunk') this.send({ type: 'frame_chunk', seq, offset, data });
      }
      this.send({ type: 'frame_chunk', seq, offset, data });
    }
    this.send({ type: 'frame_end', seq, chunks });
  }
}
