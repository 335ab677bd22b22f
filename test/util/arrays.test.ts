// Helpers that replace `Math.max(...xs)` / `xs.push(...ys)`, which throw RangeError past ~125k elements.
import { describe, expect, it } from 'vitest';
import { appendAll, maxOf, minOf } from '../../src/util/arrays.ts';

// Well past V8's argument limit (about 125,000 on Node 20's default stack).
const LARGE = 1_000_000;

describe('array helpers over large arrays', () => {
  it('maxOf and minOf take a million values without a stack overflow, and agree with Math.max/min on small ones', () => {
    const big = Float32Array.from({ length: LARGE }, (_, i) => (i * 7919) % LARGE);
    expect(() => Math.max(...big)).toThrow(RangeError); // the pattern being replaced
    expect(maxOf(big)).toBe(LARGE - 1);
    expect(minOf(big)).toBe(0);
    for (const xs of [[3, -1, 2], [5], [], [1, NaN, 2]]) {
      expect(maxOf(xs)).toBe(Math.max(...xs));
      expect(minOf(xs)).toBe(Math.min(...xs));
    }
    expect(maxOf(new Map([['a', 4], ['b', 9]]).values())).toBe(9);
  });

  it('appendAll appends a million elements in order', () => {
    const target = [-1];
    const out = appendAll(target, Array.from({ length: LARGE }, (_, i) => i));
    expect(out).toBe(target);
    expect(target.length).toBe(LARGE + 1);
    expect(target[1]).toBe(0);
    expect(target[LARGE]).toBe(LARGE - 1);
  });
});
