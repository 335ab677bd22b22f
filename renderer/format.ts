// Numbers, money and dates go through Intl with the terminal's locale (language + digits). Money is integer
// minor units + currency; the decimal string is built exactly (see @api/money.ts), never via a float.
import { currencyExponent, minorToDecimalString, type Money } from '@api/index.ts';

export function formatMoney(money: Money, locale: string): string {
  const digits = currencyExponent(money.currency);
  const fmt = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: money.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl accepts exact decimal strings (ES2023); the cast is for older lib typings.
  return fmt.format(minorToDecimalString(money) as unknown as number);
}

export function formatNumber(n: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/**
 * Long date and time in the locale. Chromium ships without Kurmanji locale data, and Intl would silently fall
 * back to English month names; for a locale it does not know we show a neutral numeric form instead.
 */
export function formatDateTime(date: Date, locale: string): string {
  if (Intl.DateTimeFormat.supportedLocalesOf([locale]).length === 0) return numericDateTime(date);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(date);
}

export function numericDateTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getDate())}.${two(date.getMonth() + 1)}.${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}`;
}
