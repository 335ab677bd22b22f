/**
 * The device side of the serial palm-module protocol, for tests, the bench and `palmpay sim serial`, in
 * three dialects (drivers/PROTOCOL.md):
 *  - 'family':   only the EF AA family's published messages (a module bought off the shelf);
 *  - 'palm':     the family plus palm feature transfer (0xF9/0xFA);
 *  - 'extended': the family plus every PalmPay extension (info, status, indicator, CRC-checked snaps).
 * One task at a time like the real module; RESET interrupts a task waiting for a palm. Messages a dialect
 * does not have are answered `rejected`, as the family's modules do. Faults are applied to each answer.
 */
import { DriverError, isDriverError } from '../errors.ts';
import { SerialDecoder, encodeMessage } from '../serial-module/codec.ts';
import * as F from '../serial-module/family.ts';
import * as M from '../serial-module/messages.ts';
import { FRAME_ENCODING, packFrame } from '../serial-module/frame-packing.ts';
import type { Transport } from '../transport/transport.ts';
import { sleep } from '../util/abort.ts';
import { crc32 } from '../util/crc32.ts';
import { encodeGreyJpeg } from '../util/image-file.ts';
import { SIM_FORMAT } from '../serial-module/feature-families.ts';
import { serveTransport, simFeature, waitPalm } from './device-common.ts';
import { FaultInjector, SERIAL_FAULTS, type FaultPlan } from './faults.ts';
import { atDistance, type ImageSource } from './sources.ts';
import type { Stage } from './stage.ts';
import type { GreyImage } from './synthetic-palm.ts';

export const SERIAL_DIALECTS = ['family', 'palm', 'extended'] as const;
export type SerialDialect = (typeof SERIAL_DIALECTS)[number];

export interface SimSerialOptions {
  stage: Stage;
  source: ImageSource;
  width: number;
  height: number;
  /** Default 'extended' (every PalmPay extension). */
  dialect?: SerialDialect;
  model?: string;
  serial?: string;
  firmware?: string;
  maxChunk?: number;
  /** Chunk requests it takes in flight (PP_INFO's max_outstanding; default 8; 1 = an older module, one at a time). */
  window?: number;
  /** PP_INFO bit 4: packs a snap's frame (frame-packing.ts) when the host asks for it (default true; false = a module before it). */
  packFrames?: boolean;
  canImage?: boolean;
  /**
   * false: a module that gives no images at all (neither the family's SNAPIMAGE/GETSAVEDIMAGE/UPLOADIMAGE nor
   * PP_SNAP/PP_UPLOAD; answered `rejected`), only features and its own verdicts: one that matches on its own.
   */
  images?: boolean;
  /** Users the table holds (default 255, the family's GET_ALL_USERID maximum); beyond it enrolment answers `table full` (9). */
  maxUsers?: number;
  faults?: FaultPlan;
}

interface Snap {
  seq: number;
  /** What PP_UPLOAD serves: the pixels, or the packed frame when the host asked for it. */
  wire: Uint8Array;
  feature: Uint8Array;
}

/** How long the family's SNAPIMAGE waits for a palm before it photographs the empty glass. */
const FAMILY_SNAP_WAIT_MS = 3000;
/** Saved-image slots of the family's SNAPIMAGE. */
const SAVED_SLOTS = 8;

export class SimSerialModule {
  readonly faults: FaultInjector;
  readonly dialect: SerialDialect;
  /** When true the module answers nothing (a hung module). */
  silent = false;
  indicator: M.IndicatorRequest = { led: 'off', beepMs: 0 };
  /** The family's saved images (JPEG files), by number. */
  private readonly saved = new Map<number, Uint8Array>();
  /** The feature of the last capture (snap, verify or enrol), for GET_PALM_FEATURE(0xFFFF). */
  private lastFeature: Uint8Array | null = null;
  /** True while a task waits for a palm (the family sends state notes only then). */
  private inTask = false;
  /** Called before serving each image chunk (tests use it to pull the cable mid-frame). */
  onUploadChunk: ((offset: number, total: number) => void) | null = null;
  readonly users = new Map<number, { name: string; admin: boolean; identity: string; feature: Uint8Array }>();
  /**
   * A device in the middle of the line (or a module whose table was edited): the next VERIFY answers this user
   * whatever palm is on the glass, while the capture feature (0xFA) stays the true one. Tests and `claim N` on stdin.
   */
  claimNext: number | null = null;
  private readonly decoder = new SerialDecoder();
  private readonly snaps: Snap[] = [];
  private seq = 0;
  private transport: Transport | null = null;
  private queue: Promise<void> = Promise.resolve();
  private task: AbortController | null = null;
  private readonly uploads = new Map<number, { total: number; buf: Uint8Array; next: number }>();
  private server: { stop(): Promise<void> } | null = null;
  readonly served = { commands: 0, replies: 0 };

