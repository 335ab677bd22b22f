/**
 * The host side of the serial palm-module protocol: EF AA messages over a byte transport.
 * Retries: reads (module id, status, image/feature chunks, verify, indicator, reset, delete) are safe
 * to repeat and are retried on wire errors; enrolment is not (a repeat could enrol twice).
 * A capture is snap + chunked upload + CRC-32 check; a CRC mismatch or a module restart redoes it.
 */
import { DriverError, isDriverError } from '../errors.ts';
import { SerialDecoder, encodeMessage, type DecodeEvent, type SerialMessage } from '../serial-module/codec.ts';
import * as M from '../serial-module/messages.ts';
import type { CallOptions } from '../util/abort.ts';
import { crc32 } from '../util/crc32.ts';
import { PalmWaiters } from './palm-waiters.ts';
import { ExchangeSlot, type Matcher } from './exchange.ts';
import type { Capture, CaptureOptions, DriverSink, Indicator, IndicatorOptions, PalmEvent, ProtocolDriver, ScannerInfo } from './types.ts';

export interface SerialDriverOptions {
  /** Per-exchange answer timeout (ms). */
  exchangeTimeoutMs?: number;
  /** Attempts per safe exchange. */
  attempts?: number;
  /** Whole-capture attempts (after a CRC mismatch or a module restart). */
  captureAttempts?: number;
  /** Bytes per image/feature chunk asked for (≤ the module's max). */
  chunkBytes?: number;
  /** How long the module waits for a palm in one snap (s). */
  snapTimeoutS?: number;
  /** Status poll period while waiting for a palm, in case a palm note is lost. */
  pollMs?: number;
}

type Reply = M.Reply;

export class SerialModuleDriver implements ProtocolDriver {
  readonly kind = 'serial-module' as const;
  private readonly decoder = new SerialDecoder();
  private readonly slot: ExchangeSlot<Reply>;
  private readonly palmWaiters = new PalmWaiters();
  private module: M.ModuleInfo | null = null;
  private readonly o: Required<SerialDriverOptions>;

  constructor(
    send: (bytes: Uint8Array, opts: CallOptions) => Promise<void>,
    private readonly sink: DriverSink,
    opts: SerialDriverOptions = {},
  ) {
    this.o = { exchangeTimeoutMs: 400, attempts: 4, captureAttempts: 3, chunkBytes: M.DEFAULT_CHUNK, snapTimeoutS: 2, pollMs: 300, ...opts };
    this.slot = new ExchangeSlot<Reply>(sink, send);
    // A reply may be stuck behind a false or cut-off header: rescan before asking again.
    this.slot.onTimeout = () => this.handle(this.decoder.resync());
  }

  onData(data: Uint8Array): void {
    this.handle(this.decoder.push(data));
  }

