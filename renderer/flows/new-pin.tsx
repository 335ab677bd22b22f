// A payer's new PIN typed twice (masked), shared by Set PIN (issue 17f) and enrolment (issue 17): the screen holds
// both entries only until the one event that sends them, then clears them; a refused entry starts from the first.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { NewPinError } from '@api/index.ts';
import { Keypad } from './parts.tsx';

export function NewPinEntry({ error, locale, onChoose }: { error: NewPinError | null; locale: string; onChoose: (pin: string, again: string) => void }) {
  const { t } = useTranslation();
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [first, setFirst] = useState(false);
  const submit = () => {
    onChoose(pin, again);
    setPin('');
    setAgain('');
    setFirst(false);
  };
  return (
    <>
      {error && <p className="notice warn" role="alert" data-testid="input-error" data-error={error}>{t(`k.pinSet.error.${error}`)}</p>}
      {!first ? (
        <Keypad label={t('k.pinSet.pin')} value={pin} onChange={setPin} onSubmit={() => setFirst(true)} submitLabel={t('k.action.next')} locale={locale} maxLength={6} masked testId="new-pin" />
      ) : (
        <Keypad label={t('k.pinSet.again')} value={again} onChange={setAgain} onSubmit={submit} submitLabel={t('k.action.next')} locale={locale} maxLength={6} masked testId="new-pin-again" />
      )}
    </>
  );
}
