// The stage-1 kernel instance and the linear memory it scans. Layout (byte offsets):
//   [0, 64 KiB)            reserved (the kernel has no static data; kept free for safety)
//   PROBE                  the probe's plain coarse codes (up to MAX_PROBES × CODE_BYTES: shifted variants)
//   HEAP                   the top-K heap, MAX_K u64 keys (distance << 32 | slot)
//   HIST, STATS            the cut-off sample's histogram, HIST_BINS u32; two u32 of refine() results
//   DISTS                  the screening distances of one block, BLOCK_SLOTS u16
//   LIST                   the slots of one block the screen keeps, up to BLOCK_SLOTS u32
//   CODES                  capacity × ENTRY_CODE_BYTES, slot i's entry code (plain | unstable) at CODES + i × 128
//   CODES + cap × 128      the tombstone bitmap, one bit per slot
// Growing keeps the codes where they are (memory.grow extends in place) and moves only the small bitmap, so a
// grow costs O(capacity / 8) bytes of copying. Views are re-derived after every grow (the old buffer detaches).
import { PalmPayError } from '../../../util/errors.ts';
import { SCAN_WASM_BASE64 } from './scan-wasm.generated.ts';
import { cutoff, HIST_BINS, keepCount, SAMPLE_STEP, type ScreenPolicy } from './screen-cutoff.ts';

export type { ScreenPolicy } from './screen-cutoff.ts';

/** A plain coarse code (the probe's, and each entry's exact stage-1 code): 512 bits. */
export const CODE_BYTES = 64;
export const CODE_BITS = CODE_BYTES * 8;
/**
 * What the index stores per entry, one slot: the plain code, then the `unstable` mask (1 where the entry's shifted
 * variants disagree, coarse-code.ts). The screen reads both halves, the exact distance only the first.
 */
