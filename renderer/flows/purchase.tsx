// The purchase screen: amount → customer palm → limits (before the PIN) → PIN → approved or declined, a decline
// saying what is left to pay offline (bills: bill.tsx).
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { currencyExponent, type PurchaseState } from '@api/index.ts';
import { formatMoney } from '../format.ts';
import { AuthPanel, Keypad, MoneyText, PalmPanel, useFocusHeading, useStepEntry } from './parts.tsx';
import { Btn, Busy, Frame, Reason, useFlowButtons, type FlowProps } from './frame.tsx';
import { DeclineStep, PinStep, ReceiptStep } from './tail.tsx';

export function PurchaseScreen({ state: s, send, locale }: FlowProps<PurchaseState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useStepEntry(s.step);
  const [pin, setPin] = useStepEntry(s.step);
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
        <PinStep person={s.person} wrong={s.wrong} attemptsLeft={s.attemptsLeft} label={t('k.purchase.customerPin')} pin={pin} setPin={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} locale={locale} />,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'checking-limits':
    case 'authorizing':
      return f(<Busy label={t('k.busy.limits')} />);
    case 'declined':
      return f(
        <DeclineStep person={s.person} reason={s.reason}>
          {s.canSpend && <p className="notice" data-testid="can-spend" data-minor={s.canSpend.minor}>{t('k.purchase.canSpend', { amount: formatMoney(s.canSpend, locale) })}</p>}
          {s.overrideRefused && <p className="notice warn">{t('k.override.refused')}</p>}
        </DeclineStep>,
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
        <ReceiptStep notice={t('k.purchase.approved')} receipt={s.receipt} locale={locale} />,
        <>
          {print}
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}

