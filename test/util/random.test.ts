// FNV-1a (util/random.ts), the string hash that seeds an image's perturbation and blur and a person id's palm-index
// hash: the published 32-bit test vectors, and a seed that changes the hash.
import { describe, expect, it } from 'vitest';
import { fnv1a } from '../../src/util/random.ts';

describe('fnv1a', () => {
  it('gives the published FNV-1a 32-bit values, unsigned', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('starts from the basis it is given', () => {
    expect(fnv1a('', 7)).toBe(7);
    expect(fnv1a('foobar', 1)).not.toBe(fnv1a('foobar'));
  });
});
