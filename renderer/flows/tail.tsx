// The tail that the money flows share once a person is known: the payer's PIN, a decline with its reason, and the
// receipt with print and done. Purchase, bill and payout screens differ before it, not in it.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Person, Receipt } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { Keypad, ReceiptView } from './parts.tsx';
import { PersonCard, Reason, type ReasonCode } from './frame.tsx';

/** The payer's PIN on the keypad, after a wrong one how many tries are left. */
export function PinStep({ person, wrong, attemptsLeft, label, pin, setPin, onSubmit, locale }: {
  person: Pick<Person, 'nameAr' | 'nameLatin'>;
  wrong: boolean;
  attemptsLeft: number | null;
  label: string;
  pin: string;
  setPin(pin: string): void;
  onSubmit(): void;
  locale: string;
}) {
  const { t } = useTranslation();
  return (
    <>
      <PersonCard nameAr={person.nameAr} nameLatin={person.nameLatin} />
      {wrong && <p className="notice warn" role="alert" data-testid="pin-wrong">{t('k.auth.wrongPin', { left: formatNumber(attemptsLeft ?? 0, locale) })}</p>}
      <Keypad label={label} value={pin} onChange={setPin} onSubmit={onSubmit} submitLabel={t('k.auth.submit')} locale={locale} maxLength={8} masked testId="pin" />
    </>
  );
}

/** A decline: who (when known), why and what to do next; `children` adds what this flow knows more. */
export function DeclineStep({ person, reason, children }: { person: Pick<Person, 'nameAr' | 'nameLatin'> | null; reason: ReasonCode; children?: ReactNode }) {
  return (
    <>
      {person && <PersonCard nameAr={person.nameAr} nameLatin={person.nameLatin} />}
      <Reason reason={reason} />
      {children}
    </>
  );
}

/** The outcome line above the receipt (`tone` ok or warn) and the receipt itself. */
export function ReceiptStep({ notice, tone = 'ok', testId = 'approved', receipt, locale, extra }: {
  notice: string;
  tone?: 'ok' | 'warn';
  testId?: string;
  receipt: Receipt;
  locale: string;
  extra?: Record<string, string>;
}) {
  return (
    <>
      <p className={`notice ${tone}`} role="status" data-testid={testId} {...extra}>{notice}</p>
      <ReceiptView receipt={receipt} locale={locale} />
    </>
  );
}
