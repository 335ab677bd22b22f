// The stage-1 kernel instance and the linear memory it scans. Layout (byte offsets):
//   [0, 64 KiB)            reserved (the kernel has no static data; kept free for safety)
//   PROBE                  the probe's coarse codes (up to MAX_PROBES × CODE_BYTES: shifted variants)
//   HEAP                   the top-K heap, MAX_K u64 keys (distance << 32 | slot)
//   CODES                  capacity × CODE_BYTES, slot i at CODES + i × CODE_BYTES
//   CODES + cap × CODE     the tombstone bitmap, one bit per slot
// Growing keeps the codes where they are (memory.grow extends in place) and moves only the small bitmap, so a
// grow costs O(capacity / 8) bytes of copying. Views are re-derived after every grow (the old buffer detaches).
import { PalmPayError } from '../../../util/errors.ts';
import { SCAN_WASM_BASE64 } from './scan-wasm.generated.ts';

export const CODE_BYTES = 128;
export const CODE_BITS = CODE_BYTES * 8;
export const MAX_K = 1024;
export const MAX_PROBES = 16;
/**
 * Codes and probes that are all zero past this byte (BOCV: 486 bits = 61 bytes) let the kernel skip the last 4 of
 * its 8 vectors: their xor is zero, so the distances are the same, the 5-probe scan does half the popcounts and
 * reads one cache line per slot.
 */
export const NARROW_BYTES = 64;
const PAGE = 65536;
const PROBE = PAGE;
const HEAP = PROBE + MAX_PROBES * CODE_BYTES;
const CODES = PAGE * 2;
/** wasm32 limit is 4 GiB; stay below it with room for the bitmap. */
const MAX_CAPACITY = 12_000_000;

export class KernelUnavailableError extends PalmPayError {
  constructor(message: string) {
    super('IDENTIFY_KERNEL_UNAVAILABLE', `identification kernel unavailable: ${message} (run npm run build:wasm)`);
  }
}

export class IndexFullError extends PalmPayError {
  constructor(capacity: number) {
    super('IDENTIFY_INDEX_FULL', `the 1:N index cannot grow beyond ${capacity} palms`);
  }
}

interface Exports {
  topKMulti(codes: number, from: number, to: number, probes: number, np: number, wide: number, dead: number, k: number, heap: number, n: number): number;
  distances(codes: number, from: number, to: number, probe: number, out: number): void;
  sum1(ptr: number, bytes: number): bigint;
  sum4(ptr: number, bytes: number): bigint;
  copyBytes(dst: number, src: number, bytes: number): void;
}

let compiled: WebAssembly.Module | undefined;
function module(): WebAssembly.Module {
  if (compiled) return compiled;
  if (typeof SCAN_WASM_BASE64 !== 'string' || SCAN_WASM_BASE64.length === 0) throw new KernelUnavailableError('the embedded module is missing');
  try {
    compiled = new WebAssembly.Module(Buffer.from(SCAN_WASM_BASE64, 'base64'));
  } catch (err) {
    throw new KernelUnavailableError(`cannot compile the embedded module (${(err as Error).message}); WebAssembly SIMD is required`);
  }
  return compiled;
}

/** One kernel instance with its own memory: the coarse codes of one index live here. */
export class ScanKernel {
  private readonly memory: WebAssembly.Memory;
  private readonly x: Exports;
  private cap: number;
  private u8: Uint8Array;

