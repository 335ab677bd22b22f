/**
 * The host side of our HID image-scanner profile: 64-byte reports. A capture is start → ack (with the
 * frame's sequence number) → chunked frame; a lost, corrupt or stalled transfer is re-requested with
 * RESEND_FRAME (the device keeps its last frame, so a resend is safe), a device restart redoes it all.
 */
import { DriverError, isDriverError } from '../errors.ts';
import { FrameReassembler, type GreyFrame } from '../hid-profile/reassembly.ts';
import { encodeHostReport, parseDeviceReport, HOST, type DeviceReport, type HostReport } from '../hid-profile/reports.ts';
import { waitFor, type CallOptions } from '../util/abort.ts';
import { PalmWaiters } from './palm-waiters.ts';
import { ExchangeSlot } from './exchange.ts';
import type { Capture, CaptureOptions, DriverSink, Indicator, IndicatorOptions, PalmEvent, ProtocolDriver, ScannerInfo } from './types.ts';

/** The distance band (mm) a distance hint must be in to count as a palm present. */
const MIN_MM = 30;
const MAX_MM = 100;

export interface HidDriverOptions {
  exchangeTimeoutMs?: number;
  attempts?: number;
  captureAttempts?: number;
  /** Resend requests per capture. */
  resendAttempts?: number;
  /** A transfer with no chunk for this long is abandoned. */
  chunkTimeoutMs?: number;
  /** How long the device waits for a palm when asked to capture (s). */
  snapTimeoutS?: number;
  pollMs?: number;
}

export class HidImageDriver implements ProtocolDriver {
  readonly kind = 'hid-image' as const;
  private readonly slot: ExchangeSlot<DeviceReport>;
  private readonly reassembler: FrameReassembler;
  private readonly palmWaiters = new PalmWaiters();
  private frameWaiter: { resolve: (f: GreyFrame) => void; reject: (e: unknown) => void } | null = null;
  /** The last transfer's outcome, kept in case it lands before the waiter is armed. */
  private lastOutcome: { seq: number; frame?: GreyFrame; error?: DriverError } | null = null;
  /**
   * Frame sequence numbers the device acked (start or resend) during the current capture call. Only
   * these frames are accepted: a frame from an earlier call could show an earlier person's palm.
   */
  private readonly acked = new Set<number>();
  private latestAcked: number | null = null;
  /** When a frame report last arrived (a transfer that is moving is never cut short). */
  private frameActivityAt = 0;
  private readonly o: Required<HidDriverOptions>;

  constructor(
    send: (bytes: Uint8Array, opts: CallOptions) => Promise<void>,
    private readonly sink: DriverSink,
    opts: HidDriverOptions = {},
  ) {
    this.o = { exchangeTimeoutMs: 400, attempts: 4, captureAttempts: 3, resendAttempts: 4, chunkTimeoutMs: 300, snapTimeoutS: 2, pollMs: 300, ...opts };
    this.slot = new ExchangeSlot<DeviceReport>(sink, send);
    this.reassembler = new FrameReassembler({ timeoutMs: this.o.chunkTimeoutMs });
  }

  onData(data: Uint8Array): void {
    let r: DeviceReport;
    try {
      r = parseDeviceReport(data);
    } catch (err) {
      if (isDriverError(err)) return this.sink.fault(err);
      throw err;
    }
    switch (r.type) {
      case 'frame_begin':
      case 'frame_chunk':
      case 'frame_end': {
        this.frameActivityAt = Date.now();
        const res = this.reassembler.push(r, Date.now());
        if (res.kind === 'frame') this.frameOutcome(res.frame.seq, res.frame, undefined);
        else if (res.kind === 'error') {
          this.sink.fault(res.error);
          this.frameOutcome(res.seq, undefined, res.error);
        } else if (res.kind === 'warning') this.sink.fault(res.error);
        return;
      }
      case 'event':
        if (r.event === 'ready') {
          this.reassembler.reset();
          this.sink.deviceReady();
          const err = new DriverError('DEVICE_RESTARTED', 'the scanner restarted during the exchange');
          this.slot.fail(err);
          if (this.frameWaiter) {
            this.sink.fault(err);
            this.frameWaiter.reject(err);
          }
          return;
        }
        {
          const e: PalmEvent = { state: r.event === 'palm_removed' ? 'none' : 'present', distanceMm: r.distanceMm };
          // A distance hint guides the person; only the band the scanner images well counts as present.
          if (r.event === 'distance') e.state = r.distanceMm === 0 ? 'none' : r.distanceMm < MIN_MM ? 'too_close' : r.distanceMm > MAX_MM ? 'too_far' : 'present';
          this.sink.palm(e);
          this.palmWaiters.notify(e);
        }
        return;
      default:
        // A start/resend ack means "this frame follows", even when it answers an attempt we gave up on.
        if (r.type === 'ack' && r.status === 'ok' && (r.cmd === HOST.START_CAPTURE || r.cmd === HOST.RESEND_FRAME) && this.inCapture) {
          this.acked.add(r.seq);
          this.latestAcked = r.seq;
        }
        if (!this.slot.offer(r)) this.sink.fault(new DriverError('PROTO_STALE_REPLY', `${r.type} report that nobody waits for`));
    }
  }

