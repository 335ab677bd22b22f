// Renderer logic that runs without a browser: money and date formatting, i18n, the API client.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { API_CALL_NAMES, minorToDecimalString, type CallName, type CallResult } from '../../src/api/index.ts';
import { ApiCallError, createApi, type Transport } from '../../renderer/api-client.ts';
import { AR_SY_MONTHS, formatDateTime, formatMoney, formatNumber, formatPeriod, KU_MONTHS, numericDateTime } from '../../renderer/format.ts';
import { initI18n, intlLocale, resources, textDirection } from '../../renderer/i18n/index.ts';

const RENDERER = fileURLToPath(new URL('../../renderer/', import.meta.url));

describe('money and numbers', () => {
  it('builds exact decimal strings from integer minor units', () => {
    expect(minorToDecimalString({ minor: 12345, currency: 'SYP' })).toBe('123.45');
    expect(minorToDecimalString({ minor: 5, currency: 'USD' })).toBe('0.05');
    expect(minorToDecimalString({ minor: -1205, currency: 'USD' })).toBe('-12.05');
    expect(minorToDecimalString({ minor: 1, currency: 'IQD' })).toBe('0.001');
    expect(minorToDecimalString({ minor: 9007199254740991, currency: 'USD' })).toBe('90071992547409.91'); // no float rounding
    expect(() => minorToDecimalString({ minor: 1, currency: 'XXX' })).toThrow(RangeError);
  });

  it('formats money with the locale and digit choice', () => {
    expect(formatMoney({ minor: 123456, currency: 'USD' }, intlLocale('en', 'arab'))).toBe('$1,234.56');
    const arab = formatMoney({ minor: 123456, currency: 'SYP' }, intlLocale('ar', 'arab'));
    expect(arab).toMatch(/١٬٢٣٤٫٥٦/);
    expect(formatMoney({ minor: 123456, currency: 'SYP' }, intlLocale('ar', 'latn'))).toMatch(/1,234\.56/);
    expect(formatNumber(7, intlLocale('ar', 'arab'))).toBe('٧');
    expect(formatNumber(7, intlLocale('ku', 'arab'))).toBe('7'); // Arabic-Indic digits are an Arabic-only option
  });

  it('formats dates with Syrian Arabic and Kurmanji month names, and salary periods as month and year', () => {
    const d = new Date(2026, 10, 22, 9, 5);
    expect(formatDateTime(d, intlLocale('en', 'latn'))).toMatch(/November 22, 2026/);
    expect(formatDateTime(d, intlLocale('ar', 'arab'))).toBe('٢٢ تشرين الثاني ٢٠٢٦، ٠٩:٠٥');
    expect(formatDateTime(d, intlLocale('ar', 'latn'))).toBe('22 تشرين الثاني 2026، 09:05');
    expect(formatDateTime(d, intlLocale('ku', 'arab'))).toBe('22 Mijdar 2026, 09:05');
    expect(formatDateTime(new Date(2026, 11, 5, 9, 5), intlLocale('ar', 'arab'))).not.toMatch(/ديسمبر/);
    expect(formatPeriod('2026-09', intlLocale('ar', 'arab'))).toBe('أيلول ٢٠٢٦');
    expect(formatPeriod('2026-01', intlLocale('ar', 'latn'))).toBe('كانون الثاني 2026');
    expect(formatPeriod('2026-12', intlLocale('ku', 'latn'))).toBe('Berfanbar 2026');
    expect(formatPeriod('2026-09', intlLocale('en', 'latn'))).toBe('September 2026');
    expect(formatPeriod('2026-13', intlLocale('en', 'latn'))).toBe('2026-13'); // not a month: shown as it came
    expect(AR_SY_MONTHS).toHaveLength(12);
    expect(KU_MONTHS).toHaveLength(12);
    expect(numericDateTime(d)).toBe('22.11.2026 09:05');
  });

  it('shows Syrian pounds without piastres, Kurmanji with the Arabic digit grouping', () => {
    expect(formatMoney({ minor: 500_000, currency: 'SYP' }, intlLocale('ar', 'arab'))).toMatch(/^\u200f?٥٬٠٠٠\sل\.س\.\u200f?$/);
    expect(formatMoney({ minor: 1_250_000, currency: 'SYP' }, intlLocale('ku', 'latn'))).toBe('12\u066C500 SYP');
    expect(formatMoney({ minor: 1_250_050, currency: 'SYP' }, intlLocale('ku', 'latn'))).toBe('12\u066C500,50 SYP'); // real piastres are kept
    expect(formatMoney({ minor: -1_250_000, currency: 'SYP' }, intlLocale('ku', 'latn'))).toBe('-12\u066C500 SYP');
    expect(formatMoney({ minor: 1_250_000, currency: 'SYP' }, intlLocale('en', 'latn'))).not.toContain('.00');
    expect(formatMoney({ minor: 1_250_000, currency: 'USD' }, intlLocale('en', 'latn'))).toBe('$12,500.00'); // other currencies keep cents
    expect(formatNumber(12500, intlLocale('ku', 'latn'))).toBe('12\u066C500');
  });
});

