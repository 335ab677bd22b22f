/**
 * The device side of the serial palm-module protocol (drivers/PROTOCOL.md), for tests, the bench and
 * `palmpay sim serial`. One task at a time like the real module; RESET interrupts a task waiting for
 * a palm. Faults from the FaultInjector are applied to each reply.
 */
import { DriverError, isDriverError } from '../errors.ts';
import { SerialDecoder, encodeMessage } from '../serial-module/codec.ts';
import * as M from '../serial-module/messages.ts';
import type { Transport } from '../transport/transport.ts';
import { sleep } from '../util/abort.ts';
import { crc32 } from '../util/crc32.ts';
import { serveTransport, simFeature, waitPalm } from './device-common.ts';
import { FaultInjector, SERIAL_FAULTS, type FaultPlan } from './faults.ts';
import { atDistance, type ImageSource } from './sources.ts';
import type { Stage } from './stage.ts';

export interface SimSerialOptions {
  stage: Stage;
  source: ImageSource;
  width: number;
  height: number;
  model?: string;
  serial?: string;
  firmware?: string;
  maxChunk?: number;
  canImage?: boolean;
  faults?: FaultPlan;
}

interface Snap {
  seq: number;
  image: Uint8Array;
  feature: Uint8Array;
}

export class SimSerialModule {
  readonly faults: FaultInjector;
  /** When true the module answers nothing (a hung module). */
  silent = false;
  indicator: M.IndicatorRequest = { led: 'off', beepMs: 0 };
  /** Called before serving each image chunk (tests use it to pull the cable mid-frame). */
  onUploadChunk: ((offset: number, total: number) => void) | null = null;
  readonly users = new Map<number, { name: string; admin: boolean; identity: string; feature: Uint8Array }>();
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
    o.stage.on('change', (p) => {
      this.note({ nid: 'palm_state', state: p ? 'present' : 'none', distanceMm: p?.distanceMm ?? 0 });
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
    this.decoder.reset();
    this.task?.abort();
    this.write(encodeMessage(M.MID.NOTE, M.encodeNote({ nid: 'ready' })));
  }

  private note(n: M.Note): void {
    if (this.transport?.isOpen && !this.silent) this.write(encodeMessage(M.MID.NOTE, M.encodeNote(n)));
  }

  private write(bytes: Uint8Array): void {
    if (!this.transport?.isOpen) return;
    this.transport.write(bytes).catch(() => undefined); // a pulled cable: the host will ask again
  }

  private onBytes(d: Uint8Array): void {
    for (const ev of this.decoder.push(d)) {
      if (ev.type !== 'message') continue; // the module ignores what it cannot parse, like real ones
      const { mid, data } = ev.message;
      if (mid === M.MID.RESET) this.task?.abort(); // interrupts the running task at once
      this.queue = this.queue.then(() => this.handle(mid, data)).catch(() => undefined);
    }
  }

  private async reply(cmd: number, result: number, payload?: Uint8Array): Promise<void> {
    if (this.silent) return;
    const bytes = encodeMessage(M.MID.REPLY, M.encodeReply(cmd, result, payload));
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
      if (isDriverError(err) && err.code === 'SCANNER_ABORTED') return this.reply(mid, M.RESULT.ABORTED);
      if (isDriverError(err) && err.code === 'PROTO_BAD_MESSAGE') return this.reply(mid, M.RESULT.INVALID_PARAM);
      return this.reply(mid, M.RESULT.FAILED_UNKNOWN);
    } finally {
      if (this.task === task) this.task = null;
    }
  }

  private async shoot(timeoutS: number, signal: AbortSignal) {
    const palm = await waitPalm(this.o.stage, timeoutS * 1000, signal);
    if (!palm) return null;
    const shot = this.o.stage.shoot();
    const img = atDistance(await this.o.source.image(palm.identity, palm.sample, shot), palm.distanceMm);
    if (img.width !== this.o.width || img.height !== this.o.height) throw new DriverError('SIM_FAILED', 'image source gave the wrong size');
    return { palm, img };
  }