  constructor(private readonly o: SimSerialOptions) {
    this.faults = new FaultInjector(o.faults ?? { rate: 0 }, SERIAL_FAULTS);
    this.dialect = o.dialect ?? 'extended';
    o.stage.on('change', (p) => {
      if (this.dialect === 'extended') this.note(M.encodePalmNote({ state: p ? 'present' : 'none', distanceMm: p?.distanceMm ?? 0 }));
      else if (this.inTask) this.note(F.encodeStateNote({ state: p ? 0 : 1, left: 0, top: 0, right: p ? this.o.width : 0, bottom: p ? this.o.height : 0, yaw: 0, pitch: 0, roll: 0 }));
    });
  }

  /** Serves a transport (re-opening it after unplugs); sends the power-up note on each open. */
  serve(t: Transport): void {
    this.transport = t;
    this.server = serveTransport(t, (d) => this.onBytes(d), () => this.powerUp());
  }

  async stop(): Promise<void> {
    this.task?.abort();
    await this.server?.stop();
  }

  /** Restarts the module: forgets snaps and sends NID_READY (a power-up note mid-session). */
  powerUp(): void {
    this.snaps.length = 0;
    this.saved.clear();
    this.lastFeature = null;
    this.decoder.reset();
    this.task?.abort();
    this.write(encodeMessage(F.FAMILY.NOTE, Uint8Array.of(F.NOTE_ID.READY)));
  }

  private note(data: Uint8Array): void {
    if (this.transport?.isOpen && !this.silent) this.write(encodeMessage(F.FAMILY.NOTE, data));
  }

  private write(bytes: Uint8Array): void {
    if (!this.transport?.isOpen) return;
    this.transport.write(bytes).catch(() => undefined); // a pulled cable: the host will ask again
  }

  private onBytes(d: Uint8Array): void {
    for (const ev of this.decoder.push(d)) {
      if (ev.type !== 'message') continue; // the module ignores what it cannot parse, like real ones
      const { mid, data } = ev.message;
      if (mid === F.FAMILY.RESET) this.task?.abort(); // interrupts the running task at once
      this.queue = this.queue.then(() => this.handle(mid, data)).catch(() => undefined);
    }
  }

  private reply(cmd: number, result: number, payload?: Uint8Array): Promise<void> {
    return this.send(encodeMessage(F.FAMILY.REPLY, M.encodeReply(cmd, result, result === F.R.SUCCESS ? payload : undefined)));
  }

  /** Sends one answer (a REPLY or an IMAGE), with the fault plan applied. */
  private async send(bytes: Uint8Array): Promise<void> {
    if (this.silent) return;
    const fault = this.faults.next();
    this.served.replies++;
    switch (fault) {
      case null:
        return this.write(bytes);
      case 'garbage':
        return this.write(concat(this.faults.garbage(), bytes));
      case 'bitflip': {
        const b = bytes.slice();
        const i = this.faults.int(b.length);
        b[i]! ^= 1 << this.faults.int(8);
        return this.write(b);
      }
      case 'drop':
        return;
      case 'duplicate':
        this.write(bytes);
        return this.write(bytes);
      case 'delay':
        await sleep(this.faults.delay());
        return this.write(bytes);
      case 'truncate':
        return this.write(bytes.subarray(0, 1 + this.faults.int(bytes.length - 1)));
      case 'power_up':
        return this.powerUp();
      default:
        return this.write(bytes);
    }
  }

