// The coarse index: one 128-byte entry code (plain code + unstable mask) per enrolled entry, all in one contiguous
// buffer (the kernel's memory), with an id ↔ slot map. Searches are screened (README.md, "The screened scan"):
// block by block, a pass over every slot at memory speed, then the exact distance for the few slots it keeps;
// nearestExact() is the reference. Removal is a swap-remove (the last slot moves into the hole) when no search is
// running; while a search holds the index (between scan chunks) removals are tombstones, compacted when the last
// search ends, so the slots a running search has yet to visit never move under it.
import { BLOCK_SLOTS, CODE_BYTES, ENTRY_CODE_BYTES, MAX_K, MAX_PROBES, ScanKernel, type ScreenPolicy } from './kernel/kernel.ts';

export type { ScreenPolicy } from './kernel/kernel.ts';

/**
 * Keep 1/128 of each block, and at least 512 slots a search (so a gallery of up to 512 entries is scored exactly in
 * full). On the dev data the entry exhaustive matching puts first ranked at worst 58th of 20 149 (0.29 %) by
 * screening distance, so 1/128 (0.78 %) keeps it with room; the benchmark reports what screening loses at 10⁵–10⁶.
 */
export const DEFAULT_SCREEN: ScreenPolicy = { fraction: 1 / 128, minKeep: 512 };

/** Entry ids are strings (the terminal's entry ids) or small integers (the centre's flat index: no string per entry). */
export type EntryId = string | number;

export interface Candidate<Id extends EntryId = string> {
  id: Id;
  /** Exact stage-1 distance: Hamming distance of the plain codes, the smallest over the probe codes (0..CODE_BITS). */
  distance: number;
}

/** The part of Map the index uses for entry id → slot (a typed util/int-multimap IntMap fits integer ids). */
export interface SlotMap<Id> {
  readonly size: number;
  get(id: Id): number | undefined;
  has(id: Id): boolean;
  set(id: Id, slot: number): unknown;
  delete(id: Id): boolean;
}

export class CoarseIndex<Id extends EntryId = string> {
  private readonly kernel: ScanKernel;
  /** Entry id by slot; undefined = tombstone. */
  private idAt: Array<Id | undefined> = [];
  private searches = 0;
  private tombstones = 0;

  constructor(
    initialCapacity = 1024,
    readonly screen: ScreenPolicy = DEFAULT_SCREEN,
    /** Slots per block: the screen's unit and a chunked search's smallest step (smaller only to test interleaving). */
    readonly blockSlots = BLOCK_SLOTS,
    /** Entry id → slot: a Map unless told (millions of integer ids fit a typed map the collector need not mark). */
    private readonly slotOf: SlotMap<Id> = new Map<Id, number>(),
  ) {
    if (!(screen.fraction > 0 && screen.fraction <= 1 && Number.isInteger(screen.minKeep) && screen.minKeep >= 0)) throw new RangeError('screen policy: fraction in (0, 1], minKeep a whole number');
    if (!(Number.isInteger(blockSlots) && blockSlots >= 4 && blockSlots <= BLOCK_SLOTS && blockSlots % 4 === 0)) throw new RangeError(`block size: a multiple of 4 up to ${BLOCK_SLOTS}`);
    this.kernel = new ScanKernel(initialCapacity);
  }

  /** Live entries. */
  get size(): number {
    return this.slotOf.size;
  }

  /** Slots in use, tombstones included. */
  get slots(): number {
    return this.idAt.length;
  }

  get memoryBytes(): number {
    return this.kernel.memoryBytes;
  }

  has(id: Id): boolean {
    return this.slotOf.has(id);
  }

  /** Adds an entry, or replaces its code if the id is present. */
  upsert(id: Id, code: Uint8Array): void {
    if (code.length !== ENTRY_CODE_BYTES) throw new RangeError(`entry code must be ${ENTRY_CODE_BYTES} bytes, got ${code.length}`);
    const slot = this.slotOf.get(id);
    if (slot !== undefined) {
      // In place: a running search sees the old or the new code; stage 2 always re-scores the current template.
      this.kernel.setCode(slot, code);
      return;
    }
    const at = this.idAt.length;
    this.kernel.ensureCapacity(at + 1);
    this.kernel.setCode(at, code);
    this.kernel.setDead(at, false);
    this.idAt.push(id);
    this.slotOf.set(id, at);
  }

