// Translation keys are a typed union checked at compile time (renderer/i18n/i18next.d.ts), and every key exists
// in Arabic, Kurmanji and English with the same interpolation parameters. The @ts-expect-error lines are the
// compile-time half: `npm run typecheck` fails if a missing or untyped key ever compiles.
import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import { resources } from '../../renderer/i18n/index.ts';
import { oneOf, receiptLineKey } from '../../renderer/flows/i18n/keys.ts';
import { kEn } from '../../renderer/flows/i18n/en.ts';
import { FTA_REASONS } from '../../src/biometrics/quality.ts';

const leaves = (o: object, prefix = ''): Array<[string, string]> =>
  Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? leaves(v as object, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)] as [string, string]]));
const params = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('translation keys', () => {
  it('compile only when the catalogue has them', () => {
    const t = i18next.t;
    const known = (): string => t('k.payout.step.review');
    // @ts-expect-error: not a key of the catalogue
    const missing = (): string => t('k.payout.step.nope');
    const reason: string = 'already-paid';
    // @ts-expect-error: a key built from an untyped string does not compile
    const built = (): string => t(`k.reason.${reason}.title`);
    expect([known, missing, built].every((f) => typeof f === 'function')).toBe(true);
  });

  it('exist in ar, ku and en, none empty, with the same {{parameters}}', () => {
    const en = new Map(leaves(resources.en.translation));
    for (const lng of ['ar', 'ku'] as const) {
      const other = new Map(leaves(resources[lng].translation));
      expect([...other.keys()].sort(), lng).toEqual([...en.keys()].sort());
      for (const [key, text] of other) {
        expect(text.trim(), `${lng} ${key}`).not.toBe('');
        expect(params(text), `${lng} ${key}`).toEqual(params(en.get(key)!));
      }
    }
  });

  it('every failure-to-acquire reason of the extractor has its own recapture message on screen', () => {
    // The palm panel shows k.fta.<reason> (renderer/flows/parts.tsx); a reason without one would fall back to "other".
    expect(FTA_REASONS.length).toBeGreaterThanOrEqual(11);
    for (const reason of FTA_REASONS) expect(oneOf(kEn.fta, reason), reason).toBe(true);
  });

  it('codes from the wire become keys only when the catalogue has them', () => {
    expect(oneOf(kEn.reason, 'already-paid')).toBe(true);
    expect(oneOf(kEn.reason, 'toString')).toBe(false);
    expect(oneOf(kEn.reason, null)).toBe(false);
    expect(receiptLineKey('receipt.salaryFor')).toBe('k.receipt.salaryFor');
    expect(receiptLineKey('receipt.z.counted')).toBe('k.receipt.z.counted');
    expect(receiptLineKey('receipt.z')).toBeNull(); // a group, not a message
    expect(receiptLineKey('error.INTERNAL')).toBeNull(); // not a receipt line
    expect(receiptLineKey('receipt.__proto__')).toBeNull();
  });
});