  private async handle(mid: number, data: Uint8Array): Promise<void> {
    this.served.commands++;
    const task = new AbortController();
    this.task = task;
    try {
      await this.dispatch(mid, data, task.signal);
    } catch (err) {
      if (isDriverError(err) && err.code === 'SCANNER_ABORTED') return this.reply(mid, F.R.ABORTED);
      if (isDriverError(err) && (err.code === 'PROTO_BAD_MESSAGE' || err.code === 'MODULE_REPLY_SHORT')) return this.reply(mid, F.R.INVALID_PARAM);
      return this.reply(mid, F.R.FAILED);
    } finally {
      this.inTask = false;
      if (this.task === task) this.task = null;
    }
  }

  private async shoot(timeoutS: number, signal: AbortSignal) {
    this.inTask = true;
    const palm = await waitPalm(this.o.stage, timeoutS * 1000, signal);
    this.inTask = false;
    if (!palm) return null;
    const shot = this.o.stage.shoot();
    const img = atDistance(await this.o.source.image(palm.identity, palm.sample, shot), palm.distanceMm);
    if (img.width !== this.o.width || img.height !== this.o.height) throw new DriverError('SIM_FAILED', 'image source gave the wrong size');
    return { palm, img };
  }

  private get capacity(): number {
    return Math.min(255, this.o.maxUsers ?? 255);
  }

  private has(mid: number): boolean {
    const image = mid === F.FAMILY.SNAPIMAGE || mid === F.FAMILY.GETSAVEDIMAGE || mid === F.FAMILY.UPLOADIMAGE || mid === M.MID.PP_SNAP || mid === M.MID.PP_UPLOAD;
    if (image && this.o.images === false) return false;
    if (mid === M.MID.ENROLL_PALM_FEATURE || mid === M.MID.GET_PALM_FEATURE) return this.dialect !== 'family';
    if (mid >= M.MID.PP_INFO && mid <= M.MID.PP_UPLOAD) return this.dialect === 'extended';
    return true;
  }

  private version(): string {
    const o = this.o;
    return `${o.model ?? 'PalmSim-L015'} ${this.dialect} ${o.firmware ?? '1.0'}`;
  }

  private async dispatch(mid: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    if (!this.has(mid)) return this.reply(mid, F.R.REJECTED);
    return mid === M.MID.GET_PALM_FEATURE || mid === M.MID.ENROLL_PALM_FEATURE || mid >= M.MID.PP_INFO ? this.extension(mid, data, signal) : this.family(mid, data, signal);
  }