  private handle(events: DecodeEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'error') {
        this.sink.fault(ev.error);
        // A message was destroyed, most likely the answer we wait for: ask again now rather than
        // after the timeout. Safe: requests are matched by command (and seq/offset for chunks).
        if (ev.error.code === 'PROTO_PARITY' || ev.error.code === 'PROTO_LENGTH') this.slot.fail(ev.error);
      } else this.onMessage(ev.message);
    }
  }

  onDisconnected(err: DriverError | null): void {
    this.decoder.reset();
    this.slot.fail(err ?? new DriverError('TRANSPORT_DISCONNECTED', 'serial link closed'));
  }

  private onMessage(m: SerialMessage): void {
    try {
      if (m.mid === M.MID.REPLY) {
        const reply = M.parseReply(m.data);
        if (!this.slot.offer(reply)) this.sink.fault(new DriverError('PROTO_STALE_REPLY', `reply to 0x${reply.cmd.toString(16)} that nobody waits for`));
      } else if (m.mid === M.MID.NOTE) {
        const note = M.parseNote(m.data);
        if (note.nid === 'ready') {
          // Power-up note: whatever the module was doing is gone.
          this.module = null;
          this.sink.deviceReady();
          this.slot.fail(new DriverError('DEVICE_RESTARTED', 'the module restarted during the exchange'));
        } else if (note.nid === 'palm_state') {
          const e = { state: note.state, distanceMm: note.distanceMm };
          this.sink.palm(e);
          this.palmWaiters.notify(e);
        }
      } else {
        this.sink.fault(new DriverError('PROTO_BAD_MESSAGE', `unknown message id 0x${m.mid.toString(16)} from the module`));
      }
    } catch (err) {
      if (isDriverError(err)) this.sink.fault(err);
      else throw err;
    }
  }

  /** Matches the reply to `cmd`; a non-success result becomes a typed rejection. */
  private answer(cmd: number, name: string, check?: (payload: Uint8Array) => boolean): Matcher<Reply> {
    return (r) => {
      if (r.cmd !== cmd) return false;
      if (r.result !== M.RESULT.SUCCESS) return rejection(name, r.result);
      if (!check) return true;
      try {
        return check(r.payload);
      } catch (err) {
        return isDriverError(err) ? err : new DriverError('PROTO_BAD_MESSAGE', `${name}: ${String(err)}`);
      }
    };
  }

  private req(name: string, cmd: number, data: Uint8Array, opts: CallOptions, more: { attempts?: number; timeoutMs?: number; check?: (p: Uint8Array) => boolean; retryable?: (e: DriverError) => boolean } = {}): Promise<Reply> {
    return this.slot.request(name, encodeMessage(cmd, data), {
      signal: opts.signal,
      timeoutMs: more.timeoutMs ?? this.o.exchangeTimeoutMs,
      attempts: more.attempts ?? this.o.attempts,
      match: this.answer(cmd, name, more.check),
      retryable: more.retryable,
    });
  }

  private async moduleInfo(opts: CallOptions): Promise<M.ModuleInfo> {
    if (this.module) return this.module;
    const r = await this.req('module id', M.MID.MODULE_ID, new Uint8Array(0), opts, { check: (p) => (M.parseModuleInfo(p), true) });
    this.module = M.parseModuleInfo(r.payload);
    return this.module;
  }

  async info(opts: CallOptions): Promise<ScannerInfo> {
    this.module = null;
    const m = await this.moduleInfo(opts);
    const [model = m.moduleId, serial = '', firmware = ''] = m.moduleId.split('/');
    return { kind: this.kind, model, serial, firmware, width: m.width, height: m.height, captures: m.canImage ? 'frame' : 'feature' };
  }

  async waitForPalm(opts: CallOptions): Promise<PalmEvent> {
    while (true) {
      const r = await this.req('status', M.MID.GET_STATUS, new Uint8Array(0), opts, { check: (p) => (M.parseStatus(p), true) });
      const status = M.parseStatus(r.payload);
      if (status.palm === 'present') return { state: 'present', distanceMm: 0 };
      const e = await this.palmWaiters.nextPresent(this.o.pollMs, opts.signal);
      if (e) return e;
    }
  }

  async capture(opts: CaptureOptions): Promise<Capture> {
    const info = await this.moduleInfo(opts);
    const want = opts.want ?? (info.canImage ? 'frame' : 'feature');
    if (want === 'frame' && !info.canImage) throw new DriverError('CONFIG_INVALID', 'this module does not upload images');
    if (want === 'feature' && !info.canFeature) throw new DriverError('CONFIG_INVALID', 'this module does not give features');
    let last: DriverError | null = null;
    for (let attempt = 1; attempt <= this.o.captureAttempts; attempt++) {
      if (last) this.sink.retry('capture', last);
      try {
        const snap = await this.snap(opts);
        if (want === 'frame' && snap.width * snap.height === 0) throw new DriverError('PROTO_BAD_MESSAGE', 'snap: the module reports an empty image');
        if (want === 'feature' && snap.featureBytes === 0) throw new DriverError('PROTO_BAD_MESSAGE', 'snap: the module reports an empty feature');
        if (want === 'frame') {
          const pixels = await this.download('image', M.MID.UPLOAD_IMAGE, snap.seq, snap.width * snap.height, snap.imageCrc, info, opts);
          return { kind: 'frame', width: snap.width, height: snap.height, pixels };
        }
        const bytes = await this.download('feature', M.MID.GET_PALM_FEATURE, M.LAST_SNAP_USER, snap.featureBytes, snap.featureCrc, info, opts);
        return { kind: 'feature', bytes };
      } catch (err) {
        // Redo the capture only when the module's copy may have been lost or the bytes were bad.
        const redo = isDriverError(err) && (err.code === 'PROTO_CRC' || err.code === 'DEVICE_RESTARTED' || (err.code === 'DEVICE_REJECTED' && !!err.message.includes('invalid_param')));
        if (!redo || opts.signal?.aborted) throw err;
        if (err.code === 'PROTO_CRC' || err.code === 'DEVICE_REJECTED') this.sink.fault(err);
        last = err;
      }
    }
    throw new DriverError('SCANNER_UNRESPONSIVE', `capture: no intact capture after ${this.o.captureAttempts} attempts (last: ${last?.code})`, { cause: last });
  }

  private async snap(opts: CallOptions): Promise<M.SnapResult> {
    const r = await this.req('snap', M.MID.SNAP_IMAGE, M.encodeTimeoutRequest(this.o.snapTimeoutS), opts, {
      timeoutMs: this.o.snapTimeoutS * 1000 + this.o.exchangeTimeoutMs,
      check: (p) => (M.parseSnapResult(p), true),
    }).catch((err: unknown) => {
      // Interrupt the module's task if we gave up on it (best effort, no answer awaited).
      if (opts.signal?.aborted) this.slot.once('reset', encodeMessage(M.MID.RESET), () => true, { timeoutMs: 50 }).catch(() => undefined);
      throw err;
    });
    return M.parseSnapResult(r.payload);
  }

  /** Reads `total` bytes in chunks; every chunk reply must match seq and offset; CRC-32 over all. */
  private async download(name: string, cmd: number, seq: number, total: number, crc: number, info: M.ModuleInfo, opts: CallOptions): Promise<Uint8Array> {
    const buf = new Uint8Array(total); // total ≤ 2048×2048 (checked by parseSnapResult) or ≤ 65535 (feature)
    const step = Math.max(1, Math.min(this.o.chunkBytes, info.maxChunk, M.MAX_CHUNK));
    for (let off = 0; off < total; ) {
      const length = Math.min(step, total - off);
      const at = off;
      const r = await this.req(`${name} chunk @${at}`, cmd, M.encodeChunkRequest({ seq, offset: at, length }), opts, {
        retryable: (e) => e.code !== 'DEVICE_RESTARTED',
        check: (p) => {
          const c = M.parseChunkReply(p);
          if (c.seq !== seq || c.offset !== at) return false; // a late answer to an earlier request
          if (c.total !== total || c.bytes.length !== length) throw new DriverError('PROTO_BAD_MESSAGE', `${name} chunk @${at}: ${c.bytes.length} of ${c.total} bytes, want ${length} of ${total}`);
          return true;
        },
      });
      buf.set(M.parseChunkReply(r.payload).bytes, at);
      off += length;
    }
    const got = crc32(buf);
    if (got !== crc) throw new DriverError('PROTO_CRC', `${name} ${seq}: CRC-32 ${got.toString(16)} ≠ announced ${crc.toString(16)}`);
    return buf;
  }

  async setIndicator(led: Indicator, opts: IndicatorOptions): Promise<void> {
    await this.req('indicator', M.MID.SET_INDICATOR, M.encodeIndicator({ led, beepMs: opts.beepMs ?? 0 }), opts);
  }

  async reset(opts: CallOptions): Promise<void> {
    await this.req('reset', M.MID.RESET, new Uint8Array(0), opts);
    this.module = null;
  }

  // ----- module-side user store (serial modules only) -----

  async verify(timeoutS: number, opts: CallOptions): Promise<M.VerifyResult> {
    const r = await this.req('verify', M.MID.VERIFY, M.encodeTimeoutRequest(timeoutS), opts, {
      timeoutMs: timeoutS * 1000 + this.o.exchangeTimeoutMs,
      check: (p) => (M.parseVerifyResult(p), true),
    });
    return M.parseVerifyResult(r.payload);
  }

  async enrollSingle(req: M.EnrollRequest, opts: CallOptions): Promise<number> {
    const r = await this.req('enrol', M.MID.ENROLL_SINGLE, M.encodeEnrollRequest(req), opts, {
      // Not idempotent: retried only if the module restarted (its task, and the enrolment, were lost).
      attempts: 2,
      retryable: (e) => e.code === 'DEVICE_RESTARTED',
      timeoutMs: req.timeoutS * 1000 + this.o.exchangeTimeoutMs,
      check: (p) => (M.parseUserId(p), true),
    });
    return M.parseUserId(r.payload);
  }

  async deleteUser(userId: number, opts: CallOptions): Promise<void> {
    await this.req('delete user', M.MID.DELUSER, M.encodeUserId(userId), opts);
  }

  async deleteAll(opts: CallOptions): Promise<void> {
    await this.req('delete all', M.MID.DELALL, new Uint8Array(0), opts);
  }

  async getFeature(userId: number, opts: CallOptions): Promise<Uint8Array> {
    const info = await this.moduleInfo(opts);
    // The first chunk tells the total (capped before allocating). Stored features carry no CRC:
    // each chunk is guarded by the message parity only.
    const first = await this.req('feature', M.MID.GET_PALM_FEATURE, M.encodeChunkRequest({ seq: userId, offset: 0, length: Math.min(this.o.chunkBytes, info.maxChunk) }), opts, {
      check: (p) => M.parseChunkReply(p).offset === 0,
    });
    const head = M.parseChunkReply(first.payload);
    if (head.total > M.MAX_FEATURE_BYTES) throw new DriverError('PROTO_LENGTH', `feature of ${head.total} bytes`);
    const buf = new Uint8Array(head.total);
    buf.set(head.bytes, 0);
    for (let off = head.bytes.length; off < head.total; ) {
      const at = off;
      const length = Math.min(this.o.chunkBytes, info.maxChunk, head.total - at);
      const r = await this.req('feature chunk', M.MID.GET_PALM_FEATURE, M.encodeChunkRequest({ seq: userId, offset: at, length }), opts, {
        check: (p) => {
          const c = M.parseChunkReply(p);
          if (c.offset !== at) return false;
          if (c.total !== head.total || c.bytes.length !== length) throw new DriverError('PROTO_BAD_MESSAGE', 'feature chunk does not fit the transfer');
          return true;
        },
      });
      buf.set(M.parseChunkReply(r.payload).bytes, at);
      off += length;
    }
    return buf;
  }

  async putFeature(userId: number, bytes: Uint8Array, opts: CallOptions): Promise<void> {
    if (bytes.length === 0 || bytes.length > M.MAX_FEATURE_BYTES) throw new DriverError('CONFIG_INVALID', `feature of ${bytes.length} bytes`);
    const info = await this.moduleInfo(opts);
    const step = Math.min(this.o.chunkBytes, info.maxChunk);
    // Chunks are offset-addressed, so re-sending one is harmless.
    for (let off = 0; off < bytes.length; off += step) {
      await this.req('put feature', M.MID.ENROLL_PALM_FEATURE, M.encodePutFeature({ userId, total: bytes.length, offset: off, bytes: bytes.subarray(off, off + step) }), opts);
    }
  }
}

function rejection(name: string, result: number): DriverError {
  const why = M.RESULT_NAMES[result] ?? `result ${result}`;
  if (result === M.RESULT.TIMEOUT) return new DriverError('NO_PALM', `${name}: the module saw no palm in time`);
  return new DriverError('DEVICE_REJECTED', `${name}: the module answered ${why}`);
}

