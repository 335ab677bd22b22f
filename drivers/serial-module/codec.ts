/**
 * EF AA framing of serial palm modules (DESIGN.md §3): pure encoder and streaming decoder.
 *   EF AA | mid (1) | size (2, big-endian) | data (size) | parity (1) = XOR of mid, size bytes and data.
 * The decoder resynchronises after garbage, checks parity, caps the size before waiting for data and
 * never allocates from an unchecked length: its buffer never exceeds MAX_FRAME bytes.
 */
import { DriverError } from '../errors.ts';

export const SYNC0 = 0xef;
export const SYNC1 = 0xaa;
export const HEADER_BYTES = 5; // sync(2) + mid(1) + size(2)
/** Our cap on `size`: larger than any message of ours (chunks are ≤ 4096 data bytes + headers). */
export const MAX_DATA = 8192;
export const MAX_FRAME = HEADER_BYTES + MAX_DATA + 1;

export interface SerialMessage {
  mid: number;
  data: Uint8Array;
}

export function parity(mid: number, data: Uint8Array): number {
  let p = mid ^ ((data.length >> 8) & 0xff) ^ (data.length & 0xff);
  const n = data.length;
  let i = 0;
  if (n >= 64) {
    // Four bytes per step: the XOR of all bytes is the XOR of the four bytes of the XOR of all aligned words (a
    // 640×480 frame is 300 KB of parity on each side; byte by byte it was most of the decoder's time).
    while ((data.byteOffset + i) & 3) p ^= data[i++]!;
    const words = (n - i) >> 2;
    const w = new Uint32Array(data.buffer, data.byteOffset + i, words);
    let x = 0;
    for (let k = 0; k < words; k++) x ^= w[k]!;
    p ^= x ^ (x >>> 8) ^ (x >>> 16) ^ (x >>> 24);
    i += words * 4;
  }
  for (; i < n; i++) p ^= data[i]!;
  return p & 0xff;
}

/** One message; `data` may come in parts (e.g. a chunk reply's fields, then the chunk), copied once into the frame. */
export function encodeMessage(mid: number, ...parts: Uint8Array[]): Uint8Array {
  if (!Number.isInteger(mid) || mid < 0 || mid > 0xff) throw new DriverError('CONFIG_INVALID', `message id ${mid} is not a byte`);
  let size = 0;
  for (const p of parts) size += p.length;
  if (size > MAX_DATA) throw new DriverError('CONFIG_INVALID', `message data of ${size} bytes exceeds ${MAX_DATA}`);
  const out = new Uint8Array(HEADER_BYTES + size + 1);
  out[0] = SYNC0;
  out[1] = SYNC1;
  out[2] = mid;
  out[3] = (size >> 8) & 0xff;
  out[4] = size & 0xff;
  let at = HEADER_BYTES;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[out.length - 1] = parity(mid, out.subarray(HEADER_BYTES, HEADER_BYTES + size));
  return out;
}

export type DecodeEvent = { type: 'message'; message: SerialMessage } | { type: 'error'; error: DriverError };

/**
 * Streaming decoder: push() any chunking of the byte stream, get messages and typed errors back.
 * It never throws on input. After a bad frame it drops only the first sync byte and rescans, so a
 * real frame hidden behind a false sync word is still found.
 */
export class SerialDecoder {
  // Fixed-size working buffer: bytes [start, end) are pending.
  private readonly buf = new Uint8Array(MAX_FRAME * 2);
  private start = 0;
  private end = 0;
  private garbage = 0;

  /** Bytes currently held (always ≤ MAX_FRAME). */
  get pending(): number {
    return this.end - this.start;
  }

  reset(): void {
    this.start = this.end = 0;
    this.garbage = 0;
  }

  push(chunk: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    let off = 0;
    while (off < chunk.length) {
      // Compact, then copy as much as fits; the buffer holds at most one maximal frame after parse().
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      const n = Math.min(chunk.length - off, this.buf.length - this.end);
      this.buf.set(chunk.subarray(off, off + n), this.end);
      this.end += n;
      off += n;
      this.parse(events);
    }
    return events;
  }

  /**
   * Gives up on a partial frame at the head (its header may have been a false sync inside other data,
   * or its tail was lost): drops its first byte and rescans what is buffered. Call after a timeout.
   */
  resync(): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    if (this.end - this.start === 0) return events;
    events.push({ type: 'error', error: new DriverError('PROTO_TRUNCATED', `gave up on a partial message (${this.end - this.start} byte(s) buffered)`) });
    this.start += 1;
    this.parse(events);
    return events;
  }

  private dropGarbage(n: number): void {
    this.start += n;
    this.garbage += n;
  }

  private flushGarbage(events: DecodeEvent[]): void {
    if (this.garbage > 0) {
      events.push({ type: 'error', error: new DriverError('PROTO_GARBAGE', `dropped ${this.garbage} byte(s) before a sync word`) });
      this.garbage = 0;
    }
  }

  private parse(events: DecodeEvent[]): void {
    const b = this.buf;
    while (this.end - this.start > 0) {
      // Find the sync word.
      let i = this.start;
      while (i < this.end && !(b[i] === SYNC0 && (i + 1 >= this.end || b[i + 1] === SYNC1))) i++;
      if (i > this.start) this.dropGarbage(i - this.start);
      const avail = this.end - this.start;
      if (avail < HEADER_BYTES) return; // wait for more (possibly a lone EF at the end)
      const s = this.start;
      const mid = b[s + 2]!;
      const size = (b[s + 3]! << 8) | b[s + 4]!;
      if (size > MAX_DATA) {
        this.flushGarbage(events);
        events.push({ type: 'error', error: new DriverError('PROTO_LENGTH', `message 0x${mid.toString(16)} claims ${size} data bytes (cap ${MAX_DATA})`) });
        this.dropGarbage(1);
        this.garbage = 0; // already reported as a length error
        continue;
      }
      const total = HEADER_BYTES + size + 1;
      if (avail < total) return; // size is capped, so waiting is bounded
      const data = b.subarray(s + HEADER_BYTES, s + HEADER_BYTES + size);
      if (parity(mid, data) !== b[s + total - 1]) {
        this.flushGarbage(events);
        events.push({ type: 'error', error: new DriverError('PROTO_PARITY', `message 0x${mid.toString(16)} (${size} bytes) failed its parity check`) });
        this.dropGarbage(1);
        this.garbage = 0;
        continue;
      }
      this.flushGarbage(events);
      events.push({ type: 'message', message: { mid, data: data.slice() } });
      this.start += total;
    }
  }
}