describe('i18n', () => {
  const keys = (o: object, prefix = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));

  it('has the same keys in Arabic, Kurmanji and English, none empty', () => {
    const en = keys(resources.en.translation).sort();
    expect(keys(resources.ar.translation).sort()).toEqual(en);
    expect(keys(resources.ku.translation).sort()).toEqual(en);
    for (const lng of ['ar', 'ku', 'en'] as const) {
      const flat = JSON.stringify(resources[lng].translation);
      expect(flat).not.toMatch(/:""/);
    }
  });

  it('defaults to Arabic, right to left; Kurmanji and English left to right', async () => {
    const i18n = await initI18n();
    expect(i18n.language).toBe('ar');
    expect(i18n.t('role.salary.title')).toBe('صرف الراتب');
    expect(textDirection('ar')).toBe('rtl');
    expect(textDirection('ku')).toBe('ltr');
    expect(textDirection('en')).toBe('ltr');
    await i18n.changeLanguage('ku');
    expect(i18n.t('role.enrolment.title')).toBe('Tomarkirin');
  });

  it('has no hard-coded UI text in the components', () => {
    const offenders: string[] = [];
    const visit = (file: string, node: ts.Node, source: ts.SourceFile) => {
      if (ts.isJsxText(node) && /\p{L}/u.test(node.text)) offenders.push(`${file}: "${node.text.trim()}"`);
      if (ts.isJsxAttribute(node) && ['aria-label', 'title', 'alt', 'placeholder'].includes(node.name.getText(source)) && node.initializer && ts.isStringLiteral(node.initializer)) {
        offenders.push(`${file}: ${node.getText(source)}`);
      }
      node.forEachChild((child) => visit(file, child, source));
    };
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.tsx') ? [join(dir, e.name)] : []));
    const files = walk(RENDERER);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
      visit(file, source, source);
    }
    expect(offenders).toEqual([]);
  });
});

describe('renderer API client', () => {
  function fakeTransport(reply: (name: CallName, input: unknown) => CallResult): Transport & { sent: Array<[string, unknown]> } {
    const sent: Array<[string, unknown]> = [];
    return {
      sent,
      invoke: async (name, input) => {
        sent.push([name, input]);
        return reply(name, input);
      },
      onEvent: () => () => {},
    };
  }

  it('has one function per call in the table', () => {
    const api = createApi(fakeTransport(() => ({ ok: true, output: null })));
    expect(Object.keys(api).sort()).toEqual([...API_CALL_NAMES].sort());
  });

  it('returns validated output, and turns errors and malformed output into ApiCallError / throws', async () => {
    const t = fakeTransport((name) =>
      name === 'settings.get'
        ? { ok: true, output: { language: 'ku', digits: 'latn' } }
        : name === 'settings.setLanguage'
          ? { ok: false, error: { code: 'BAD_INPUT', message: 'no' } }
          : { ok: true, output: { nonce: 5 } },
    );
    const api = createApi(t);
    expect(await api['settings.get']()).toEqual({ language: 'ku', digits: 'latn' });
    await expect(api['settings.setLanguage']({ language: 'en' })).rejects.toEqual(new ApiCallError('BAD_INPUT', 'no'));
    await expect(api['session.ping']({ nonce: 'a' })).rejects.toThrow(); // output breaks the schema
    expect(t.sent[1]).toEqual(['settings.setLanguage', { language: 'en' }]);
  });
});
