// The direct-debit mandate screen (issue 17d): sign a mandate or cancel one's own → subscriber number → the biller
// and (to sign) the maximum per bill → the person's palm → their PIN → receipt. "My mandates": palm → PIN → the
// person's mandates this counter signed (biller, subscriber, maximum per bill), each with "End".
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { currencyExponent, type MandateState } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { digitText, Keypad, MoneyText, PalmPanel, ReceiptView, useFocusHeading, useStepEntry } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function MandateScreen({ state: s, send, locale }: FlowProps<MandateState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useStepEntry(s.step);
  const [pin, setPin] = useStepEntry(s.step);
  const exp = currencyExponent(s.currency);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.mandate.step.${s.step}`)} step={s.step} kind="mandate" headingRef={ref} actions={actions}>
      {s.mode && s.step !== 'done' && <p className="notice" data-testid="mandate-mode" data-mode={s.mode}>{t(`k.mandate.mode.${s.mode}`)}</p>}
      {s.subscriber && s.step !== 'done' && (
        <p className="amount-line">
          <span data-testid="subscriber-is">{t('k.bill.subscriberIs', { n: digitText(s.subscriber, locale) })}</span>
          {s.max && <span>{' · '}{t('k.mandate.maxIs')} <MoneyText money={s.max} locale={locale} testId="amount" /></span>}
        </p>
      )}
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'mode':
      return f(
        <>
          <p className="notice">{t('k.mandate.explain')}</p>
          <div className="tiles">
            <Btn id="mode-sign" kind="primary" onClick={() => send({ type: 'mandate.mode', mode: 'sign' })}>{t('k.mandate.mode.sign')}</Btn>
            <Btn id="mode-cancel" onClick={() => send({ type: 'mandate.mode', mode: 'cancel' })}>{t('k.mandate.mode.cancel')}</Btn>
            <Btn id="mode-mine" onClick={() => send({ type: 'mandate.mode', mode: 'mine' })}>{t('k.mandate.mode.mine')}</Btn>
          </div>
        </>,
        cancel,
      );
    case 'subscriber':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.bill.subscriberInvalid')}</p>}
          <Keypad label={t('k.bill.subscriber')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'subscriber.set', subscriber: digits })} submitLabel={t('k.action.next')} locale={locale} testId="subscriber" />
        </>,
        <Btn id="back" onClick={() => send({ type: 'back' })}>{t('k.action.back')}</Btn>,
      );
    case 'looking-up':
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(<Reason reason={s.reason} />, <><Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>{done}</>);
    case 'terms': {
      const meter = s.meters[0]!;
      return f(
        <>
          <p className="notice" data-testid="mandate-biller" data-biller={meter.billerId}>{t('k.mandate.biller', { biller: meter.billerId })}</p>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.mandate.invalid')}</p>}
          {s.mode === 'sign' ? (
            <Keypad
              label={t('k.mandate.max')}
              value={digits}
              onChange={setDigits}
              onSubmit={() => send({ type: 'mandate.terms', billerId: meter.billerId, maxMinor: Number(digits) * 10 ** exp })}
              submitLabel={t('k.action.next')}
              locale={locale}
              maxLength={9}
              display={<MoneyText money={{ minor: Number(digits || '0') * 10 ** exp, currency: s.currency }} locale={locale} />}
              testId="max"
            />
          ) : (
            <p className="notice">{t('k.mandate.cancelExplain')}</p>
          )}
        </>,
        <>
          <Btn id="back" onClick={() => send({ type: 'back' })}>{t('k.action.back')}</Btn>
          {s.mode === 'cancel' && <Btn id="confirm" kind="primary" onClick={() => send({ type: 'mandate.terms', billerId: meter.billerId })}>{t('k.mandate.mode.cancel')}</Btn>}
        </>,
      );
    }
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.mandate.palmPrompt')} locale={locale} />, cancel);
    case 'pin':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.wrong && <p className="notice warn" role="alert" data-testid="pin-wrong">{t('k.auth.wrongPin', { left: formatNumber(s.attemptsLeft ?? 0, locale) })}</p>}
          <Keypad label={t('k.mandate.pin')} value={pin} onChange={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} submitLabel={t('k.auth.submit')} locale={locale} maxLength={8} masked testId="pin" />
        </>,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'listing':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'list':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.mandates.length === 0 ? (
            <p className="notice" data-testid="mandates-empty">{t('k.mandate.mineEmpty')}</p>
          ) : (
            <table className="statement" data-testid="mandates">
              <caption>{t('k.mandate.mineCaption')}</caption>
              <tbody>
                {s.mandates.map((m) => (
                  <tr key={`${m.billerId}:${m.subscriber}`} data-testid={`held-${m.subscriber}`} data-biller={m.billerId}>
                    <td>{t('k.mandate.biller', { biller: m.billerId })}</td>
                    <td>{t('k.bill.subscriberIs', { n: digitText(m.subscriber, locale) })}</td>
                    <td>{t('k.mandate.maxIs')} <MoneyText money={m.max} locale={locale} /></td>
                    <td><Btn id={`end-${m.subscriber}`} kind="danger" onClick={() => send({ type: 'mandate.end', billerId: m.billerId, subscriber: m.subscriber })}>{t('k.mandate.end')}</Btn></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="notice">{t('k.mandate.mineNote')}</p>
        </>,
        done,
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
          <p className="notice ok" role="status" data-testid="approved">{t(s.mode === 'cancel' ? 'k.mandate.cancelled' : 'k.mandate.signed')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>{print}{done}</>,
      );
    case 'finished':
      return null;
  }
}