  /** The family's messages, in the family's layouts. */
  private async family(mid: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    switch (mid) {
      case F.FAMILY.GET_VERSION:
        return this.reply(mid, 0, F.encodeVersion(this.version()));
      case F.FAMILY.RESET:
        this.snaps.length = 0;
        return this.reply(mid, 0);
      case F.FAMILY.FACERESET:
        return this.reply(mid, 0);
      case F.FAMILY.GETSTATUS:
        return this.reply(mid, 0, F.encodeStatus('idle'));
      case F.FAMILY.VERIFY: {
        const req = F.parseVerifyRequest(data);
        const got = await this.shoot(req.timeoutS, signal);
        if (!got) return this.reply(mid, F.R.TIMEOUT);
        this.lastFeature = simFeature(got.img, got.palm.identity);
        const forged = this.claimNext;
        this.claimNext = null;
        if (forged !== null) return this.reply(mid, 0, F.encodeVerifyReply({ userId: forged, name: this.users.get(forged)?.name ?? '', admin: false, unlockStatus: 0 }));
        const feature = this.lastFeature;
        // Users enrolled here are known by the palm drawn; users loaded by feature (0xF9) by the feature's palm code.
        const hit = [...this.users].find(([, u]) => u.identity === got.palm.identity || (u.identity.startsWith('feature:') && SIM_FORMAT.match!(feature, u.feature)));
        if (!hit) return this.reply(mid, F.R.UNKNOWN_USER);
        return this.reply(mid, 0, F.encodeVerifyReply({ userId: hit[0], name: hit[1].name, admin: hit[1].admin, unlockStatus: 0 }));
      }
      case F.FAMILY.ENROLL:
      case F.FAMILY.ENROLL_SINGLE:
      case F.FAMILY.ENROLL_ITG: {
        const req = mid === F.FAMILY.ENROLL_ITG ? F.parseEnrollItgRequest(data) : F.parseEnrollRequest(data);
        if (!F.PSEUDONYM.test(req.name) && req.name !== '') return this.reply(mid, F.R.INVALID_PARAM);
        const got = await this.shoot(req.timeoutS, signal);
        if (!got) return this.reply(mid, F.R.TIMEOUT);
        this.lastFeature = simFeature(got.img, got.palm.identity);
        const duplicateOk = 'enableDuplicate' in req && req.enableDuplicate;
        if (!duplicateOk && [...this.users.values()].some((u) => u.identity === got.palm.identity)) return this.reply(mid, F.R.ALREADY_ENROLLED);
        let id = 1;
        while (this.users.has(id)) id++;
        if (id > 1000 || this.users.size >= this.capacity) return this.reply(mid, F.R.TABLE_FULL);
        this.users.set(id, { name: req.name, admin: req.admin, identity: got.palm.identity, feature: this.lastFeature });
        return this.reply(mid, 0, F.encodeEnrollReply({ userId: id, direction: req.direction }));
      }
      case F.FAMILY.DELUSER:
        return this.reply(mid, this.users.delete(F.parseUserIdRequest(data)) ? 0 : F.R.UNKNOWN_USER);
      case F.FAMILY.DELALL:
        this.users.clear();
        return this.reply(mid, 0);
      case F.FAMILY.GETUSERINFO: {
        const id = F.parseUserIdRequest(data);
        const u = this.users.get(id);
        if (!u) return this.reply(mid, F.R.UNKNOWN_USER);
        return this.reply(mid, 0, F.encodeUserInfo({ userId: id, name: u.name, admin: u.admin }));
      }
      case F.FAMILY.GET_ALL_USERID:
        return this.reply(mid, 0, F.encodeAllUserIds([...this.users.keys()].sort((a, b) => a - b).slice(0, 255)));
      case F.FAMILY.SNAPIMAGE: {
        const { count, start } = F.parseSnapImageRequest(data);
        if (count < 1 || start + count > SAVED_SLOTS) return this.reply(mid, F.R.INVALID_PARAM);
        for (let i = 0; i < count; i++) {
          const got = await this.shoot(FAMILY_SNAP_WAIT_MS / 1000, signal);
          const img = got?.img ?? emptyGlass(this.o.width, this.o.height);
          this.lastFeature = simFeature(img, got?.palm.identity ?? null);
          this.saved.set(start + i, encodeGreyJpeg(img));
        }
        return this.reply(mid, 0);
      }
      case F.FAMILY.GETSAVEDIMAGE: {
        const img = this.saved.get(new F.Fields(data, 'GETSAVEDIMAGE request').u8());
        if (!img) return this.reply(mid, F.R.FILE_READ_FAILED);
        return this.reply(mid, 0, F.encodeImageSize(img.length));
      }
      case F.FAMILY.UPLOADIMAGE: {
        const { offset, size } = F.parseUploadImageRequest(data);
        const img = [...this.saved.values()].at(-1);
        if (!img) return this.reply(mid, F.R.FILE_READ_FAILED);
        if (size < 1 || size > F.MAX_UPLOAD_CHUNK || offset >= img.length) return this.reply(mid, F.R.INVALID_PARAM);
        this.onUploadChunk?.(offset, img.length);
        return this.send(encodeMessage(F.FAMILY.IMAGE, img.subarray(offset, offset + size)));
      }
      default:
        return this.reply(mid, F.R.REJECTED);
    }
  }