  /** Adds many entries at once (start-up load): `codes` holds ids.length codes back to back. */
  upsertMany(ids: readonly Id[], codes: Uint8Array): void {
    if (codes.length !== ids.length * ENTRY_CODE_BYTES) throw new RangeError('codes do not match the ids');
    const at = this.idAt.length;
    // Room first: a kernel that cannot grow throws before the slot map holds an id for a slot never filled.
    this.kernel.ensureCapacity(at + ids.length);
    // Slots are claimed as the ids are read; an id already present, or twice in `ids`, undoes the claims and takes
    // the one-by-one path, and so does a throw (the slot map out of memory) before rethrowing.
    /** Drops the claims of ids[0..upTo) (an id holding another slot was there before: kept). */
    const unclaim = (upTo: number) => {
      for (let j = 0; j < upTo; j++) if (this.slotOf.get(ids[j]!) === at + j) this.slotOf.delete(ids[j]!);
    };
    let claimed = 0;
    try {
      for (; claimed < ids.length; claimed++) {
        if (this.slotOf.has(ids[claimed]!)) break;
        this.slotOf.set(ids[claimed]!, at + claimed);
      }
    } catch (err) {
      unclaim(Math.min(claimed + 1, ids.length));
      throw err;
    }
    if (claimed < ids.length) {
      unclaim(claimed);
      ids.forEach((id, k) => this.upsert(id, codes.subarray(k * ENTRY_CODE_BYTES, (k + 1) * ENTRY_CODE_BYTES)));
      return;
    }
    this.kernel.setCodes(at, codes);
    for (let i = 0; i < ids.length; i++) this.idAt.push(ids[i]!);
  }

  /** Removes an entry; returns false if absent. */
  remove(id: Id): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    if (this.searches > 0) {
      this.kernel.setDead(slot, true);
      this.idAt[slot] = undefined;
      this.tombstones++;
    } else {
      this.swapRemove(slot);
    }
    return true;
  }

  private swapRemove(slot: number): void {
    const last = this.idAt.length - 1;
    if (slot !== last) {
      const moved = this.idAt[last];
      this.kernel.moveCode(last, slot);
      this.kernel.setDead(slot, this.kernel.isDead(last));
      this.idAt[slot] = moved;
      if (moved !== undefined) this.slotOf.set(moved, slot);
    }
    this.kernel.setDead(last, false);
    this.idAt.pop();
  }

  /** Drops every tombstone (only when no search holds the index). */
  private compact(): void {
    for (let slot = this.idAt.length - 1; slot >= 0 && this.tombstones > 0; slot--) {
      if (this.idAt[slot] === undefined) {
        this.swapRemove(slot);
        this.tombstones--;
      }
    }
  }

  /**
   * The k nearest live entries by exact coarse distance (the smallest over the probe's codes when given several;
   * the first is the unshifted one) among those the screen keeps, ties broken by slot.
   */
  nearest(probe: Uint8Array | readonly Uint8Array[], k: number): Array<Candidate<Id>> {
    const search = this.begin(probe, k);
    search.step(Infinity);
    return search.finish();
  }

  /**
   * nearest(), scanning about `chunk` slots (whole blocks) at a time and yielding to the event loop in between, so a
   * scan of 10⁶ codes does not hold up the process; entries removed meanwhile are not returned, entries added are not
   * visited.
   */
  async nearestChunked(probe: Uint8Array | readonly Uint8Array[], k: number, chunk = this.blockSlots): Promise<Array<Candidate<Id>>> {
    const search = this.begin(probe, k);
    try {
      while (!search.step(chunk)) await new Promise<void>((resolve) => setImmediate(resolve));
    } catch (err) {
      search.finish();
      throw err;
    }
    return search.finish();
  }

  /** The reference: the same distance over EVERY live entry, no screening (tests and the benchmark). */
  nearestExact(probe: Uint8Array | readonly Uint8Array[], k: number): Array<Candidate<Id>> {
    const search = this.begin(probe, k, null);
    search.step(Infinity);
    return search.finish();
  }

  /**
   * A search that can be run in chunks of whole blocks (to yield to the event loop between them), screened by the
   * index's policy unless told otherwise (null: exact). Until finish(), removals become tombstones and entries
   * added after begin() are not visited.
   */
  begin(probe: Uint8Array | readonly Uint8Array[], k: number, screen: ScreenPolicy | null = this.screen): CoarseSearch<Id> {
    const search = new CoarseSearch<Id>(this, this.kernel, probe, k, this.idAt.length, screen);
    this.searches++;
    return search;
  }

  /** Called by CoarseSearch.finish(). */
  release(heap: Array<{ distance: number; slot: number }>): Array<Candidate<Id>> {
    const out: Array<Candidate<Id>> = [];
    for (const { distance, slot } of heap) {
      const id = this.idAt[slot];
      if (id !== undefined) out.push({ id, distance });
    }
    this.searches--;
    if (this.searches === 0 && this.tombstones > 0) this.compact();
    return out;
  }

  /** The entry code (plain code | unstable mask) of an entry (a copy). */
  codeOf(id: Id): Uint8Array | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.kernel.code(slot).slice();
  }

  /** For the benchmark: the kernel and the live slot count. */
  get scanKernel(): ScanKernel {
    return this.kernel;
  }
}

