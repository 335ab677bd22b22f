// A multimap from 32-bit integer keys to non-negative 32-bit integer values in two typed arrays (open addressing,
// linear probing, backward-shift deletion). Why: the centre's palm index keys millions of palms' template digests by
// a 32-bit prefix; a Map of that many entries costs about twice the memory and is marked at every garbage collection,
// and a key held by two people (a shared digest prefix) needs no array here: a pair is a slot.

const EMPTY = -1;

/**
 * A random odd multiplier a process: a pair's home slot is the top bits of key × this, so keys made to share their low
 * bits (template digests ground by a hostile terminal) do not pile into one run.
 */
function randomOddMultiplier(): number {
  return (Math.floor(Math.random() * 2 ** 32) | 1) | 0;
}

export class IntMultiMap {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  private shift: number;
  /** Pairs held. */
  size = 0;

  /** `multiplier` (odd) is for tests that place pairs in chosen slots; by default a random one. */
  constructor(
    initialCapacity = 1024,
    private readonly multiplier = randomOddMultiplier(),
  ) {
    if (multiplier % 2 === 0) throw new RangeError('IntMultiMap multiplier must be odd');
    const slots = 2 ** Math.max(4, Math.ceil(Math.log2(Math.max(1, initialCapacity) * 2)));
    this.keys = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
  }

  private home(key: number): number {
    return Math.imul(key, this.multiplier) >>> this.shift;
  }

  /** The values held under `key`, in no set order. */
  get(key: number): number[] {
    const out: number[] = [];
    for (let i = this.home(key); this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key) out.push(this.values[i]!);
    return out;
  }

  /** One value held under `key` (the first its probe meets), or -1: a lookup that allocates nothing. */
  first(key: number): number {
    for (let i = this.home(key); this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key) return this.values[i]!;
    return EMPTY;
  }

  /** Adds the pair (key, value) unless it is held already. */
  add(key: number, value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0x7fffffff)) throw new RangeError('IntMultiMap values are integers in 0..2^31-1');
    let i = this.home(key);
    for (; this.values[i] !== EMPTY; i = (i + 1) & this.mask) if (this.keys[i] === key && this.values[i] === value) return;
    this.keys[i] = key | 0;
    this.values[i] = value;
    if (++this.size * 2 > this.values.length) this.grow();
  }

  /** Removes the pair (key, value); false when it was not held. */
  delete(key: number, value: number): boolean {
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
    this.keys = new Int32Array(keys.length * 2);
    this.values = new Int32Array(values.length * 2).fill(EMPTY);
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