  private inCapture = false;

  private frameOutcome(seq: number, frame: GreyFrame | undefined, error: DriverError | undefined): void {
    if (!this.acked.has(seq)) {
      if (frame) this.sink.fault(new DriverError('PROTO_STALE_REPLY', `frame ${seq} that nobody asked for in this capture`));
      return;
    }
    const w = this.frameWaiter;
    if (w) {
      if (frame) w.resolve(frame);
      else w.reject(error);
    } else this.lastOutcome = { seq, frame, error };
  }

  onDisconnected(err: DriverError | null): void {
    const e = err ?? new DriverError('TRANSPORT_DISCONNECTED', 'HID device closed');
    this.reassembler.reset();
    this.slot.fail(e);
    this.frameWaiter?.reject(e);
  }

  private req<T extends DeviceReport['type']>(name: string, report: HostReport, want: T, opts: CallOptions, cmd?: number, timeoutMs = this.o.exchangeTimeoutMs): Promise<Extract<DeviceReport, { type: T }>> {
    return this.slot.request(name, encodeHostReport(report), {
      signal: opts.signal,
      timeoutMs,
      attempts: this.o.attempts,
      match: (r) => {
        if (r.type !== want) return false;
        if (r.type === 'ack' && cmd !== undefined && r.cmd !== cmd) return false;
        return true;
      },
    }) as Promise<Extract<DeviceReport, { type: T }>>;
  }

  private async command(name: string, report: HostReport, cmd: number, opts: CallOptions, timeoutMs?: number): Promise<number> {
    const ack = await this.req(name, report, 'ack', opts, cmd, timeoutMs);
    if (ack.status === 'no_frame' && cmd === HOST.START_CAPTURE) throw new DriverError('NO_PALM', `${name}: the scanner saw no palm in time`);
    if (ack.status !== 'ok') throw new DriverError(ack.status === 'busy' ? 'SCANNER_BUSY' : 'DEVICE_REJECTED', `${name}: the scanner answered ${ack.status}`);
    return ack.seq;
  }

  async info(opts: CallOptions): Promise<ScannerInfo> {
    const r = await this.req('info', { type: 'get_info' }, 'info', opts);
    return { kind: this.kind, model: r.model, serial: r.serial, firmware: r.firmware, width: r.width, height: r.height, captures: 'frame' };
  }

  async waitForPalm(opts: CallOptions): Promise<PalmEvent> {
    while (true) {
      const s = await this.req('status', { type: 'get_status' }, 'status', opts);
      if (s.palm === 'present') return { state: 'present', distanceMm: s.distanceMm };
      const e = await this.palmWaiters.nextPresent(this.o.pollMs, opts.signal);
      if (e) return e;
    }
  }

  /**
   * Waits for an acked frame. A transfer that keeps moving may take as long as the call allows (a
   * full-speed device needs ~5 s for 640×480); silence for `idleMs` fails the wait.
   */
  private waitFrame(idleMs: number, opts: CallOptions): Promise<GreyFrame> {
    this.frameActivityAt = Date.now();
    return waitFor<GreyFrame>('frame', { signal: opts.signal }, (resolve, reject) => {
      const early = this.lastOutcome;
      this.lastOutcome = null;
      if (early) {
        if (early.frame) resolve(early.frame);
        else reject(early.error);
        return;
      }
      const me = { resolve, reject };
      this.frameWaiter = me;
      // A stalled transfer is abandoned by the reassembler's own clock.
      const tick = setInterval(() => {
        const now = Date.now();
        const res = this.reassembler.checkTimeout(now);
        if (res.kind === 'error') {
          this.sink.fault(res.error);
          if (this.acked.has(res.seq)) reject(res.error);
        } else if (!this.reassembler.inProgress && now - this.frameActivityAt > idleMs) {
          reject(new DriverError('SCANNER_TIMEOUT', `frame: nothing received for ${now - this.frameActivityAt} ms`));
        }
      }, Math.max(20, this.o.chunkTimeoutMs / 3));
      return () => {
        clearInterval(tick);
        if (this.frameWaiter === me) this.frameWaiter = null;
      };
    });
  }

