// Bounds-checked big-endian reading and writing for payload layouts.
import { DriverError, type DriverErrorCode } from '../errors.ts';

export class Reader {
  private off = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
    private readonly code: DriverErrorCode = 'PROTO_BAD_MESSAGE',
  ) {}
  private need(n: number): number {
    if (this.off + n > this.b.length) throw new DriverError(this.code, `${this.what}: truncated (${this.b.length} bytes)`);
    const o = this.off;
    this.off += n;
    return o;
  }
  u8(): number {
    return this.b[this.need(1)]!;
  }
  u16(): number {
    const o = this.need(2);
    return (this.b[o]! << 8) | this.b[o + 1]!;
  }
  i16(): number {
    const v = this.u16();
    return v >= 0x8000 ? v - 0x10000 : v;
  }
  u32(): number {
    const o = this.need(4);
    return ((this.b[o]! << 24) | (this.b[o + 1]! << 16) | (this.b[o + 2]! << 8) | this.b[o + 3]!) >>> 0;
  }
  bytes(n: number): Uint8Array {
    const o = this.need(n);
    return this.b.subarray(o, o + n);
  }
  /** Fixed-width ASCII field, NUL-padded; non-printable bytes are rejected. */
  ascii(n: number): string {
    const raw = this.bytes(n);
    let s = '';
    for (const c of raw) {
      if (c === 0) break;
      if (c < 0x20 || c > 0x7e) throw new DriverError(this.code, `${this.what}: non-ASCII byte in text field`);
      s += String.fromCharCode(c);
    }
    return s;
  }
  /** Fixed-width text up to its first NUL, leniently: bytes outside printable ASCII read as '?'. */
  text(n: number): string {
    let s = '';
    for (const c of this.bytes(n)) {
      if (c === 0) break;
      s += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
    }
    return s;
  }
  rest(): Uint8Array {
    return this.bytes(this.b.length - this.off);
  }
  get remaining(): number {
    return this.b.length - this.off;
  }
  end(): void {
    if (this.off !== this.b.length) throw new DriverError(this.code, `${this.what}: ${this.b.length - this.off} unexpected trailing byte(s)`);
  }
}

export class Writer {
  private readonly parts: number[] = [];
  private readonly blobs: Array<[number, Uint8Array]> = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    this.parts.push((v >> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(v: number): this {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  ascii(s: string, n: number): this {
    for (let i = 0; i < n; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 0;
      this.parts.push(c >= 0x20 && c <= 0x7e ? c : c === 0 ? 0 : 0x3f);
    }
    return this;
  }
  bytes(b: Uint8Array): this {
    // Large blobs are copied at build time, not spread into the number array.
    this.blobs.push([this.parts.length, b]);
    return this;
  }
  build(): Uint8Array {
    const blobLen = this.blobs.reduce((n, [, b]) => n + b.length, 0);
    const out = new Uint8Array(this.parts.length + blobLen);
    let o = 0;
    let p = 0;
    for (const [at, b] of this.blobs) {
      while (p < at) out[o++] = this.parts[p++]!;
      out.set(b, o);
      o += b.length;
    }
    while (p < this.parts.length) out[o++] = this.parts[p++]!;
    return out;
  }
}
