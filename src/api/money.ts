// Money helpers shared by host and renderer. Amounts are integers in minor units; the exponent (how many
// minor units make one major unit) comes from ISO 4217, not from Intl, whose display digits differ
// (Intl shows SYP with 0 decimals, ISO 4217 defines 2).
import type { Money } from './schemas.ts';

export const CURRENCY_EXPONENT: Readonly<Record<string, number>> = {
  SYP: 2,
  USD: 2,
  EUR: 2,
  TRY: 2,
  IQD: 3,
};

export function currencyExponent(currency: string): number {
  const e = CURRENCY_EXPONENT[currency];
  if (e === undefined) throw new RangeError(`unknown currency ${currency}`);
  return e;
}

/** Exact decimal string of an amount ("-12.05"), built from the integer: no float ever touches it. */
export function minorToDecimalString(money: Money): string {
  const e = currencyExponent(money.currency);
  const negative = money.minor < 0;
  const digits = String(Math.abs(money.minor)).padStart(e + 1, '0');
  const whole = digits.slice(0, digits.length - e);
  const frac = digits.slice(digits.length - e);
  return `${negative ? '-' : ''}${whole}${e > 0 ? '.' + frac : ''}`;
}