  private async dispatch(mid: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    const o = this.o;
    switch (mid) {
      case M.MID.MODULE_ID:
        return this.reply(mid, 0, M.encodeModuleInfo({ moduleId: `${o.model ?? 'PalmSim-L015'}/${o.serial ?? 'SIM0001'}/${o.firmware ?? '1.0'}`, canImage: o.canImage ?? true, canFeature: true, width: o.width, height: o.height, maxChunk: o.maxChunk ?? M.MAX_CHUNK }));
      case M.MID.RESET:
        this.snaps.length = 0;
        return this.reply(mid, 0);
      case M.MID.GET_STATUS:
        return this.reply(mid, 0, M.encodeStatus({ busy: false, palm: this.o.stage.ensurePalm() ? 'present' : 'none' }));
      case M.MID.SET_INDICATOR:
        this.indicator = M.parseIndicator(data);
        return this.reply(mid, 0);
      case M.MID.SNAP_IMAGE: {
        const got = await this.shoot(M.parseTimeoutRequest(data), signal);
        if (!got) return this.reply(mid, M.RESULT.TIMEOUT);
        const seq = (this.seq = (this.seq + 1) & 0xffff);
        const feature = simFeature(got.img);
        this.snaps.push({ seq, image: got.img.pixels, feature });
        if (this.snaps.length > 4) this.snaps.shift(); // a late host may still read the previous snap
        return this.reply(mid, 0, M.encodeSnapResult({ seq, width: got.img.width, height: got.img.height, imageCrc: crc32(got.img.pixels), featureBytes: feature.length, featureCrc: crc32(feature) }));
      }
      case M.MID.UPLOAD_IMAGE: {
        const req = M.parseChunkRequest(data);
        const snap = this.snaps.find((s) => s.seq === req.seq);
        if (!snap || req.offset >= snap.image.length) return this.reply(mid, M.RESULT.INVALID_PARAM);
        this.onUploadChunk?.(req.offset, snap.image.length);
        const bytes = snap.image.subarray(req.offset, req.offset + Math.min(req.length, o.maxChunk ?? M.MAX_CHUNK));
        return this.reply(mid, 0, M.encodeChunkReply({ seq: req.seq, total: snap.image.length, offset: req.offset, bytes }));
      }
      case M.MID.GET_PALM_FEATURE: {
        const req = M.parseChunkRequest(data);
        const feature = req.seq === M.LAST_SNAP_USER ? this.snaps.at(-1)?.feature : this.users.get(req.seq)?.feature;
        if (!feature) return this.reply(mid, req.seq === M.LAST_SNAP_USER ? M.RESULT.INVALID_PARAM : M.RESULT.UNKNOWN_USER);
        if (req.offset >= feature.length) return this.reply(mid, M.RESULT.INVALID_PARAM);
        const bytes = feature.subarray(req.offset, req.offset + req.length);
        return this.reply(mid, 0, M.encodeChunkReply({ seq: req.seq, total: feature.length, offset: req.offset, bytes }));
      }
      case M.MID.VERIFY: {
        const got = await this.shoot(M.parseTimeoutRequest(data), signal);
        if (!got) return this.reply(mid, M.RESULT.TIMEOUT);
        const hit = [...this.users].find(([, u]) => u.identity === got.palm.identity);
        if (!hit) return this.reply(mid, M.RESULT.UNKNOWN_USER);
        return this.reply(mid, 0, M.encodeVerifyResult({ userId: hit[0], name: hit[1].name }));
      }
      case M.MID.ENROLL_SINGLE: {
        const req = M.parseEnrollRequest(data);
        const got = await this.shoot(req.timeoutS, signal);
        if (!got) return this.reply(mid, M.RESULT.TIMEOUT);
        if ([...this.users.values()].some((u) => u.identity === got.palm.identity)) return this.reply(mid, M.RESULT.ALREADY_ENROLLED);
        let id = 1;
        while (this.users.has(id)) id++;
        if (id >= M.LAST_SNAP_USER) return this.reply(mid, M.RESULT.MAX_USER);
        this.users.set(id, { name: req.name, admin: req.admin, identity: got.palm.identity, feature: simFeature(got.img) });
        return this.reply(mid, 0, M.encodeUserId(id));
      }
      case M.MID.DELUSER: {
        const id = M.parseUserId(data);
        return this.reply(mid, this.users.delete(id) ? 0 : M.RESULT.UNKNOWN_USER);
      }
      case M.MID.DELALL:
        this.users.clear();
        return this.reply(mid, 0);
      case M.MID.ENROLL_PALM_FEATURE: {
        const c = M.parsePutFeature(data);
        let up = this.uploads.get(c.userId);
        if (c.offset === 0 || !up || up.total !== c.total) this.uploads.set(c.userId, (up = { total: c.total, buf: new Uint8Array(c.total), next: 0 }));
        if (c.offset > up.next) return this.reply(mid, M.RESULT.INVALID_PARAM);
        up.buf.set(c.bytes, c.offset);
        up.next = Math.max(up.next, c.offset + c.bytes.length);
        if (up.next === up.total) {
          this.users.set(c.userId, { name: '', admin: false, identity: `feature:${crc32(up.buf)}`, feature: up.buf });
          this.uploads.delete(c.userId);
        }
        return this.reply(mid, 0, M.encodeUserId(c.userId));
      }
      default:
        return this.reply(mid, M.RESULT.INVALID_PARAM);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
