// A multimap from 32-bit integer keys to non-negative 32-bit integer values in two typed arrays (open addressing,
// linear probing, backward-shift deletion). Why: the centre's palm index keys millions of palms' template digests by
// a 32-bit prefix; a Map of that many entries costs about twice the memory and is marked at every garbage collection,
// and a key held by two people (a shared digest prefix) needs no array here: a pair is a slot.

const EMPTY = -1;

/**
 * murmur3's 32-bit finaliser: a bijection that spreads every input bit over every output bit. A home slot is the top
 * bits of fmix32(key ^ seed). Why not a multiply-shift: it piles keys in arithmetic progression (the centre's entry
 * ids, 32n + 0 or 1) into a few long runs for some multipliers (about one in 250 random ones made a 10⁶ load crawl);
 * the random seed keeps keys a terminal chose (digests it ground) from being aimed at one run.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** A 32-bit seed from the platform's cryptographic generator (not Math.random, whose state can be inferred). */
export function randomSeed(): number {
  return globalThis.crypto.getRandomValues(new Int32Array(1))[0]!;
}

/** Keys are 32-bit integers: anything else is a caller's bug, refused rather than silently wrapped. */
function int32(key: number): number {
  if ((key | 0) !== key) throw new RangeError(`IntMultiMap keys are 32-bit integers, got ${key}`);
  return key;
}

export class IntMultiMap {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  private shift: number;
  /** Pairs held. */
  size = 0;

  /** `seed` is for tests that place pairs in chosen slots; by default a random one a table. */
  constructor(
    initialCapacity = 1024,
    private readonly seed = randomSeed(),
  ) {
    const slots = 2 ** Math.max(4, Math.ceil(Math.log2(Math.max(1, initialCapacity) * 2)));
    this.keys = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
  }

  private home(key: number): number {
    return fmix32(key ^ this.seed) >>> this.shift;
  }

  /** The values held under `key`, in no set order. */
  get(key: number): number[] {
    key = int32(key);
    const out: number[] = [];
    for (let i = this.home(key); this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key) out.push(this.values[i]!);
    return out;
  }

  /** One value held under `key` (the first its probe meets), or -1: a lookup that allocates nothing. */
  first(key: number): number {
    key = int32(key);
    for (let i = this.home(key); this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key) return this.values[i]!;
    return EMPTY;
  }

  /** Adds the pair (key, value) unless it is held already. */
  add(key: number, value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0x7fffffff)) throw new RangeError('IntMultiMap values are integers in 0..2^31-1');
    key = int32(key);
    let i = this.home(key);
    for (; this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key && this.values[i] === value) return;
    this.keys[i] = key;
    this.values[i] = value;
    if (++this.size * 2 > this.values.length) this.grow();
  }

  /** Removes the pair (key, value); false when it was not held. */
  delete(key: number, value: number): boolean {
    key = int32(key);
    let i = this.home(key);
    for (; this.values[i] !== EMPTY; i = (i + 1) & this.mask) {
      if (this.keys[i] === key && this.values[i] === value) break;
    }
    if (this.values[i] === EMPTY) return false;
    // Backward shift: each later pair of the run moves into the hole unless its home slot lies after the hole.
    for (let j = (i + 1) & this.mask; this.values[j] !== EMPTY; j = (j + 1) & this.mask) {
      const home = this.home(this.keys[j]!);
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      this.keys[i] = this.keys[j]!;
      this.values[i] = this.values[j]!;
      i = j;
    }
    this.values[i] = EMPTY;
    this.size--;
    return true;
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    // Both allocated before either is swapped in: out of memory leaves the table as it was.
    const grownKeys = new Int32Array(keys.length * 2);
    const grownValues = new Int32Array(values.length * 2).fill(EMPTY);
    this.keys = grownKeys;
    this.values = grownValues;
    this.mask = this.values.length - 1;
    this.shift--;
    for (let s = 0; s < values.length; s++) {
      if (values[s] === EMPTY) continue;
      let i = this.home(keys[s]!);
      while (this.values[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keys[i] = keys[s]!;
      this.values[i] = values[s]!;
    }
  }
}

/**
 * A map from 32-bit integer keys to non-negative 31-bit values on an IntMultiMap (one value a key), with the methods
 * of Map a CoarseIndex uses for its slot map: the centre's palm index holds millions of integer entry ids.
 */
export class IntMap {
  private readonly pairs: IntMultiMap;

  constructor(initialCapacity = 1024) {
    this.pairs = new IntMultiMap(initialCapacity);
  }

  get size(): number {
    return this.pairs.size;
  }

  get(key: number): number | undefined {
    const v = this.pairs.first(key);
    return v === EMPTY ? undefined : v;
  }

  has(key: number): boolean {
    return this.pairs.first(key) !== EMPTY;
  }

  set(key: number, value: number): this {
    const old = this.pairs.first(key);
    if (old === value) return this;
    if (old !== EMPTY) this.pairs.delete(key, old);
    this.pairs.add(key, value);
    return this;
  }

  delete(key: number): boolean {
    const old = this.pairs.first(key);
    return old !== EMPTY && this.pairs.delete(key, old);
  }
}
