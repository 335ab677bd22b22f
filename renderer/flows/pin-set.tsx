// Setting a payer's PIN at a supervised counter (issue 17f): a supervisor's palm and PIN (never the cashier) → the
// payer's palm → the new PIN twice (masked, new-pin.tsx) → receipt. The PIN is sent once, in the one event that sets it.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { PinSetState } from '@api/index.ts';
import { AuthPanel, PalmPanel, ReceiptView, useFocusHeading } from './parts.tsx';
import { NewPinEntry } from './new-pin.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function PinSetScreen({ state: s, send, locale }: FlowProps<PinSetState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
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
          <NewPinEntry error={s.error} locale={locale} onChoose={(pin, again) => send({ type: 'pin.new', pin, again })} />
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
