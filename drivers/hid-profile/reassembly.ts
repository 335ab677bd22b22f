/**
 * Reassembles a chunked HID frame transfer: begin (size, seq, CRC-32) → chunks in offset order → end.
 * Pure: time is passed in. Detects lost chunks (a gap, or end before every byte), duplicated chunks
 * (an offset already received: reported, ignored), corrupt data (CRC-32 at end) and stalls (timeout).
 * Allocates only after the begin report's size has been validated against the caps.
 */
import { DriverError } from '../errors.ts';
import { crc32 } from '../util/crc32.ts';
import type { DeviceReport } from './reports.ts';

export interface GreyFrame {
  seq: number;
  width: number;
  height: number;
  pixels: Uint8Array;
}

export type ReassemblyResult =
  | { kind: 'none' }
  | { kind: 'frame'; frame: GreyFrame }
  /** The transfer is abandoned. */
  | { kind: 'error'; error: DriverError; seq: number }
  /** Reported, but the transfer goes on (a duplicate chunk is harmless: the CRC still guards the frame). */
  | { kind: 'warning'; error: DriverError };

type FrameReport = Extract<DeviceReport, { type: 'frame_begin' | 'frame_chunk' | 'frame_end' }>;

export class FrameReassembler {
  private cur: { seq: number; width: number; height: number; crc: number; pixels: Uint8Array; next: number; chunks: number; lastAt: number } | null = null;
  private abandoned: number | null = null;

  constructor(private readonly opts: { timeoutMs: number; maxWidth?: number; maxHeight?: number } = { timeoutMs: 1000 }) {}

  get inProgress(): boolean {
    return this.cur !== null;
  }

  reset(): void {
    this.cur = null;
    this.abandoned = null;
  }

  private fail(code: ConstructorParameters<typeof DriverError>[0], msg: string, seq: number): ReassemblyResult {
    this.cur = null;
    this.abandoned = seq;
    return { kind: 'error', error: new DriverError(code, msg), seq };
  }

  push(r: FrameReport, now: number): ReassemblyResult {
    const timeout = this.checkTimeout(now);
    if (timeout.kind !== 'none' && r.type !== 'frame_begin') return timeout;
    if (r.type === 'frame_begin') {
      const { maxWidth = 2048, maxHeight = 2048 } = this.opts;
      if (r.width > maxWidth || r.height > maxHeight || r.total !== r.width * r.height) return this.fail('PROTO_LENGTH', `frame ${r.seq}: ${r.width}×${r.height} exceeds the caps`, r.seq);
      const previous = this.cur;
      this.cur = { seq: r.seq, width: r.width, height: r.height, crc: r.crc, pixels: new Uint8Array(r.total), next: 0, chunks: 0, lastAt: now };
      this.abandoned = null;
      if (previous) return { kind: 'warning', error: new DriverError('PROTO_CHUNK_LOST', `frame ${previous.seq} ended without its end report (new frame ${r.seq} began)`) };
      return { kind: 'none' };
    }
    const c = this.cur;
    if (!c || c.seq !== r.seq) {
      if (this.abandoned === r.seq) return { kind: 'none' }; // tail of a transfer already reported
      return { kind: 'warning', error: new DriverError('PROTO_CHUNK_STRAY', `${r.type} for frame ${r.seq} with no transfer in progress`) };
    }
    c.lastAt = now;
    if (r.type === 'frame_chunk') {
      if (r.offset < c.next) {
        // Any chunk behind the cursor was already received: a duplicate (or a resent one).
        return { kind: 'warning', error: new DriverError('PROTO_CHUNK_DUP', `frame ${c.seq}: chunk at ${r.offset} received twice`) };
      }
      if (r.offset > c.next) return this.fail('PROTO_CHUNK_LOST', `frame ${c.seq}: chunk at ${c.next} lost (got ${r.offset})`, c.seq);
      if (r.data.length > c.pixels.length - c.next) return this.fail('PROTO_LENGTH', `frame ${c.seq}: chunk overruns the frame`, c.seq);
      c.pixels.set(r.data, c.next);
      c.next += r.data.length;
      c.chunks++;
      return { kind: 'none' };
    }
    // frame_end
    if (c.next !== c.pixels.length) return this.fail('PROTO_CHUNK_LOST', `frame ${c.seq}: ended after ${c.next} of ${c.pixels.length} bytes`, c.seq);
    if (r.chunks !== c.chunks) return this.fail('PROTO_CHUNK_LOST', `frame ${c.seq}: end says ${r.chunks} chunks, got ${c.chunks}`, c.seq);
    const crc = crc32(c.pixels);
    if (crc !== c.crc) return this.fail('PROTO_CRC', `frame ${c.seq}: CRC-32 ${crc.toString(16)} ≠ announced ${c.crc.toString(16)}`, c.seq);
    this.cur = null;
    return { kind: 'frame', frame: { seq: c.seq, width: c.width, height: c.height, pixels: c.pixels } };
  }

  /** Call periodically (and on each report): a transfer idle longer than timeoutMs is abandoned. */
  checkTimeout(now: number): ReassemblyResult {
    const c = this.cur;
    if (c && now - c.lastAt > this.opts.timeoutMs) return this.fail('PROTO_TRANSFER_TIMEOUT', `frame ${c.seq}: no chunk for ${now - c.lastAt} ms`, c.seq);
    return { kind: 'none' };
  }
}
