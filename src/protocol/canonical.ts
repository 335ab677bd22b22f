// Canonical bytes: a deterministic JSON encoding (a strict subset of RFC 8785, "JCS").
// Pure. Both the terminal (signing) and the server (verifying) encode through this one function.
import { PalmPayError } from '../util/errors.ts';

export class CanonicalEncodingError extends PalmPayError {
  constructor(message: string) {
    super('CANONICAL_ENCODING', message);
  }
}

/** The values a record may hold: no floats, no null, no undefined. */
export type CanonicalValue = string | number | boolean | CanonicalValue[] | { [key: string]: CanonicalValue };

/**
 * Encodes `value` as canonical JSON text:
 * - object keys sorted by UTF-16 code units (JS default sort), no whitespace;
 * - numbers must be safe integers (|n| ≤ 2^53−1), written in decimal without exponent; -0 refused;
 * - strings escaped exactly as JSON.stringify does (which RFC 8785 adopts); lone surrogates refused;
 * - arrays keep their order; null, undefined, floats, NaN, functions refused.
 * Keys whose value is `undefined` are refused rather than skipped, so that nothing is dropped silently.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

/** UTF-8 bytes of canonicalJson(value). */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encode(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new CanonicalEncodingError(`${path}: string holds a lone surrogate`);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalEncodingError(`${path}: ${value} is not a safe integer`);
      if (Object.is(value, -0)) throw new CanonicalEncodingError(`${path}: -0 is not allowed`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) throw new CanonicalEncodingError(`${path}: null is not allowed (omit the field)`);
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new CanonicalEncodingError(`${path}: only plain objects are allowed`);
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) parts.push(`${JSON.stringify(k)}:${encode(obj[k], `${path}.${k}`)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw new CanonicalEncodingError(`${path}: ${typeof value} is not allowed`);
  }
}
