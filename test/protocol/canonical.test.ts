import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, CanonicalEncodingError } from '../../src/protocol/canonical.ts';

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: false }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":false,"z":true}]},"b":1}');
  });

  it('escapes strings like JSON.stringify and keeps non-ASCII as UTF-8', () => {
    expect(canonicalJson({ s: 'a"b\\c\n\u0001مرحبا' })).toBe('{"s":"a\\"b\\\\c\\n\\u0001مرحبا"}');
  });

  it.each([
    ['a float', { a: 1.5 }],
    ['an unsafe integer', { a: 2 ** 53 }],
    ['-0', { a: -0 }],
    ['NaN', { a: NaN }],
    ['null', { a: null }],
    ['undefined', { a: undefined }],
    ['a lone surrogate', { a: 'x\uD800' }],
    ['a Date', { a: new Date(0) }],
    ['a bigint', { a: 1n }],
  ])('refuses %s', (_what, value) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalEncodingError);
  });

  it('is independent of key insertion order and round-trips through JSON.parse', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 })),
    })).value;
    fc.assert(
      fc.property(json, (v) => {
        const text = canonicalJson(v);
        const reparsed = JSON.parse(text) as unknown;
        expect(canonicalJson(reparsed)).toBe(text);
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const reversed = Object.fromEntries(Object.entries(v).reverse());
          expect(canonicalJson(reversed)).toBe(text);
        }
      }),
      { numRuns: 300 },
    );
  });
});