  async capture(opts: CaptureOptions): Promise<Capture> {
    if (opts.want === 'feature') throw new DriverError('CONFIG_INVALID', 'an image scanner gives frames, not features');
    let last: DriverError | null = null;
    for (let attempt = 1; attempt <= this.o.captureAttempts; attempt++) {
      if (last) this.sink.retry('capture', last);
      try {
        return await this.captureOnce(opts);
      } catch (err) {
        // A restart, exhausted resends, or a device that no longer has the frame: take a new one.
        if (!isDriverError(err) || opts.signal?.aborted || !(err.code === 'DEVICE_RESTARTED' || err.code === 'SCANNER_UNRESPONSIVE' || err.code === 'DEVICE_REJECTED')) throw err;
        last = err;
      }
    }
    throw new DriverError('SCANNER_UNRESPONSIVE', `capture: no intact frame after ${this.o.captureAttempts} attempts (last: ${last?.code})`, { cause: last });
  }

  private async captureOnce(opts: CallOptions): Promise<Capture> {
    this.inCapture = true;
    this.acked.clear();
    this.latestAcked = null;
    this.lastOutcome = null;
    this.reassembler.reset();
    try {
      return await this.captureFrames(opts);
    } finally {
      this.inCapture = false;
    }
  }

  private async captureFrames(opts: CallOptions): Promise<Capture> {
    // The device waits up to snapTimeoutS for a palm, acks with the frame's seq, then streams.
    const snapWait = this.o.snapTimeoutS * 1000 + this.o.exchangeTimeoutMs;
    const frameWait = Math.max(2000, this.o.chunkTimeoutMs * 4);
    const pending = (ms: number) => this.waitFrame(ms, opts);
    await this.command('start capture', { type: 'start_capture', timeoutS: this.o.snapTimeoutS }, HOST.START_CAPTURE, opts, snapWait);
    let frame = pending(frameWait);
    for (let resend = 0; ; resend++) {
      const seq = this.latestAcked ?? 0;
      try {
        const f = await frame;
        return { kind: 'frame', width: f.width, height: f.height, pixels: f.pixels };
      } catch (err) {
        const wire = isDriverError(err) && (err.code.startsWith('PROTO_') || err.code === 'SCANNER_TIMEOUT');
        if (!wire || resend >= this.o.resendAttempts || opts.signal?.aborted) {
          if (wire) throw new DriverError('SCANNER_UNRESPONSIVE', `frame ${seq}: not received intact after ${resend} resend(s) (last: ${(err as DriverError).code})`, { cause: err });
          throw err;
        }
        if ((err as DriverError).code === 'SCANNER_TIMEOUT') this.sink.fault(err as DriverError);
        this.sink.retry('frame', err as DriverError);
        // Arm the waiter before asking, so the first resent report is not missed.
        this.reassembler.reset();
        this.lastOutcome = null;
        frame = pending(frameWait);
        frame.catch(() => undefined);
        await this.command('resend frame', { type: 'resend_frame', seq }, HOST.RESEND_FRAME, opts).catch((e: unknown) => {
          this.frameWaiter?.reject(e);
        });
      }
    }
  }

  async setIndicator(led: Indicator, opts: IndicatorOptions): Promise<void> {
    await this.command('indicator', { type: 'set_indicator', led, beepMs: opts.beepMs ?? 0 }, HOST.SET_INDICATOR, opts);
  }

  async setExposure(exposureUs: number, opts: CallOptions): Promise<void> {
    await this.command('exposure', { type: 'set_exposure', exposureUs }, HOST.SET_EXPOSURE, opts);
  }

  async reset(opts: CallOptions): Promise<void> {
    this.reassembler.reset();
    await this.command('reset', { type: 'reset' }, HOST.RESET, opts);
  }
}

