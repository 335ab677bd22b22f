// The salary payout screen: palm → periods owed → cash counted → record → drawer → the employee's palm again → receipt.
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { type PayoutState } from '@api/index.ts';
import { formatNumber, formatPeriod } from '../format.ts';
import { MoneyText, PalmPanel, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';
import { ReceiptStep } from './tail.tsx';

export function PayoutScreen({ state: s, send, locale }: FlowProps<PayoutState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.payout.step.${s.step}`)} step={s.step} kind="payout" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.payout.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason reason={s.reason} />
        </>,
        <>
          {(s.reason === 'ambiguous' || s.reason === 'unknown-palm') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {done}
        </>,
      );
    case 'review':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <h2>{t('k.payout.owed')}</h2>
          <ul className="lines" data-testid="periods">
            {s.vouchers.map((v) => (
              <li key={v.id}>
                <span>{t('k.payout.period', { period: formatPeriod(v.period, locale) })}</span>
                <MoneyText money={v.amount} locale={locale} />
              </li>
            ))}
          </ul>
          <p className="total">
            {t('k.payout.total')} {s.totals.map((m) => <MoneyText key={m.currency} money={m} locale={locale} testId="payout-total" />)}
          </p>
          {s.elsewhere > 0 && <p className="notice">{t('k.payout.elsewhere', { count: s.elsewhere, n: formatNumber(s.elsewhere, locale) })}</p>}
          <p className="notice">{t('k.payout.countFirst')}</p>
        </>,
        <>
          {cancel}
          <Btn id="cash-confirmed" kind="primary" onClick={() => send({ type: 'cash.confirmed' })}>
            {t('k.payout.cashCounted')}
          </Btn>
        </>,
      );
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'failed':
      return f(<Reason reason={s.reason} />, done);
    case 'drawer':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.recovered && (
            <p className="notice warn" role="alert" data-testid="recovered">
              {t('k.payout.recovered', { seq: formatNumber(s.receipt.seq, locale) })}
            </p>
          )}
          <p>
            {t('k.payout.recordedAs', { seq: formatNumber(s.receipt.seq, locale) })} {s.receipt.total && <MoneyText money={s.receipt.total} locale={locale} />}
          </p>
          {s.opening && <Busy label={t('k.busy.drawer')} />}
          {s.drawerError && (
            <p className="notice warn" role="alert" data-testid="drawer-error">
              {t('k.payout.drawerError')}
            </p>
          )}
        </>,
        !s.opening && <Btn id="drawer-open" kind="primary" onClick={() => send({ type: 'drawer.open' })}>{t('k.payout.openDrawer')}</Btn>,
      );
    case 'confirm':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <PalmPanel guidance={s.guidance} prompt={t('k.payout.confirmPrompt')} locale={locale} />
          {s.attempts > 0 && (
            <p className="notice warn" role="alert">
              {t('k.payout.confirmFailed', { n: formatNumber(s.attempts, locale) })}
            </p>
          )}
        </>,
        s.skippable === true && <Btn id="confirm-skip" onClick={() => send({ type: 'confirm.skip' })}>{t('k.payout.skip')}</Btn>,
      );
    case 'receipt':
      return f(
        <ReceiptStep
          notice={t(s.confirmed ? 'k.payout.confirmed' : 'k.payout.unconfirmed')}
          tone={s.confirmed ? 'ok' : 'warn'}
          testId="confirmed"
          extra={{ 'data-confirmed': String(s.confirmed) }}
          receipt={s.receipt}
          locale={locale}
        />,
        <>
          {print}
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}

