/**
 * The host side of the serial palm-module protocol: EF AA messages over a byte transport.
 *
 * The family's messages are sent in the family's layouts (serial-module/family.ts); PalmPay's extensions
 * (serial-module/messages.ts) are capabilities, each tried once at discovery and used only where the
 * module answered it. GET_VERSION is the first question. A module with nothing of ours still verifies
 * and enrols on itself, and uploads images the family's way where it has them.
 *
 * Retries: reads (version, status, images, features, user table, verify, reset, delete) are safe to
 * repeat and are retried on wire errors. ENROLL_SINGLE is never repeated: after a lost or unreadable
 * reply the host reconciles with the module's user table, then adopts the id or deletes the orphan.
 *
 * Over 400 lines because it is one method per module operation (about twenty, each its request, retry rule and reply
 * check) sharing one exchange slot and one capability table; the pure parts (codec, layouts, verdicts) live apart.
 */
import { DriverError, isDriverError, type DriverErrorCode } from '../errors.ts';
import { SerialDecoder, encodeMessage, type DecodeEvent, type SerialMessage } from '../serial-module/codec.ts';
import * as F from '../serial-module/family.ts';
import * as M from '../serial-module/messages.ts';
import { sleep, type CallOptions } from '../util/abort.ts';
import { crc32 } from '../util/crc32.ts';
import { FRAME_ENCODING, unpackFrame } from '../serial-module/frame-packing.ts';
import { decodeImageBytes } from '../util/image-file.ts';
import { PalmWaiters } from './palm-waiters.ts';
import { ExchangeSlot, type Matcher } from './exchange.ts';
import type { Capture, CaptureOptions, DriverSink, Indicator, IndicatorOptions, PalmEvent, ProtocolDriver, ScannerInfo } from './types.ts';
import type { ModuleVerdict } from './verdict.ts';

export interface SerialDriverOptions {
  /** Per-exchange answer timeout (ms); also the wait for an answer to a discovery probe. */
  exchangeTimeoutMs?: number;
  /** Attempts per safe exchange. */
  attempts?: number;
  /** Whole-capture attempts (after a CRC mismatch, an image that does not decode, or a module restart). */
  captureAttempts?: number;
  /** Bytes per image/feature chunk asked for (≤ the module's max; the family's UPLOADIMAGE caps at 4000). */
  chunkBytes?: number;
  /** How long the module waits for a palm in one of our snaps (s). */
  snapTimeoutS?: number;
  /** The family's SNAPIMAGE has no timeout field: how long we wait for its answer (ms). */
  familySnapTimeoutMs?: number;
  /** Status poll period while waiting for a palm, in case a palm note is lost. */
  pollMs?: number;
  /** Most image chunk requests in flight at once (used only up to the module's own PP_INFO window; 1 = one at a time). */
  window?: number;
  /** Ask a module whose PP_INFO has bit 4 for packed frames (frame-packing.ts; default true). false: always raw. */
  packedFrames?: boolean;
}

/** What discovery found. `info` is our PP_INFO answer (module id, image size, chunk cap), if any. */
export interface ModuleCapabilities {
  version: string;
  info: M.ModuleInfo | null;
  /** The family's SNAPIMAGE → GETSAVEDIMAGE → UPLOADIMAGE (→ IMAGE frames). */
  familyImages: boolean;
  /** Palm feature transfer (0xF9/0xFA, our payloads). */
  featureTransfer: boolean;
  /** Ours: snaps kept under a sequence number, uploaded in chunks with a CRC-32 over the image. */
  crcImages: boolean;
  indicator: boolean;
  status: boolean;
}

function checkCrc(name: string, seq: number, bytes: Uint8Array, crc: number): void {
  const got = crc32(bytes);
  if (got !== crc) throw new DriverError('PROTO_CRC', `${name} ${seq}: CRC-32 ${got.toString(16)} ≠ announced ${crc.toString(16)}`);
}

export function capabilityNames(c: ModuleCapabilities): string[] {
  const names: string[] = ['family'];
  if (c.familyImages) names.push('family_images');
  if (c.featureTransfer) names.push('feature_transfer');
  if (c.info) names.push('pp_info');
  if (c.crcImages) names.push('pp_crc_images');
  if (c.status) names.push('pp_status');
  if (c.indicator) names.push('pp_indicator');
  if (c.info?.canPackFrames) names.push('pp_packed_frames');
  return names;
}

export interface ModuleUser {
  userId: number;
  name: string;
  admin: boolean;
}

export interface EnrolRequest {
  /** A pseudonymous id (never a person's name): family.ts checkPseudonym. */
  name: string;
  admin?: boolean;
  /** How long the module waits for a palm (s). */
  timeoutS: number;
}