  /** Palm feature transfer and PalmPay's extensions. */
  private async extension(mid: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    const o = this.o;
    switch (mid) {
      case M.MID.PP_INFO:
        return this.reply(
          mid,
          0,
          M.encodeModuleInfo({ moduleId: `${o.model ?? 'PalmSim-L015'}/${o.serial ?? 'SIM0001'}/${o.firmware ?? '1.0'}`, canImage: this.o.images !== false && (o.canImage ?? true), canFeature: true, canIndicator: true, canStatus: true, canPackFrames: o.packFrames !== false, width: o.width, height: o.height, maxChunk: o.maxChunk ?? M.MAX_CHUNK, window: o.window ?? 8 }),
        );
      case M.MID.PP_STATUS:
        return this.reply(mid, 0, M.encodeStatus({ busy: false, palm: this.o.stage.ensurePalm() ? 'present' : 'none' }));
      case M.MID.PP_INDICATOR:
        this.indicator = M.parseIndicator(data);
        return this.reply(mid, 0);
      case M.MID.PP_SNAP: {
        // A module before bit 4 takes only the timeout byte (an encoding byte would be an invalid parameter to it).
        const req = o.packFrames === false ? { timeoutS: M.parseTimeoutRequest(data), encoding: FRAME_ENCODING.RAW } : M.parseSnapRequest(data);
        const got = await this.shoot(req.timeoutS, signal);
        if (!got) return this.reply(mid, F.R.TIMEOUT);
        const seq = (this.seq = (this.seq + 1) & 0xffff);
        const feature = simFeature(got.img, got.palm.identity);
        this.lastFeature = feature;
        const { pixels, width, height } = got.img;
        // Packed at the snap, as a module would before its first chunk is asked for (its cost is in the snap's time);
        // sent raw if it would not come out smaller.
        let wire = pixels;
        let packing: M.SnapResult['packing'];
        if (req.encoding === FRAME_ENCODING.UP_DEFLATE) {
          const packed = packFrame(pixels, width);
          if (packed.length < pixels.length) wire = packed;
          packing = { encoding: wire === pixels ? FRAME_ENCODING.RAW : FRAME_ENCODING.UP_DEFLATE, wireBytes: wire.length };
        }
        this.snaps.push({ seq, wire, feature });
        if (this.snaps.length > 4) this.snaps.shift(); // a late host may still read the previous snap
        return this.reply(mid, 0, M.encodeSnapResult({ seq, width, height, imageCrc: crc32(pixels), featureBytes: feature.length, featureCrc: crc32(feature), ...(packing ? { packing } : {}) }));
      }
      case M.MID.PP_UPLOAD: {
        const req = M.parseChunkRequest(data);
        const snap = this.snaps.find((s) => s.seq === req.seq);
        if (!snap || req.offset >= snap.wire.length) return this.reply(mid, F.R.INVALID_PARAM);
        this.onUploadChunk?.(req.offset, snap.wire.length);
        const bytes = snap.wire.subarray(req.offset, req.offset + Math.min(req.length, o.maxChunk ?? M.MAX_CHUNK));
        return this.send(encodeMessage(F.FAMILY.REPLY, ...M.chunkReplyParts(mid, { seq: req.seq, total: snap.wire.length, offset: req.offset, bytes })));
      }
      case M.MID.GET_PALM_FEATURE: {
        const req = M.parseChunkRequest(data);
        const feature = req.seq === M.LAST_SNAP_USER ? this.lastFeature : this.users.get(req.seq)?.feature;
        if (!feature) return this.reply(mid, F.R.UNKNOWN_USER);
        if (req.offset >= feature.length) return this.reply(mid, F.R.INVALID_PARAM);
        const bytes = feature.subarray(req.offset, req.offset + req.length);
        return this.reply(mid, 0, M.encodeChunkReply({ seq: req.seq, total: feature.length, offset: req.offset, bytes }));
      }
      case M.MID.ENROLL_PALM_FEATURE: {
        const c = M.parsePutFeature(data);
        if (!F.PSEUDONYM.test(c.name) || c.userId === 0 || c.userId === M.LAST_SNAP_USER) return this.reply(mid, F.R.INVALID_PARAM);
        if (!this.users.has(c.userId) && this.users.size >= this.capacity) return this.reply(mid, F.R.TABLE_FULL);
        let up = this.uploads.get(c.userId);
        if (c.offset === 0 || !up || up.total !== c.total) this.uploads.set(c.userId, (up = { total: c.total, buf: new Uint8Array(c.total), next: 0 }));
        if (c.offset > up.next) return this.reply(mid, F.R.INVALID_PARAM);
        up.buf.set(c.bytes, c.offset);
        up.next = Math.max(up.next, c.offset + c.bytes.length);
        if (up.next === up.total) {
          this.users.set(c.userId, { name: c.name, admin: false, identity: `feature:${crc32(up.buf)}`, feature: up.buf });
          this.uploads.delete(c.userId);
        }
        return this.reply(mid, 0, M.encodeUserId(c.userId));
      }
      default:
        return this.reply(mid, F.R.REJECTED);
    }
  }
}

/** What the camera sees with nothing on the glass: dark, with sensor noise. */
function emptyGlass(width: number, height: number): GreyImage {
  const pixels = new Uint8Array(width * height);
  let x = 12345;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    pixels[i] = 8 + (x >> 27);
  }
  return { width, height, pixels };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
