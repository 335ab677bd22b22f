// Refund and void: receipt number → check the payment → supervisor palm + PIN → recorded.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { type ReversalState } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { AuthPanel, Keypad, MoneyText, ReceiptView, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function ReversalScreen({ state: s, send, locale }: FlowProps<ReversalState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useState('');
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.${s.kind}.title`) + ' · ' + t(`k.reversal.step.${s.step}`)} step={s.step} kind={s.kind} headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  const original = 'original' in s && s.original ? s.original : null;
  const details = original && (
    <dl className="details" data-testid="original">
      <dt>{t('k.receipt.number')}</dt>
      <dd>{formatNumber(original.seq, locale)}</dd>
      <dt>{t('k.reversal.kindOf')}</dt>
      <dd>{t(`k.receipt.kind.${original.kind}`)}</dd>
      {original.amount && (
        <>
          <dt>{t('k.receipt.total')}</dt>
          <dd><MoneyText money={original.amount} locale={locale} /></dd>
        </>
      )}
      {original.personName && (
        <>
          <dt>{t('k.receipt.person')}</dt>
          <dd><bdi lang="ar">{original.personName.ar}</bdi> · <bdi>{original.personName.latin}</bdi></dd>
        </>
      )}
    </dl>
  );
  switch (s.step) {
    case 'lookup':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t(`k.reversal.${s.error}`)}</p>}
          <Keypad label={t('k.reversal.reference')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'reference.set', reference: digits })} submitLabel={t('k.action.next')} locale={locale} testId="reference" />
        </>,
        cancel,
      );
    case 'finding':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'found':
      return f(<>{details}<p className="notice">{t('k.reversal.needsSupervisor')}</p></>, <>{cancel}<Btn id="confirm" kind="primary" onClick={() => send({ type: 'confirm' })}>{t(`k.${s.kind}.confirm`)}</Btn></>);
    case 'override':
      return f(<>{details}<AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" /></>, cancel);
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'refused':
      return f(<>{details}<Reason reason={s.reason} /></>, done);
    case 'done':
      return f(<ReceiptView receipt={s.receipt} locale={locale} />, <>{print}{done}</>);
    case 'finished':
      return null;
  }
}

