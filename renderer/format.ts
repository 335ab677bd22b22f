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

export function formatDateTime(date: Date, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(date);
}
