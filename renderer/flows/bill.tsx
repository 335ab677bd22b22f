// The bill payment screen: subscriber number → the bills due (cycle, meter readings, amount, due date) → pay one or
// all at their exact amounts (no amount is typed) → the payer's palm → the payer's PIN → receipt with the bill ids
// and the fee, 0. Each refusal (unknown number, nothing due, bills too old, payer without a PIN…) has its screen.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { billKey, type BillState } from '@api/index.ts';
import { formatDate, formatNumber, formatPeriod } from '../format.ts';
import { digitText, Keypad, MoneyText, PalmPanel, useFocusHeading, useStepEntry } from './parts.tsx';
import { Btn, Busy, Frame, Reason, useFlowButtons, type FlowProps } from './frame.tsx';
import { DeclineStep, PinStep, ReceiptStep } from './tail.tsx';

const HOUR = 3600_000;

export function BillScreen({ state: s, send, locale }: FlowProps<BillState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useStepEntry(s.step);
  const [pin, setPin] = useStepEntry(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.bill.step.${s.step}`)} step={s.step} kind="bill" headingRef={ref} actions={actions}>
      {s.subscriber && s.step !== 'paid' && (
        <p className="amount-line">
          <span data-testid="subscriber-is">{t('k.bill.subscriberIs', { n: digitText(s.subscriber, locale) })}</span>
          {s.total && (
            <span>
              {' · '}
              {t('k.bill.toPay')} <MoneyText money={s.total} locale={locale} testId="amount" />
            </span>
          )}
        </p>
      )}
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'subscriber':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.bill.subscriberInvalid')}</p>}
          <Keypad label={t('k.bill.subscriber')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'subscriber.set', subscriber: digits })} submitLabel={t('k.action.next')} locale={locale} testId="subscriber" />
        </>,
        cancel,
      );
    case 'looking-up':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(<Reason reason={s.reason} />, (
        <>
          <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>
          {done}
        </>
      ));
    case 'bills': {
      const hours = Math.floor(s.ageMs / HOUR);
      return f(
        <>
          <p className="notice" data-testid="bills-age" data-age-ms={s.ageMs}>
            {hours < 1 ? t('k.bill.ageFresh') : t('k.bill.ageHours', { n: formatNumber(hours, locale) })}
          </p>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.bill.choiceInvalid')}</p>}
          <ul className="lines bills" data-testid="bills">
            {s.due.map((b) => (
              <li key={billKey(b)} data-testid="bill" data-bill={b.billId}>
                <span>
                  <strong>{t('k.bill.billId', { bill: b.billId })}</strong> · <bdi>{b.billerId}</bdi>
                  <br />
                  {t('k.bill.cycle', { cycle: formatPeriod(b.cycle, locale) })} · {t('k.bill.due', { date: formatDate(b.dueDate, locale) })}
                  <br />
                  {t('k.bill.reading', { previous: formatNumber(b.previousReading, locale), current: formatNumber(b.currentReading, locale) })}
                </span>
                <span>
                  <MoneyText money={b.amount} locale={locale} testId={`bill-amount-${b.billId}`} />
                  <Btn id={`pay-${b.billId}`} onClick={() => send({ type: 'bills.choose', billIds: [billKey(b)] })}>{t('k.bill.payOne')}</Btn>
                </span>
              </li>
            ))}
          </ul>
          <p className="notice">{t('k.bill.exact')}</p>
        </>,
        <>
          <Btn id="back" onClick={() => send({ type: 'back' })}>{t('k.action.cancel')}</Btn>
          <Btn id="pay-all" kind="primary" onClick={() => send({ type: 'bills.choose', billIds: s.due.map(billKey) })}>
            {t('k.bill.payAll', { n: formatNumber(s.due.length, locale) })}
          </Btn>
        </>,
      );
    }
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.bill.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'pin':
      return f(
        <PinStep person={s.person} wrong={s.wrong} attemptsLeft={s.attemptsLeft} label={t('k.bill.payerPin')} pin={pin} setPin={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} locale={locale} />,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'paying':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'declined':
      return f(
        <DeclineStep person={s.person} reason={s.reason} />,
        <>
          {(s.reason === 'unknown-palm' || s.reason === 'ambiguous' || s.reason === 'bill-changed') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {done}
        </>,
      );
    case 'paid':
      return f(
        <ReceiptStep notice={t('k.bill.paid')} receipt={s.receipt} locale={locale} />,
        <>
          {print}
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}
