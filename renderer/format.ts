// Numbers, money and dates in the terminal's locale (language + digits). Money is integer minor units + currency;
// the decimal string is built exactly (see @api/money.ts), never via a float.
//
// North-East Syria conventions: Syrian pounds have no cents in practice, so SYP shows whole pounds
// ("٥٬٠٠٠ ل.س.") unless an amount really has piastres; the ledger keeps minor units. Arabic uses the Syrian
// month names (كانون الثاني … كانون الأول) and Kurmanji its own (Rêbendan … Berfanbar), from our own tables:
// Chromium ships no Kurmanji locale data and picks Egyptian month names for plain "ar". Kurmanji groups digits as
// the Arabic screen does (the Arabic thousands separator), with Latin digits and "SYP" after the amount.
import { currencyExponent, minorToDecimalString, type Money } from '@api/index.ts';

/** Currencies whose minor units are not used in practice: shown in whole units when the amount is whole. */
const WHOLE_UNITS = new Set(['SYP']);

export const AR_SY_MONTHS = ['كانون الثاني', 'شباط', 'آذار', 'نيسان', 'أيار', 'حزيران', 'تموز', 'آب', 'أيلول', 'تشرين الأول', 'تشرين الثاني', 'كانون الأول'] as const;
export const KU_MONTHS = ['Rêbendan', 'Reşemî', 'Adar', 'Nîsan', 'Gulan', 'Hezîran', 'Tîrmeh', 'Tebax', 'Îlon', 'Cotmeh', 'Mijdar', 'Berfanbar'] as const;

const ARABIC_THOUSANDS = '\u066C';

function script(locale: string): 'ar' | 'ku' | 'other' {
  return locale.startsWith('ar') ? 'ar' : locale.startsWith('ku') ? 'ku' : 'other';
}

export function formatMoney(money: Money, locale: string): string {
  const exp = currencyExponent(money.currency);
  const whole = WHOLE_UNITS.has(money.currency) && money.minor % 10 ** exp === 0;
  const digits = whole ? 0 : exp;
  const exact = minorToDecimalString(money);
  const decimal = whole ? exact.replace(/\.0+$/, '') : exact;
  if (script(locale) === 'ku') {
    const [int, frac] = decimal.replace('-', '').split('.');
    const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ARABIC_THOUSANDS);
    return `${money.minor < 0 ? '-' : ''}${grouped}${frac ? `,${frac}` : ''} ${money.currency}`;
  }
  const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
  // Intl accepts exact decimal strings (ES2023); the cast is for older lib typings.
  return fmt.format(decimal as unknown as number);
}

export function formatNumber(n: number, locale: string): string {
  if (script(locale) === 'ku') return new Intl.NumberFormat('en-u-nu-latn').format(n).replace(/,/g, ARABIC_THOUSANDS);
  return new Intl.NumberFormat(locale).format(n);
}

/** A year or day: digits in the locale's numbering system, never grouped ("٢٠٢٦", not "٢٬٠٢٦"). */
function plain(n: number, locale: string): string {
  return new Intl.NumberFormat(script(locale) === 'ku' ? 'en-u-nu-latn' : locale, { useGrouping: false }).format(n);
}

function monthName(month0: number, locale: string): string {
  const s = script(locale);
  if (s === 'ar') return AR_SY_MONTHS[month0]!;
  if (s === 'ku') return KU_MONTHS[month0]!;
  return new Intl.DateTimeFormat(locale, { month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2000, month0, 1)));
}

/** A salary period "2026-09" as month name and year: "أيلول ٢٠٢٦", "Îlon 2026", "September 2026". */
export function formatPeriod(period: string, locale: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const month0 = m ? Number(m[2]) - 1 : -1;
  if (!m || month0 < 0 || month0 > 11) return period; // not a month period: shown as it came
  return `${monthName(month0, locale)} ${plain(Number(m[1]), locale)}`;
}

function time(date: Date, locale: string): string {
  const two = (n: number) => plain(n, locale).padStart(2, plain(0, locale));
  return `${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** Day, month name, year and time: "٥ كانون الأول ٢٠٢٦، ٠٩:٠٥", "5 Berfanbar 2026, 09:05", "December 5, 2026, 9:05 AM". */
export function formatDateTime(date: Date, locale: string): string {
  const s = script(locale);
  if (s === 'other') return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short' }).format(date);
  const day = `${plain(date.getDate(), locale)} ${monthName(date.getMonth(), locale)} ${plain(date.getFullYear(), locale)}`;
  return `${day}${s === 'ar' ? '،' : ','} ${time(date, locale)}`;
}

export function numericDateTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getDate())}.${two(date.getMonth() + 1)}.${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** A calendar date "2026-12-15" as day, month name and year (a bill's due date): "١٥ كانون الأول ٢٠٢٦". */
export function formatDate(iso: string, locale: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return iso; // not a date: shown as it came
  const [year, month0, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  if (script(locale) === 'other') return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(year, month0, day)));
  return `${plain(day, locale)} ${monthName(month0, locale)} ${plain(year, locale)}`;
}