export interface EnrolResult {
  userId: number;
  /** The reply was lost or unreadable, and the id was found in the module's table afterwards. */
  reconciled: boolean;
  /** Extra users with this name created by the lost attempt, deleted again. */
  orphansDeleted: number[];
}

type Incoming = { kind: 'reply'; reply: M.Reply } | { kind: 'image'; bytes: Uint8Array };

interface ReqOptions<T> {
  attempts?: number;
  timeoutMs?: number;
  retryable?: (e: DriverError) => boolean;
  parse?: (p: Uint8Array) => T;
}

/** Answers that show a probed message exists even though this call failed. */
const UNDERSTOOD: Partial<Record<string, DriverErrorCode[]>> = {
  // No capture yet / no such user: the module knows the message. `invalid parameter` does not count: a
  // vendor's 0xFA with another payload is of no use to us, and a module that lacks it may answer so.
  feature: ['MODULE_UNKNOWN_USER'],
  images: ['MODULE_FILE_READ_FAILED', 'MODULE_INVALID_PARAM'],
};

export class SerialModuleDriver implements ProtocolDriver {
  readonly kind = 'serial-module' as const;
  private readonly decoder = new SerialDecoder();
  private readonly slot: ExchangeSlot<Incoming>;
  private readonly palmWaiters = new PalmWaiters();
  private readonly sink: DriverSink;
  private caps: ModuleCapabilities | null = null;
  /** The module advertised packed frames but refused a snap that asked for them: raw until discovery runs again. */
  private packedRefused = false;
  private readonly trailingSeen = new Set<string>();
  private retries = 0;
  private readonly o: Required<SerialDriverOptions>;

  constructor(
    send: (bytes: Uint8Array, opts: CallOptions) => Promise<void>,
    sink: DriverSink,
    opts: SerialDriverOptions = {},
  ) {
    this.o = { exchangeTimeoutMs: 400, attempts: 4, captureAttempts: 3, chunkBytes: M.DEFAULT_CHUNK, snapTimeoutS: 2, familySnapTimeoutMs: 8000, pollMs: 300, window: M.MAX_WINDOW, packedFrames: true, ...opts };
    this.sink = {
      ...sink,
      retry: (what, error) => {
        this.retries++;
        sink.retry(what, error);
      },
    };
    this.slot = new ExchangeSlot<Incoming>(this.sink, send);
    // A reply may be stuck behind a false or cut-off header: rescan before asking again.
    this.slot.onTimeout = () => this.handle(this.decoder.resync());
  }

  /** The capabilities found by the last discovery (null before the first). */
  get capabilities(): ModuleCapabilities | null {
    return this.caps;
  }

  onData(data: Uint8Array): void {
    this.handle(this.decoder.push(data));
  }