export const ENTRY_CODE_BYTES = 2 * CODE_BYTES;
export const MAX_K = 1024;
export const MAX_PROBES = 16;
/** The screened search works block by block (its histogram and distances are per block). */
export const BLOCK_SLOTS = 16384;
const PAGE = 65536;
const PROBE = PAGE;
const HEAP = PROBE + MAX_PROBES * CODE_BYTES;
const HIST = HEAP + MAX_K * 8;
const STATS = HIST + HIST_BINS * 4;
const DISTS = PAGE * 2;
const LIST = DISTS + BLOCK_SLOTS * 2;
const CODES = LIST + BLOCK_SLOTS * 4;
/** wasm32 limit is 4 GiB; stay below it with room for the bitmap. */
const MAX_CAPACITY = 16_000_000;

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
  topKMulti(codes: number, from: number, to: number, probes: number, np: number, dead: number, k: number, heap: number, n: number): number;
  screen(codes: number, from: number, to: number, probe: number, out: number): void;
  histogram(dists: number, n: number, step: number, hist: number): void;
  refine(codes: number, from: number, to: number, dists: number, tau: number, probes: number, np: number, dead: number, k: number, heap: number, n: number, list: number, stats: number): number;
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
  private probes = 1;

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
    return CODES + cap * ENTRY_CODE_BYTES + cap / 8 + 64;
  }

  private get deadPtr(): number {
    return CODES + this.cap * ENTRY_CODE_BYTES;
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

  /** A view of slot i's entry code (plain | unstable; valid until the next grow). */
  code(slot: number): Uint8Array {
    const o = CODES + slot * ENTRY_CODE_BYTES;
    return this.u8.subarray(o, o + ENTRY_CODE_BYTES);
  }

  /** A view of slot i's plain code (valid until the next grow). */
  plain(slot: number): Uint8Array {
    const o = CODES + slot * ENTRY_CODE_BYTES;
    return this.u8.subarray(o, o + CODE_BYTES);
  }

  setCode(slot: number, code: Uint8Array): void {
    if (code.length !== ENTRY_CODE_BYTES) throw new RangeError(`entry code must be ${ENTRY_CODE_BYTES} bytes, got ${code.length}`);
    this.u8.set(code, CODES + slot * ENTRY_CODE_BYTES);
  }

  /** Writes consecutive entry codes from slot `at` (their tombstone bits must be clear: fresh slots are). */
  setCodes(at: number, codes: Uint8Array): void {
    if (codes.length % ENTRY_CODE_BYTES !== 0 || at + codes.length / ENTRY_CODE_BYTES > this.cap) throw new RangeError('codes do not fit');
    this.u8.set(codes, CODES + at * ENTRY_CODE_BYTES);
  }

  moveCode(from: number, to: number): void {
    this.u8.copyWithin(CODES + to * ENTRY_CODE_BYTES, CODES + from * ENTRY_CODE_BYTES, CODES + (from + 1) * ENTRY_CODE_BYTES);
  }

  setDead(slot: number, dead: boolean): void {
    const i = this.deadPtr + (slot >> 3);
    this.u8[i] = dead ? this.u8[i]! | (1 << (slot & 7)) : this.u8[i]! & ~(1 << (slot & 7));
  }

  isDead(slot: number): boolean {
    return ((this.u8[this.deadPtr + (slot >> 3)]! >> (slot & 7)) & 1) === 1;
  }

  /** The probe's plain codes (shifted variants of one capture, the unshifted one first): a slot's exact distance is the smallest over them. */
  setProbes(codes: readonly Uint8Array[]): void {
    if (codes.length < 1 || codes.length > MAX_PROBES) throw new RangeError(`1..${MAX_PROBES} probe codes`);
    codes.forEach((code, j) => {
      if (code.length !== CODE_BYTES) throw new RangeError(`coarse code must be ${CODE_BYTES} bytes, got ${code.length}`);
      this.u8.set(code, PROBE + j * CODE_BYTES);
    });
    this.probes = codes.length;
  }

  private checkScan(from: number, to: number, k: number): void {
    if (!(k >= 1 && k <= MAX_K)) throw new RangeError(`k must be in 1..${MAX_K}`);
    if (!(from >= 0 && from <= to && to <= this.cap)) throw new RangeError('scan range outside the index');
  }

  /**
   * Exact scan: slots [from, to) against every probe code set by setProbes, merged into the heap, which holds `n`
   * keys already; returns the new count. Call with n = 0 to start a search.
   */
  scan(from: number, to: number, k: number, n: number): number {
    this.checkScan(from, to, k);
    return this.x.topKMulti(CODES, from, to, PROBE, this.probes, this.deadPtr, k, HEAP, n);
  }

  /**
   * Screened scan of one block [from, to) (at most BLOCK_SLOTS, `from` a multiple of 4) of a search over `total`
   * slots: every slot's screening distance to the first probe code, then the exact distance of only the slots
   * nearest by screening (`policy`), merged into the heap like scan(). Returns the new heap count and how many
   * slots were scored exactly.
   */
  screenedScan(from: number, to: number, total: number, k: number, n: number, policy: ScreenPolicy): { n: number; refined: number } {
    this.checkScan(from, to, k);
    const len = to - from;
    if (len > BLOCK_SLOTS || from % 4 !== 0) throw new RangeError(`a screened scan covers at most ${BLOCK_SLOTS} slots from a multiple of 4`);
    const keep = keepCount(len, total, policy);
    if (keep >= len) return { n: this.scan(from, to, k, n), refined: len };
    // The kernel screens 4 slots a step: the padding slots past `to` (inside the capacity, a multiple of 64) are
    // screened too, and never sampled or refined.
    const end4 = from + Math.ceil(len / 4) * 4;
    this.x.screen(CODES, from, end4, PROBE, DISTS);
    const hist = new Uint32Array(this.memory.buffer, HIST, HIST_BINS);
    hist.fill(0);
    this.x.histogram(DISTS, len, SAMPLE_STEP, HIST);
    const tau = cutoff(hist, keep, len);
    n = this.x.refine(CODES, from, to, DISTS, tau, PROBE, this.probes, this.deadPtr, k, HEAP, n, LIST, STATS);
    return { n, refined: new Uint32Array(this.memory.buffer, STATS, 1)[0]! };
  }

  /** A copy of the heap's first n keys. */
  saveHeap(n: number): BigUint64Array {
    return new BigUint64Array(this.memory.buffer, HEAP, n).slice();
  }

  loadHeap(keys: BigUint64Array): void {
    if (keys.length > MAX_K) throw new RangeError('heap too large');
    new BigUint64Array(this.memory.buffer, HEAP, keys.length).set(keys);
  }

  /** Screening distances of slots [from, to) to the first probe (tests; from and to multiples of 4, to − from ≤ BLOCK_SLOTS). */
  screenDistances(from: number, to: number): Uint16Array {
    if (from % 4 !== 0 || to % 4 !== 0 || to - from > BLOCK_SLOTS || to > this.cap) throw new RangeError('screen range must be 4-aligned and at most one block');
    this.x.screen(CODES, from, to, PROBE, DISTS);
    return new Uint16Array(this.memory.buffer, DISTS, to - from).slice();
  }

  /**
   * Floor peers over the entry codes of slots [0, n), the bytes a screened search streams: a plain read of every
   * byte (best of 1 and 4 streams) and a bulk copy.
   */
  readFloor(n: number): { sum1: () => void; sum4: () => void; bytes: number } {
    const bytes = Math.floor((n * ENTRY_CODE_BYTES) / 256) * 256;
    return { sum1: () => void this.x.sum1(CODES, bytes), sum4: () => void this.x.sum4(CODES, bytes), bytes };
  }

  /** Copies `bytes` of the entry codes into scratch memory past the bitmap: the memcpy peer of the floor. */
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
