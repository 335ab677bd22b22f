// Maximum, minimum and append over arrays of any length. `Math.max(...xs)` and `xs.push(...ys)` pass every element
// as a call argument on the stack, and V8 throws "Maximum call stack size exceeded" past about 125,000 of them
// (an evaluation's comparisons, a long outbox): these loop instead.

/** The largest value (−Infinity for none, as Math.max()). NaN in, NaN out, as Math.max. */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    if (v > m) m = v;
  }
  return m;
}

/** The smallest value (Infinity for none, as Math.min()). NaN in, NaN out, as Math.min. */
export function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    if (v < m) m = v;
  }
  return m;
}

/** Appends every element of `source` to `target` (in order) and returns `target`. */
export function appendAll<T>(target: T[], source: Iterable<T>): T[] {
  for (const x of source) target.push(x);
  return target;
}
