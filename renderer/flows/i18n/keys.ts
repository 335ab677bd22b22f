// Guards for codes that arrive over the wire (states are checked loosely there): a code is turned into a
// translation key only when the catalogue has it, so the compiler checks the key and the screen never shows a raw
// key for a code it does not know.
import type { ParseKeys } from 'i18next';
import { kEn } from './en.ts';

export type TKey = ParseKeys;

/** True when `code` is one of the keys of `table` (a part of the English catalogue, which defines the shape). */
export function oneOf<T extends object>(table: T, code: string | null | undefined): code is Extract<keyof T, string> {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

/** The key of a receipt line's label ("receipt.salaryFor" → "k.receipt.salaryFor"), or null when unknown. */
export type ReceiptKey = Extract<TKey, `k.receipt.${string}`>;

export function receiptLineKey(label: string): ReceiptKey | null {
  let node: unknown = kEn;
  for (const part of label.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return null;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' && label.startsWith('receipt.') ? (`k.${label}` as ReceiptKey) : null;
}
