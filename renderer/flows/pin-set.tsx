// Setting a payer's PIN at a supervised counter (issue 17f): a supervisor's palm and PIN (never the cashier) → the
// payer's palm → the new PIN twice (masked) → receipt. The PIN is sent once, in the one event that sets it.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { PinSetState } from '@api/index.ts';
import { AuthPanel, Keypad, PalmPanel, ReceiptView, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function PinSetScreen({ state: s, send, locale }: FlowProps<PinSetState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [first, setFirst] = useState(false);
  // Sent once, then cleared: nothing typed lingers on the screen, and a refused entry starts again from the first.
  const submit = () => {
    send({ type: 'pin.new', pin, again });
    setPin('');
    setAgain('');
    setFirst(false);
  };
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.pinSet.step.${s.step}`)} step={s.step} kind="pinSet" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'override':
      return f(
        <>
          <p className="notice" data-testid="pin-set-explain">{t('k.pinSet.explain')}</p>
          <AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" />
        </>,
        cancel,
      );
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.pinSet.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'pin':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <p className="notice" data-testid="pin-had" data-had={s.hadPin ? '1' : '0'}>{s.hadPin ? t('k.pinSet.hadPin') : t('k.pinSet.noPin')}</p>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error" data-error={s.error}>{t(`k.pinSet.error.${s.error}`)}</p>}
          {/* The PIN, then the same again: the screen holds both until the one event that sends them. */}
          {!first ? (
            <Keypad label={t('k.pinSet.pin')} value={pin} onChange={setPin} onSubmit={() => setFirst(true)} submitLabel={t('k.action.next')} locale={locale} maxLength={6} masked testId="new-pin" />
          ) : (
            <Keypad label={t('k.pinSet.again')} value={again} onChange={setAgain} onSubmit={submit} submitLabel={t('k.action.next')} locale={locale} maxLength={6} masked testId="new-pin-again" />
          )}
        </>,
        cancel,
      );
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'declined':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason reason={s.reason} />
        </>,
        <>
          {(s.reason === 'unknown-palm' || s.reason === 'ambiguous') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {done}
        </>,
      );
    case 'done':
      return f(
        <>
          <p className="notice ok" role="status" data-testid="approved">{t('k.pinSet.done')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>{print}{done}</>,
      );
    case 'finished':
      return null;
  }
}
