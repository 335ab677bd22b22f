// The meter reading screen (issue 17d): subscriber number → the meter's last reading → the reading typed → a
// supervisor's palm and PIN when it is below the last one → the subscriber's (payer's) palm → receipt.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ReadingState } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { AuthPanel, digitText, Keypad, PalmPanel, ReceiptView, useFocusHeading, useStepEntry } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function ReadingScreen({ state: s, send, locale }: FlowProps<ReadingState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useStepEntry(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.reading.step.${s.step}`)} step={s.step} kind="reading" headingRef={ref} actions={actions}>
      {s.subscriber && s.step !== 'done' && (
        <p className="amount-line">
          <span data-testid="subscriber-is">{t('k.bill.subscriberIs', { n: digitText(s.subscriber, locale) })}</span>
          {s.reading !== null && s.step !== 'reading' && (
            <span data-testid="reading-is">{' · '}{t('k.reading.readingIs', { n: formatNumber(s.reading, locale) })}</span>
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
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(<Reason reason={s.reason} />, <><Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>{done}</>);
    case 'reading': {
      // One meter per biller of the region (nearly always one): the reading is typed for the first; others are listed.
      const meter = s.meters[0]!;
      return f(
        <>
          <ul className="lines" data-testid="meters">
            {s.meters.map((m) => (
              <li key={m.billerId} data-testid="meter" data-biller={m.billerId}>
                <span><bdi>{m.billerId}</bdi></span>
                <span data-testid={`last-reading-${m.billerId}`} data-last={m.lastReading ?? ''}>
                  {m.lastReading === null ? t('k.reading.noLast') : t('k.reading.last', { n: formatNumber(m.lastReading, locale) })}
                </span>
              </li>
            ))}
          </ul>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.reading.invalid')}</p>}
          <p className="notice">{t('k.reading.lowerNeedsSupervisor')}</p>
          <Keypad label={t('k.reading.reading')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'reading.set', billerId: meter.billerId, reading: digits })} submitLabel={t('k.action.next')} locale={locale} maxLength={12} testId="reading" />
        </>,
        <Btn id="back" onClick={() => send({ type: 'back' })}>{t('k.action.cancel')}</Btn>,
      );
    }
    case 'override':
      return f(
        <>
          <p className="notice warn" data-testid="reading-lower">{t('k.reading.lower', { n: formatNumber(s.reading ?? 0, locale), last: formatNumber(s.lastReading ?? 0, locale) })}</p>
          <AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" />
        </>,
        cancel,
      );
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.reading.palmPrompt')} locale={locale} />, cancel);
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
          <p className="notice ok" role="status" data-testid="approved">{t('k.reading.recorded')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>{print}{done}</>,
      );
    case 'finished':
      return null;
  }
}
