// The first operator from the lock screen (issue 14): the technician types the one-time operator enrolment code the
// centre issued for this counter; the host proves it online (`kiosk.enrolOperator`) and, if the centre accepts it,
// the enrolment screens run for the operator it names. Each refusal gets its own explanation and keeps what was
// typed. The code stays in this component's state only: it is sent once and never shown elsewhere or logged.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { OPERATOR_CODE_PATTERN } from '@api/index.ts';
import { ApiCallError } from '../api-client.ts';
import { formatNumber } from '../format.ts';
import { Btn, Busy, Frame } from './frame.tsx';
import { useFocusHeading } from './parts.tsx';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

type Step = { step: 'form' } | { step: 'checking' } | { step: 'failed'; code: string };

/** Characters in a code (the length OPERATOR_CODE_PATTERN asks for), shown in the screen's digits. */
const CODE_LENGTH = 12;

export function OperatorCodeScreen({ enrol, onBack, locale }: { enrol(code: string): Promise<void>; onBack(): void; locale: string }) {
  const { t } = useTranslation();
  const [s, setStep] = useState<Step>({ step: 'form' });
  const [code, setCode] = useState('');
  const ref = useFocusHeading(s.step);
  const clean = code.trim();
  const wellFormed = OPERATOR_CODE_PATTERN.test(clean);

  const submit = () => {
    if (!wellFormed) return;
    setStep({ step: 'checking' });
    // On success the enrolment screen replaces this one (the parent unmounts it).
    enrol(clean).catch((err: unknown) => setStep({ step: 'failed', code: err instanceof ApiCallError ? err.code : 'other' }));
  };

  const form = (
    <form
      id="opcode-form"
      className="form"
      data-testid="opcode-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <p className="notice wide">{t('k.operatorCode.intro')}</p>
      <div className="field wide">
        <label htmlFor="opcode">{t('k.operatorCode.field', { n: formatNumber(CODE_LENGTH, locale) })}</label>
        <input
          id="opcode"
          className="opcode"
          data-testid="opcode"
          value={code}
          dir="ltr"
          lang="en"
          maxLength={32}
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          onChange={(e) => setCode(e.target.value)}
        />
      </div>
    </form>
  );
  const actions = (
    <>
      <Btn id="opcode-back" onClick={onBack}>{t('k.operatorCode.back')}</Btn>
      <button type="submit" form="opcode-form" className="primary" data-testid="opcode-submit" disabled={!wellFormed || s.step === 'checking'}>
        {t('k.operatorCode.submit')}
      </button>
    </>
  );

  if (s.step === 'checking') {
    return (
      <Frame title={t('k.operatorCode.title')} step="checking" kind="operatorCode" headingRef={ref}>
        <Busy label={t('k.operatorCode.checking')} />
      </Frame>
    );
  }
  const reason = s.step === 'failed' ? (oneOf(kEn.operatorCode.error, s.code) ? s.code : 'other') : null;
  return (
    <Frame title={t('k.operatorCode.title')} step={s.step} kind="operatorCode" headingRef={ref} actions={actions}>
      {reason && s.step === 'failed' && (
        <div className="reason" role="alert" data-testid="opcode-error" data-code={s.code}>
          <p className="reason-title">{t(`k.operatorCode.error.${reason}.title`)}</p>
          <p className="reason-todo">{t(`k.operatorCode.error.${reason}.todo`, { n: formatNumber(CODE_LENGTH, locale) })}</p>
        </div>
      )}
      {form}
    </Frame>
  );
}