  private handle(events: DecodeEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'error') {
        this.sink.fault(ev.error);
        // A message was destroyed, most likely the answer we wait for: ask again now rather than
        // after the timeout (the family's IMAGE chunk with a bad parity is read again this way).
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
      if (m.mid === F.FAMILY.REPLY) {
        const reply = M.parseReply(m.data);
        if (!this.slot.offer({ kind: 'reply', reply })) this.sink.fault(new DriverError('PROTO_STALE_REPLY', `reply to 0x${reply.cmd.toString(16)} that nobody waits for`));
      } else if (m.mid === F.FAMILY.IMAGE) {
        if (!this.slot.offer({ kind: 'image', bytes: m.data })) this.sink.fault(new DriverError('PROTO_STALE_REPLY', `image data (${m.data.length} bytes) that nobody waits for`));
      } else if (m.mid === F.FAMILY.NOTE) {
        this.onNote(m.data);
      } else {
        this.sink.fault(new DriverError('PROTO_BAD_MESSAGE', `unknown message id 0x${m.mid.toString(16)} from the module`));
      }
    } catch (err) {
      if (isDriverError(err)) this.sink.fault(err);
      else throw err;
    }
  }

  private onNote(data: Uint8Array): void {
    const note = this.fields('note', F.parseFamilyNote(data));
    if (note.nid === 'ready') {
      // Power-up note: whatever the module was doing is gone.
      this.sink.deviceReady();
      this.slot.fail(new DriverError('DEVICE_RESTARTED', 'the module restarted during the exchange'));
    } else if (note.nid === 'state') {
      this.palm({ state: F.placementOfState(note.state.state), distanceMm: 0 });
    } else if (note.nid === 'other' && note.id === M.PP_NOTE_PALM) {
      this.palm(M.parsePalmNote(note.data));
    } else if (note.nid === 'unknown_error') {
      this.sink.fault(new DriverError('MODULE_FAILED', 'the module sent an unknown-error note'));
    }
  }

  private palm(e: PalmEvent): void {
    this.sink.palm(e);
    this.palmWaiters.notify(e);
  }

  /** Unwraps a parsed reply, counting (and, once per module and message, reporting) trailing bytes. */
  private fields<T>(what: string, p: F.Parsed<T>): T {
    if (p.extra > 0) {
      const first = !this.trailingSeen.has(what);
      this.trailingSeen.add(what);
      this.sink.trailingBytes(what, p.extra, first);
    }
    return p.value;
  }

  /**
   * Sends `cmd` and waits for its REPLY: a non-success result becomes the result code's typed error;
   * `parse` (run once per answer) refuses an invalid payload; a PROTO_STALE_REPLY from it means the
   * answer belongs to an earlier request and is passed over.
   */
  private async req<T = Uint8Array>(name: string, cmd: number, data: Uint8Array, opts: CallOptions, more: ReqOptions<T> = {}): Promise<T> {
    let parsed: { value: T } | null = null;
    const match: Matcher<Incoming> = (m) => {
      if (m.kind !== 'reply' || m.reply.cmd !== cmd) return false;
      if (m.reply.result !== F.R.SUCCESS) return F.resultError(name, m.reply.result);
      try {
        parsed = { value: more.parse ? more.parse(m.reply.payload) : (m.reply.payload as T) };
        return true;
      } catch (err) {
        if (isDriverError(err, 'PROTO_STALE_REPLY')) return false;
        return isDriverError(err) ? err : new DriverError('PROTO_BAD_MESSAGE', `${name}: ${String(err)}`);
      }
    };
    await this.slot.request(name, encodeMessage(cmd, data), {
      signal: opts.signal,
      timeoutMs: more.timeoutMs ?? this.o.exchangeTimeoutMs,
      attempts: more.attempts ?? this.o.attempts,
      match,
      retryable: more.retryable,
    });
    return (parsed as { value: T } | null)!.value;
  }

  // ----- discovery -----

  /**
   * Tries one of our messages once: its parsed answer, or null when the module does not have it
   * (rejected, invalid parameter, a short or foreign answer, or silence twice). Wire damage and silence are retried once.
   * Codes in `understood` mean the module knows the message though this call failed.
   */
  private async probe<T>(name: string, cmd: number, data: Uint8Array, opts: CallOptions, parse: (p: Uint8Array) => T, understood: DriverErrorCode[] = []): Promise<T | true | null> {
    try {
      // Silence is asked once more too: a busy host (or module) that misses one exchange timeout must not decide, for
      // the whole connection, that the module lacks the extension (it would then upload JPEGs the family's way).
      return await this.req(name, cmd, data, opts, { attempts: 2, parse, retryable: (e) => e.code.startsWith('PROTO_') || e.code === 'SCANNER_TIMEOUT' });
    } catch (err) {
      if (!isDriverError(err) || opts.signal?.aborted) throw err;
      if (understood.includes(err.code)) return true;
      if (err.code === 'DEVICE_RESTARTED' || err.code.startsWith('TRANSPORT_')) throw err;
      return null;
    }
  }

  /** GET_VERSION first, then each extension once. Cached until `refresh`. */
  async discover(opts: CallOptions, refresh = false): Promise<ModuleCapabilities> {
    if (this.caps && !refresh) return this.caps;
    const version = await this.req('GET_VERSION', F.FAMILY.GET_VERSION, new Uint8Array(0), opts, { parse: (p) => this.fields('GET_VERSION', F.parseVersion(p)) });
    this.trailingSeen.clear();
    const infoAnswer = await this.probe('PP_INFO', M.MID.PP_INFO, new Uint8Array(0), opts, (p) => M.parseModuleInfo(p));
    const info = infoAnswer === true ? null : infoAnswer;
    const feature = info?.canFeature ? true : (await this.probe('GET_PALM_FEATURE probe', M.MID.GET_PALM_FEATURE, M.encodeChunkRequest({ seq: M.LAST_SNAP_USER, offset: 0, length: 16 }), opts, (p) => M.parseChunkReply(p), UNDERSTOOD.feature)) !== null;
    const images = (await this.probe('GETSAVEDIMAGE probe', F.FAMILY.GETSAVEDIMAGE, F.encodeGetSavedImage(0), opts, (p) => F.parseImageSize(p).value, UNDERSTOOD.images)) !== null;
    this.packedRefused = false;
    this.caps = { version, info, familyImages: images, featureTransfer: feature, crcImages: !!info?.canImage, indicator: !!info?.canIndicator, status: !!info?.canStatus };
    return this.caps;
  }

  async info(opts: CallOptions): Promise<ScannerInfo> {
    const c = await this.discover(opts, true);
    const users = await this.userIds(opts).then(
      (ids) => ids.length,
      () => undefined,
    );
    const [model = c.version, serial = '', firmware = c.version] = c.info ? c.info.moduleId.split('/') : [c.version];
    const captures = c.crcImages || c.familyImages ? 'frame' : c.featureTransfer ? 'feature' : 'none';
    return { kind: this.kind, model, serial, firmware, width: c.info?.width ?? 0, height: c.info?.height ?? 0, captures, version: c.version, capabilities: capabilityNames(c), users };
  }

  private missing(what: string): DriverError {
    return new DriverError('CAPABILITY_MISSING', `${what}: this module does not have it (found: ${this.caps ? capabilityNames(this.caps).join(', ') : 'nothing yet'})`);
  }

  async waitForPalm(opts: CallOptions): Promise<PalmEvent> {
    const c = await this.discover(opts);
    if (!c.status) throw this.missing('palm presence outside a task (the module reports a palm only while it verifies, enrols or snaps)');
    while (true) {
      const status = await this.req('status', M.MID.PP_STATUS, new Uint8Array(0), opts, { parse: (p) => M.parseStatus(p) });
      if (status.palm === 'present') return { state: 'present', distanceMm: 0 };
      const e = await this.palmWaiters.nextPresent(this.o.pollMs, opts.signal);
      if (e) return e;
    }
  }

  /** The family's GETSTATUS. */
  async status(opts: CallOptions): Promise<F.ModuleStatusCode> {
    return this.req('GETSTATUS', F.FAMILY.GETSTATUS, new Uint8Array(0), opts, { parse: (p) => this.fields('GETSTATUS', F.parseStatus(p)) });
  }

  // ----- captures -----

  async capture(opts: CaptureOptions): Promise<Capture> {
    const c = await this.discover(opts);
    const want = opts.want ?? (c.crcImages || c.familyImages ? 'frame' : 'feature');
    if (want === 'frame' && !c.crcImages && !c.familyImages) throw this.missing('image upload');
    if (want === 'feature' && !(c.crcImages && c.info?.canFeature) && !(c.featureTransfer && c.familyImages)) throw this.missing('feature of a capture');
    let last: DriverError | null = null;
    for (let attempt = 1; attempt <= this.o.captureAttempts; attempt++) {
      if (last) this.sink.retry('capture', last);
      try {
        if (c.crcImages) return await this.crcCapture(want, c.info!, opts);
        if (want === 'frame') return await this.familyImage(opts);
        await this.familySnap(opts);
        return { kind: 'feature', bytes: await this.getFeature(M.LAST_SNAP_USER, opts) };
      } catch (err) {
        // Redo the capture only when the module's copy may have been lost (a restart forgets snaps and
        // saved images) or the bytes were bad.
        const redo = isDriverError(err) && (['PROTO_CRC', 'PROTO_FRAME_CORRUPT', 'MODULE_IMAGE_INVALID', 'DEVICE_RESTARTED', 'MODULE_INVALID_PARAM', 'MODULE_FILE_READ_FAILED'] as string[]).includes(err.code);
        if (!redo || opts.signal?.aborted) throw err;
        if (err.code !== 'DEVICE_RESTARTED') this.sink.fault(err);
        last = err;
      }
    }
    throw new DriverError('SCANNER_UNRESPONSIVE', `capture: no intact capture after ${this.o.captureAttempts} attempts (last: ${last?.code})`, { cause: last });
  }

  /** Ours: snap kept under a sequence number, chunks addressed by (seq, offset), CRC-32 over the whole. */
  private async crcCapture(want: 'frame' | 'feature', info: M.ModuleInfo, opts: CallOptions): Promise<Capture> {
    // Packed frames only from a module that offers them (PP_INFO bit 4), and only when a frame is wanted.
    const packed = want === 'frame' && this.o.packedFrames && info.canPackFrames === true && !this.packedRefused;
    const snap = await this.req('snap', M.MID.PP_SNAP, M.encodeSnapRequest(this.o.snapTimeoutS, packed ? FRAME_ENCODING.UP_DEFLATE : FRAME_ENCODING.RAW), opts, {
      timeoutMs: this.o.snapTimeoutS * 1000 + this.o.exchangeTimeoutMs,
      parse: (p) => M.parseSnapResult(p, packed),
    }).catch((err: unknown) => {
      // A module whose bit 4 was wrong refuses the encoding byte: the capture is redone (MODULE_INVALID_PARAM) raw.
      if (packed && isDriverError(err, 'MODULE_INVALID_PARAM')) this.packedRefused = true;
      return this.interruptIfAborted(err, opts);
    });
    if (want === 'frame') {
      const size = snap.width * snap.height;
      if (size === 0) throw new DriverError('PROTO_BAD_MESSAGE', 'snap: the module reports an empty image');
      if (snap.packing?.encoding === FRAME_ENCODING.UP_DEFLATE) {
        // wireBytes ≤ maxPackedBytes(size), checked by parseSnapResult; the CRC-32 is the unpacked pixels'.
        const wire = await this.download('packed image', M.MID.PP_UPLOAD, snap.seq, snap.packing.wireBytes, null, info, opts);
        const pixels = unpackFrame(wire, snap.width, snap.height);
        checkCrc('packed image', snap.seq, pixels, snap.imageCrc);
        return { kind: 'frame', width: snap.width, height: snap.height, pixels };
      }
      const pixels = await this.download('image', M.MID.PP_UPLOAD, snap.seq, size, snap.imageCrc, info, opts);
      return { kind: 'frame', width: snap.width, height: snap.height, pixels };
    }
    if (snap.featureBytes === 0) throw new DriverError('PROTO_BAD_MESSAGE', 'snap: the module reports an empty feature');
    return { kind: 'feature', bytes: await this.download('feature', M.MID.GET_PALM_FEATURE, M.LAST_SNAP_USER, snap.featureBytes, snap.featureCrc, info, opts) };
  }

  /** Interrupts the module's task if we gave up on it (best effort, no answer awaited), then rethrows. */
  private interruptIfAborted(err: unknown, opts: CallOptions): never {
    if (opts.signal?.aborted) this.slot.once('reset', encodeMessage(F.FAMILY.RESET), () => true, { timeoutMs: 50 }).catch(() => undefined);
    throw err;
  }

  /** Reads `total` bytes in chunks; every chunk reply must match seq and offset; CRC-32 over all (`crc` null: the
   * caller checks it over what the bytes unpack to). */
  private async download(name: string, cmd: number, seq: number, total: number, crc: number | null, info: M.ModuleInfo, opts: CallOptions): Promise<Uint8Array> {
    const buf = new Uint8Array(total); // total ≤ 2048×2048 (+ deflate's margin when packed; checked by parseSnapResult) or ≤ 65535 (feature)
    const step = Math.max(1, Math.min(this.o.chunkBytes, info.maxChunk, M.MAX_CHUNK));
    // The module's window is for its image chunks (PP_UPLOAD); features are read one request at a time.
    const window = cmd === M.MID.PP_UPLOAD ? Math.min(this.o.window, info.window ?? 1) : 1;
    if (window > 1) await this.downloadWindowed(name, cmd, seq, total, step, window, buf, opts);
    else for (let off = 0; off < total; ) {
      const length = Math.min(step, total - off);
      const at = off;
      const chunk = await this.req(`${name} chunk @${at}`, cmd, M.encodeChunkRequest({ seq, offset: at, length }), opts, {
        retryable: (e) => e.code !== 'DEVICE_RESTARTED',
        parse: (p) => {
          const c = M.parseChunkReply(p);
          if (c.seq !== seq || c.offset !== at) throw new DriverError('PROTO_STALE_REPLY', `${name} chunk: answer for ${c.seq}@${c.offset}, want ${seq}@${at}`);
          if (c.total !== total || c.bytes.length !== length) throw new DriverError('PROTO_BAD_MESSAGE', `${name} chunk @${at}: ${c.bytes.length} of ${c.total} bytes, want ${length} of ${total}`);
          return c;
        },
      });
      buf.set(chunk.bytes, at);
      off += length;
    }
    if (crc !== null) checkCrc(name, seq, buf, crc);
    return buf;
  }

  /**
   * The same chunks with up to `window` requests in flight (the module said it takes that many: PP_INFO's
   * max_outstanding). Each answer is placed by its (seq, offset), so answers may come late, twice or out of order;
   * a lost one is asked again (ExchangeSlot.windowed). The caller checks the CRC-32 over the whole.
   */
  private downloadWindowed(name: string, cmd: number, seq: number, total: number, step: number, window: number, buf: Uint8Array, opts: CallOptions): Promise<void> {
    const count = Math.ceil(total / step);
    const lengthOf = (item: number) => Math.min(step, total - item * step);
    return this.slot.windowed(`${name} chunks`, {
      signal: opts.signal,
      timeoutMs: this.o.exchangeTimeoutMs,
      attempts: this.o.attempts,
      count,
      window,
      retryable: (e) => e.code !== 'DEVICE_RESTARTED',
      encode: (item) => encodeMessage(cmd, M.encodeChunkRequest({ seq, offset: item * step, length: lengthOf(item) })),
      match: (m) => {
        if (m.kind !== 'reply' || m.reply.cmd !== cmd) return false;
        if (m.reply.result !== F.R.SUCCESS) return F.resultError(name, m.reply.result);
        let c: ReturnType<typeof M.parseChunkReply>;
        try {
          c = M.parseChunkReply(m.reply.payload);
        } catch (err) {
          return isDriverError(err) ? err : new DriverError('PROTO_BAD_MESSAGE', `${name} chunk: ${String(err)}`);
        }
        const item = c.offset / step;
        if (c.seq !== seq || !Number.isInteger(item) || item >= count) return false; // another capture's, or not asked for
        if (c.total !== total || c.bytes.length !== lengthOf(item)) return new DriverError('PROTO_BAD_MESSAGE', `${name} chunk @${c.offset}: ${c.bytes.length} of ${c.total} bytes, want ${lengthOf(item)} of ${total}`);
        return { item };
      },
      accept: (item, m) => {
        if (m.kind === 'reply') buf.set(M.parseChunkReply(m.reply.payload).bytes, item * step);
      },
    });
  }

  /** The family's SNAPIMAGE(1 image, into slot 0). */
  private async familySnap(opts: CallOptions): Promise<void> {
    await this.req('SNAPIMAGE', F.FAMILY.SNAPIMAGE, F.encodeSnapImage(1, 0), opts, { timeoutMs: this.o.familySnapTimeoutMs, attempts: 2 }).catch((err: unknown) => this.interruptIfAborted(err, opts));
  }

  /**
   * The family's way: SNAPIMAGE → GETSAVEDIMAGE(0) → size → UPLOADIMAGE(offset, ≤ 4000) → IMAGE frames.
   * No CRC: a chunk whose frame fails parity is read again; after a chunk needed a retry, late answers
   * to the earlier request are drained (an IMAGE frame carries no offset); the whole file must be the
   * announced size and decode as an image.
   */
  private async familyImage(opts: CallOptions): Promise<Capture> {
    await this.familySnap(opts);
    const size = await this.req('GETSAVEDIMAGE', F.FAMILY.GETSAVEDIMAGE, F.encodeGetSavedImage(0), opts, { parse: (p) => this.fields('GETSAVEDIMAGE', F.parseImageSize(p)) });
    const file = new Uint8Array(size); // size capped by parseImageSize
    const step = Math.min(this.o.chunkBytes, F.MAX_UPLOAD_CHUNK);
    let previous: Uint8Array | null = null;
    for (let off = 0; off < size; ) {
      const length = Math.min(step, size - off);
      const at = off;
      const retriesBefore = this.retries;
      let passedOver = false;
      const bytes = await this.slot.request(`UPLOADIMAGE @${at}`, encodeMessage(F.FAMILY.UPLOADIMAGE, F.encodeUploadImage(at, length)), {
        signal: opts.signal,
        timeoutMs: this.o.exchangeTimeoutMs,
        attempts: this.o.attempts,
        retryable: (e) => e.code !== 'DEVICE_RESTARTED',
        match: (m) => {
          if (m.kind === 'reply') return m.reply.cmd === F.FAMILY.UPLOADIMAGE && m.reply.result !== F.R.SUCCESS ? F.resultError('UPLOADIMAGE', m.reply.result) : false;
          // A second copy of the previous chunk (a duplicated or late frame) is not this one; passed over
          // once only, as an image may really hold two equal chunks (the re-read then brings it again).
          if (!passedOver && previous && Buffer.compare(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length), Buffer.from(previous.buffer, previous.byteOffset, previous.length)) === 0) {
            passedOver = true;
            return false;
          }
          if (m.bytes.length !== length) return new DriverError('PROTO_BAD_MESSAGE', `UPLOADIMAGE @${at}: ${m.bytes.length} bytes, asked for ${length}`);
          return true;
        },
      });
      if (bytes.kind !== 'image') throw new DriverError('PROTO_BAD_MESSAGE', 'UPLOADIMAGE: answered without image data');
      file.set(bytes.bytes, at);
      previous = bytes.bytes;
      off += length;
      if (this.retries > retriesBefore) await sleep(this.o.exchangeTimeoutMs, opts.signal); // drain late duplicates
    }
    const img = decodeImageBytes(file, `uploaded image (${size} bytes)`);
    return { kind: 'frame', width: img.width, height: img.height, pixels: img.pixels };
  }

  async setIndicator(led: Indicator, opts: IndicatorOptions): Promise<void> {
    const c = await this.discover(opts);
    if (!c.indicator) return; // cosmetic: a module without our indicator keeps its own lights
    await this.req('indicator', M.MID.PP_INDICATOR, M.encodeIndicator({ led, beepMs: opts.beepMs ?? 0 }), opts);
  }

  async reset(opts: CallOptions): Promise<void> {
    await this.req('RESET', F.FAMILY.RESET, new Uint8Array(0), opts);
  }

  // ----- the module's user table -----

  async userIds(opts: CallOptions): Promise<number[]> {
    return this.req('GET_ALL_USERID', F.FAMILY.GET_ALL_USERID, new Uint8Array(0), opts, { parse: (p) => this.fields('GET_ALL_USERID', F.parseAllUserIds(p)) });
  }

  async userInfo(userId: number, opts: CallOptions): Promise<ModuleUser> {
    const u = await this.req('GETUSERINFO', F.FAMILY.GETUSERINFO, F.encodeUserId(userId), opts, { parse: (p) => this.fields('GETUSERINFO', F.parseUserInfo(p)) });
    if (u.userId !== userId) throw new DriverError('PROTO_BAD_MESSAGE', `GETUSERINFO: asked for user ${userId}, the module answered for ${u.userId}`);
    return u;
  }

  async users(opts: CallOptions): Promise<ModuleUser[]> {
    const out: ModuleUser[] = [];
    for (const id of await this.userIds(opts)) out.push(await this.userInfo(id, opts));
    return out;
  }

  /** VERIFY on the module; with feature transfer, the capture's feature is read as evidence (verdict.ts). */
  async verify(timeoutS: number, opts: CallOptions): Promise<ModuleVerdict> {
    const c = await this.discover(opts);
    const v = await this.req('VERIFY', F.FAMILY.VERIFY, F.encodeVerify({ powerDownAfter: false, timeoutS }), opts, {
      timeoutMs: timeoutS * 1000 + this.o.exchangeTimeoutMs,
      parse: (p) => this.fields('VERIFY', F.parseVerifyReply(p)),
    }).catch((err: unknown) => this.interruptIfAborted(err, opts));
    if (!c.featureTransfer) return { ...v, evidence: null, verdictUnconfirmed: true, why: 'the module offers no feature of its capture: the host cannot check this verdict' };
    try {
      const feature = await this.getFeature(M.LAST_SNAP_USER, opts);
      return { ...v, evidence: { kind: 'capture_feature', feature }, verdictUnconfirmed: true, why: 'the capture feature must be matched on the host' };
    } catch (err) {
      if (!isDriverError(err) || opts.signal?.aborted) throw err;
      return { ...v, evidence: null, verdictUnconfirmed: true, why: `the capture feature could not be read (${err.code})` };
    }
  }

  /**
   * ENROLL_SINGLE, sent once. If its reply is lost or unreadable, the module is reset (ending any task)
   * and its table compared with the one read before: a new user under this pseudonym is adopted (extra
   * ones deleted); none means nothing was enrolled. If the caller gave up, any such user is deleted.
   */
  async enrol(req: EnrolRequest, opts: CallOptions): Promise<EnrolResult> {
    F.checkPseudonym(req.name);
    const before = new Set(await this.userIds(opts));
    try {
      const r = await this.req('ENROLL_SINGLE', F.FAMILY.ENROLL_SINGLE, F.encodeEnroll({ admin: !!req.admin, name: req.name, direction: F.DIRECTION_STRAIGHT, timeoutS: req.timeoutS }), opts, {
        attempts: 1,
        timeoutMs: req.timeoutS * 1000 + this.o.exchangeTimeoutMs,
        parse: (p) => this.fields('ENROLL_SINGLE', F.parseEnrollReply(p)),
      });
      return { userId: r.userId, reconciled: false, orphansDeleted: [] };
    } catch (err) {
      // The module answered (a result code): it says what happened; nothing to reconcile.
      if (!isDriverError(err) || err.code.startsWith('MODULE_') || err.code === 'NO_PALM') throw err;
      return this.reconcileEnrol(req.name, before, err, opts);
    }
  }

  private async reconcileEnrol(name: string, before: Set<number>, cause: DriverError, opts: CallOptions): Promise<EnrolResult> {
    const gaveUp = !!opts.signal?.aborted;
    // After the caller gave up, clean up within a short deadline of our own.
    const o: CallOptions = gaveUp ? { signal: AbortSignal.timeout(5000) } : opts;
    try {
      await this.req('RESET', F.FAMILY.RESET, new Uint8Array(0), o);
      const fresh = (await this.userIds(o)).filter((id) => !before.has(id));
      const mine: number[] = [];
      for (const id of fresh) if ((await this.userInfo(id, o)).name === name) mine.push(id);
      const keep: number | undefined = gaveUp ? undefined : mine[0];
      const extra = gaveUp ? mine : mine.slice(1);
      for (const id of extra) await this.req('DELUSER', F.FAMILY.DELUSER, F.encodeUserId(id), o);
      if (keep === undefined) {
        if (gaveUp) throw cause;
        throw new DriverError(cause.code, `enrol: ${cause.message}; the module's table shows no new user '${name}': nothing was enrolled`, { cause });
      }
      return { userId: keep, reconciled: true, orphansDeleted: extra };
    } catch (err) {
      if (err === cause || (isDriverError(err) && err.cause === cause)) throw err;
      throw new DriverError('ENROL_UNCERTAIN', `enrol '${name}': the reply was lost (${cause.code}) and the module's table could not be checked (${isDriverError(err) ? err.code : String(err)}); run \`palmpay scanner users\` before enrolling again`, { cause: err });
    }
  }

  /** ENROLL_ITG (integrated enrolment; enroll_type 1 = single frame, as the family's face modules use it). */
  async enrolIntegrated(req: EnrolRequest & { enrollType?: number; allowDuplicate?: boolean }, opts: CallOptions): Promise<number> {
    const r = await this.req('ENROLL_ITG', F.FAMILY.ENROLL_ITG, F.encodeEnrollItg({ admin: !!req.admin, name: req.name, enrollType: req.enrollType ?? 1, direction: F.DIRECTION_STRAIGHT, enableDuplicate: !!req.allowDuplicate, timeoutS: req.timeoutS }), opts, {
      attempts: 1,
      timeoutMs: req.timeoutS * 1000 + this.o.exchangeTimeoutMs,
      parse: (p) => this.fields('ENROLL_ITG', F.parseEnrollReply(p)),
    });
    return r.userId;
  }

  async deleteUser(userId: number, opts: CallOptions): Promise<void> {
    await this.req('DELUSER', F.FAMILY.DELUSER, F.encodeUserId(userId), opts);
  }

  async deleteAll(opts: CallOptions): Promise<void> {
    await this.req('DELALL', F.FAMILY.DELALL, new Uint8Array(0), opts);
  }

  // ----- palm feature transfer (palm variants) -----

  async getFeature(userId: number, opts: CallOptions): Promise<Uint8Array> {
    const c = await this.discover(opts);
    if (!c.featureTransfer) throw this.missing('feature transfer');
    const chunk = Math.min(this.o.chunkBytes, c.info?.maxChunk ?? M.MAX_CHUNK);
    // The first chunk tells the total (capped before allocating). Stored features carry no CRC:
    // each chunk is guarded by the message parity only.
    const head = await this.req('feature', M.MID.GET_PALM_FEATURE, M.encodeChunkRequest({ seq: userId, offset: 0, length: chunk }), opts, {
      parse: (p) => {
        const r = M.parseChunkReply(p);
        if (r.offset !== 0) throw new DriverError('PROTO_STALE_REPLY', 'feature: answer for another offset');
        return r;
      },
    });
    if (head.total > M.MAX_FEATURE_BYTES) throw new DriverError('PROTO_LENGTH', `feature of ${head.total} bytes`);
    const buf = new Uint8Array(head.total);
    buf.set(head.bytes, 0);
    for (let off = head.bytes.length; off < head.total; ) {
      const at = off;
      const length = Math.min(chunk, head.total - at);
      const r = await this.req('feature chunk', M.MID.GET_PALM_FEATURE, M.encodeChunkRequest({ seq: userId, offset: at, length }), opts, {
        parse: (p) => {
          const c = M.parseChunkReply(p);
          if (c.offset !== at) throw new DriverError('PROTO_STALE_REPLY', 'feature chunk: answer for another offset');
          if (c.total !== head.total || c.bytes.length !== length) throw new DriverError('PROTO_BAD_MESSAGE', 'feature chunk does not fit the transfer');
          return c;
        },
      });
      buf.set(r.bytes, at);
      off += length;
    }
    return buf;
  }

  /** ENROLL_PALM_FEATURE: `bytes` stored as user `userId` under the pseudonym `name` (checked before anything is sent). */
  async putFeature(userId: number, name: string, bytes: Uint8Array, opts: CallOptions): Promise<void> {
    F.checkPseudonym(name);
    if (!Number.isInteger(userId) || userId < 1 || userId >= M.LAST_SNAP_USER) throw new DriverError('CONFIG_INVALID', `module user id ${userId} is out of range 1..65534`);
    if (bytes.length === 0 || bytes.length > M.MAX_FEATURE_BYTES) throw new DriverError('CONFIG_INVALID', `feature of ${bytes.length} bytes`);
    const c = await this.discover(opts);
    if (!c.featureTransfer) throw this.missing('feature transfer');
    const step = Math.min(this.o.chunkBytes, c.info?.maxChunk ?? M.MAX_CHUNK);
    // Chunks are offset-addressed, so re-sending one is harmless.
    for (let off = 0; off < bytes.length; off += step) {
      await this.req('put feature', M.MID.ENROLL_PALM_FEATURE, M.encodePutFeature({ userId, name, total: bytes.length, offset: off, bytes: bytes.subarray(off, off + step) }), opts);
    }
  }
}