export class CoarseSearch<Id extends EntryId = string> {
  /** This search's heap between chunks (the kernel's heap region is shared by all searches). */
  private keys: BigUint64Array = new BigUint64Array(0);
  private next = 0;
  private done = false;
  private readonly probes: Uint8Array[];
  /** Slots scored exactly so far (all of them without screening). */
  refined = 0;

  constructor(
    private readonly index: CoarseIndex<Id>,
    private readonly kernel: ScanKernel,
    probe: Uint8Array | readonly Uint8Array[],
    private readonly k: number,
    private readonly end: number,
    private readonly screen: ScreenPolicy | null,
  ) {
    this.probes = (probe instanceof Uint8Array ? [probe] : [...probe]).map((p) => p.slice());
    for (const p of this.probes) if (p.length !== CODE_BYTES) throw new RangeError(`coarse code must be ${CODE_BYTES} bytes, got ${p.length}`);
    if (this.probes.length < 1 || this.probes.length > MAX_PROBES) throw new RangeError(`1..${MAX_PROBES} probe codes`);
    if (!(Number.isInteger(k) && k >= 1 && k <= MAX_K)) throw new RangeError(`k must be in 1..${MAX_K}`);
  }

  /**
   * Scans about `slots` more slots, in whole blocks (at least one), so the result does not depend on the chunking;
   * returns true when the whole index has been visited.
   */
  step(slots: number): boolean {
    if (this.done) throw new RangeError('search already finished');
    const block = this.index.blockSlots;
    const blocks = Math.max(1, Math.ceil(slots / block));
    const to = Math.min(this.end, this.next + blocks * block);
    // The probe and heap regions are shared by all searches of this kernel: restore them before every chunk.
    this.kernel.setProbes(this.probes);
    this.kernel.loadHeap(this.keys);
    let n = this.keys.length;
    for (let from = this.next; from < to; from += block) {
      const until = Math.min(to, from + block);
      if (this.screen) {
        const r = this.kernel.screenedScan(from, until, this.end, this.k, n, this.screen);
        n = r.n;
        this.refined += r.refined;
      } else {
        n = this.kernel.scan(from, until, this.k, n);
        this.refined += until - from;
      }
    }
    this.keys = this.kernel.saveHeap(n);
    this.next = to;
    return this.next >= this.end;
  }

  /** The candidates (nearest first), without entries removed meanwhile; releases the index. */
  finish(): Array<Candidate<Id>> {
    if (this.done) throw new RangeError('search already finished');
    this.done = true;
    return this.index.release(sortKeys(this.keys));
  }
}

/** Heap keys (distance << 32 | slot) in ascending order, as pairs. */
function sortKeys(keys: BigUint64Array): Array<{ distance: number; slot: number }> {
  const sorted = keys.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Array.from(sorted, (key) => ({ distance: Number(key >> 32n), slot: Number(key & 0xffffffffn) }));
}
