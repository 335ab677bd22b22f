// The purchase screen: amount → customer palm → limits (before the PIN) → PIN → approved or declined, a decline
// saying what is left to pay offline (bills: bill.tsx).
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { currencyExponent, type PurchaseState } from '@api/index.ts';
import { formatMoney, formatNumber } from '../format.ts';
import { AuthPanel, Keypad, MoneyText, PalmPanel, ReceiptView, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function PurchaseScreen({ state: s, send, locale }: FlowProps<PurchaseState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useState('');
  const [pin, setPin] = useState('');
  useEffect(() => {
    setDigits('');
    setPin('');
  }, [s.step]);
  const kind = s.kind;
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.purchase.step.${s.step}`)} step={s.step} kind={kind} headingRef={ref} actions={actions}>
      {s.amount && s.step !== 'approved' && (
        <p className="amount-line">
          {t('k.purchase.amountIs')} <MoneyText money={s.amount} locale={locale} testId="amount" />
        </p>
      )}
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  const exp = currencyExponent(s.currency);
  switch (s.step) {
    case 'amount':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.purchase.amountInvalid')}</p>}
          <Keypad
            label={t('k.purchase.amount')}
            value={digits}
            onChange={setDigits}
            onSubmit={() => send({ type: 'amount.set', minor: Number(digits) * 10 ** exp })}
            submitLabel={t('k.action.next')}
            locale={locale}
            maxLength={9}
            display={<MoneyText money={{ minor: Number(digits || '0') * 10 ** exp, currency: s.currency }} locale={locale} />}
            testId="amount"
          />
        </>,
        cancel,
      );
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.purchase.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'pin':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.wrong && <p className="notice warn" role="alert" data-testid="pin-wrong">{t('k.auth.wrongPin', { left: formatNumber(s.attemptsLeft ?? 0, locale) })}</p>}
          <Keypad label={t('k.purchase.customerPin')} value={pin} onChange={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} submitLabel={t('k.auth.submit')} locale={locale} maxLength={8} masked testId="pin" />
        </>,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'checking-limits':
    case 'authorizing':
      return f(<Busy label={t('k.busy.limits')} />);
    case 'declined':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason reason={s.reason} />
          {s.canSpend && <p className="notice" data-testid="can-spend" data-minor={s.canSpend.minor}>{t('k.purchase.canSpend', { amount: formatMoney(s.canSpend, locale) })}</p>}
          {s.overrideRefused && <p className="notice warn">{t('k.override.refused')}</p>}
        </>,
        <>
          {(s.reason === 'unknown-palm' || s.reason === 'ambiguous') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {s.overridable && <Btn id="override-start" onClick={() => send({ type: 'override.start' })}>{t('k.override.ask')}</Btn>}
          {done}
        </>,
      );
    case 'override':
      return f(
        <>
          <Reason reason={s.reason} />
          <AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" />
        </>,
        cancel,
      );
    case 'approved':
      return f(
        <>
          <p className="notice ok" role="status" data-testid="approved">{t('k.purchase.approved')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>
          {print}
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}