  constructor(initialCapacity = 1024) {
    this.cap = Math.max(64, Math.ceil(initialCapacity / 64) * 64);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.bytesFor(this.cap) / PAGE), maximum: 65536 });
    const instance = new WebAssembly.Instance(module(), { env: { memory: this.memory } });
    this.x = instance.exports as unknown as Exports;
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  get capacity(): number {
    return this.cap;
  }

  /** Bytes of linear memory in use (codes + bitmap + fixed regions). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  private bytesFor(cap: number): number {
    return CODES + cap * CODE_BYTES + cap / 8 + 64;
  }

  private get deadPtr(): number {
    return CODES + this.cap * CODE_BYTES;
  }

  /** Makes room for at least `n` slots, doubling; codes stay in place, only the bitmap moves. */
  ensureCapacity(n: number): void {
    if (n <= this.cap) return;
    let cap = this.cap;
    while (cap < n) cap *= 2;
    cap = Math.min(cap, MAX_CAPACITY);
    if (cap < n) throw new IndexFullError(MAX_CAPACITY);
    const oldDead = this.deadPtr;
    const oldBitmapBytes = this.cap / 8;
    const need = this.bytesFor(cap) - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    this.u8 = new Uint8Array(this.memory.buffer);
    const bitmap = this.u8.slice(oldDead, oldDead + oldBitmapBytes);
    this.cap = cap;
    this.u8.fill(0, this.deadPtr, this.deadPtr + cap / 8);
    this.u8.set(bitmap, this.deadPtr);
  }

  /** A view of slot i's code (valid until the next grow). */
  code(slot: number): Uint8Array {
    const o = CODES + slot * CODE_BYTES;
    return this.u8.subarray(o, o + CODE_BYTES);
  }

  setCode(slot: number, code: Uint8Array): void {
    if (code.length !== CODE_BYTES) throw new RangeError(`coarse code must be ${CODE_BYTES} bytes, got ${code.length}`);
    if (!this.codesWide) this.codesWide = anyWide(code);
    this.u8.set(code, CODES + slot * CODE_BYTES);
  }

  /** Writes consecutive codes from slot `at` (their tombstone bits must be clear: fresh slots are). */
  setCodes(at: number, codes: Uint8Array): void {
    if (codes.length % CODE_BYTES !== 0 || at + codes.length / CODE_BYTES > this.cap) throw new RangeError('codes do not fit');
    if (!this.codesWide) this.codesWide = anyWide(codes);
    this.u8.set(codes, CODES + at * CODE_BYTES);
  }

  moveCode(from: number, to: number): void {
    this.u8.copyWithin(CODES + to * CODE_BYTES, CODES + from * CODE_BYTES, CODES + (from + 1) * CODE_BYTES);
  }

  setDead(slot: number, dead: boolean): void {
    const i = this.deadPtr + (slot >> 3);
    this.u8[i] = dead ? this.u8[i]! | (1 << (slot & 7)) : this.u8[i]! & ~(1 << (slot & 7));
  }

  isDead(slot: number): boolean {
    return ((this.u8[this.deadPtr + (slot >> 3)]! >> (slot & 7)) & 1) === 1;
  }

  /** The probe's codes (shifted variants of one capture): a slot's distance is the smallest over them. */
  setProbes(codes: readonly Uint8Array[]): void {
    if (codes.length < 1 || codes.length > MAX_PROBES) throw new RangeError(`1..${MAX_PROBES} probe codes`);
    codes.forEach((code, j) => {
      if (code.length !== CODE_BYTES) throw new RangeError(`coarse code must be ${CODE_BYTES} bytes, got ${code.length}`);
      this.u8.set(code, PROBE + j * CODE_BYTES);
    });
    this.probes = codes.length;
    this.probesWide = codes.some(anyWide);
  }

  private probes = 1;
  /** Some stored code has bits past NARROW_BYTES. Sticky (a removal does not clear it): the wide scan is always exact. */
  private codesWide = false;
  private probesWide = false;

  /**
   * Scans slots [from, to) against the probes set by setProbes and merges them into the heap, which holds `n` keys
   * already; returns the new count. Call with n = 0 to start a search.
   */
  scan(from: number, to: number, k: number, n: number): number {
    if (!(k >= 1 && k <= MAX_K)) throw new RangeError(`k must be in 1..${MAX_K}`);
    if (!(from >= 0 && from <= to && to <= this.cap)) throw new RangeError('scan range outside the index');
    const wide = this.codesWide || this.probesWide ? 1 : 0;
    return this.x.topKMulti(CODES, from, to, PROBE, this.probes, wide, this.deadPtr, k, HEAP, n);
  }

  /** A copy of the heap's first n keys. */
  saveHeap(n: number): BigUint64Array {
    return new BigUint64Array(this.memory.buffer, HEAP, n).slice();
  }

  loadHeap(keys: BigUint64Array): void {
    if (keys.length > MAX_K) throw new RangeError('heap too large');
    new BigUint64Array(this.memory.buffer, HEAP, keys.length).set(keys);
  }

  /** Distances of slots [from, to) to the first probe (tests and recall measurements; needs to − from ≤ 32768). */
  distances(from: number, to: number): Uint16Array {
    if (to - from > 32768) throw new RangeError('at most 32768 distances per call');
    const scratch = this.scratch((to - from) * 2);
    this.x.distances(CODES, from, to, PROBE, scratch);
    return new Uint16Array(this.memory.buffer, scratch, to - from).slice();
  }

  /** Floor peers over the codes of slots [0, n): a plain read of every byte (best of 1 and 4 streams) and a bulk copy. */
  readFloor(n: number): { sum1: () => void; sum4: () => void; bytes: number } {
    const bytes = Math.floor((n * CODE_BYTES) / 256) * 256;
    return { sum1: () => void this.x.sum1(CODES, bytes), sum4: () => void this.x.sum4(CODES, bytes), bytes };
  }

  /** Copies `bytes` of the code region into scratch memory past the bitmap: the memcpy peer of the floor. */
  copyPeer(bytes: number): () => void {
    const dst = this.scratch(bytes);
    return () => this.x.copyBytes(dst, CODES, bytes);
  }

  /** Scratch space past the bitmap (grown on demand; invalidated by the next grow of the index). */
  private scratch(bytes: number): number {
    const at = Math.ceil((this.deadPtr + this.cap / 8) / 64) * 64 + 64;
    const need = at + bytes - this.memory.buffer.byteLength;
    if (need > 0) {
      this.memory.grow(Math.ceil(need / PAGE));
      this.u8 = new Uint8Array(this.memory.buffer);
    }
    return at;
  }
}

/** Does any of the codes (back to back, CODE_BYTES each) have a bit set past NARROW_BYTES? */
function anyWide(codes: Uint8Array): boolean {
  for (let o = 0; o < codes.length; o += CODE_BYTES) {
    for (let b = o + NARROW_BYTES; b < o + CODE_BYTES; b++) if (codes[b] !== 0) return true;
  }
  return false;
}
