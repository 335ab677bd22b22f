// Day close: totals, the cash counted by denomination (a difference needs a reason), the signed Z-report.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { type DayCloseState } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { digitText, MoneyText, ReceiptView, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function DayCloseScreen({ state: s, send, locale }: FlowProps<DayCloseState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [reason, setReason] = useState('');
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.dayClose.step.${s.step}`)} step={s.step} kind="dayClose" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'loading':
      return f(<Busy label={t('k.busy.totals')} />);
    case 'failed':
      return f(<Reason reason={s.reason} />, done);
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'count': {
      const counted = new Map<string, number>();
      for (const c of s.counts) counted.set(c.currency, (counted.get(c.currency) ?? 0) + c.value * c.count);
      return f(
        <>
          <table className="totals" data-testid="totals">
            <caption>
              {s.totals.fromSeq > s.totals.toSeq
                ? t('k.dayClose.totalsEmpty')
                : t('k.dayClose.totals', { from: formatNumber(s.totals.fromSeq, locale), to: formatNumber(s.totals.toSeq, locale) })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('k.statement.what')}</th>
                <th scope="col">{t('k.dayClose.count')}</th>
                <th scope="col">{t('k.receipt.total')}</th>
              </tr>
            </thead>
            <tbody>
              {s.totals.byType.map((x) => (
                <tr key={x.kind} data-testid={`total-${x.kind}`}>
                  <th scope="row">{t(`k.receipt.kind.${x.kind}`)}</th>
                  <td>{formatNumber(x.count, locale)}</td>
                  <td>{x.totals.map((m) => <MoneyText key={m.currency} money={m} locale={locale} />)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <fieldset className="denominations">
            <legend>{t('k.dayClose.countCash')}</legend>
            {s.counts.map((c) => {
              const id = `d-${c.currency}-${c.value}`;
              return (
                <div className="denomination" key={id}>
                  <label htmlFor={id}>
                    <MoneyText money={{ minor: c.value, currency: c.currency }} locale={locale} /> ×
                  </label>
                  <Btn id={`${id}-minus`} onClick={() => send({ type: 'count.set', currency: c.currency, value: c.value, count: Math.max(0, c.count - 1) })}>−</Btn>
                  <input
                    id={id}
                    data-testid={id}
                    inputMode="numeric"
                    // Select the count on focus: typing 5 into a box showing ٠ gives 5 notes, not 50.
                    onFocus={(e) => e.currentTarget.select()}
                    onClick={(e) => e.currentTarget.select()}
                    value={digitText(String(c.count), locale)}
                    onChange={(e) => {
                      const n = Number(e.target.value.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/\D/g, '') || '0');
                      send({ type: 'count.set', currency: c.currency, value: c.value, count: n });
                    }}
                  />
                  <Btn id={`${id}-plus`} onClick={() => send({ type: 'count.set', currency: c.currency, value: c.value, count: c.count + 1 })}>+</Btn>
                </div>
              );
            })}
          </fieldset>
          <dl className="cash" data-testid="cash">
            {s.totals.expectedCash.map((m) => {
              const c = counted.get(m.currency) ?? 0;
              return (
                <div key={m.currency}>
                  <dt>{t('k.dayClose.expected')}</dt>
                  <dd><MoneyText money={m} locale={locale} testId="expected" /></dd>
                  <dt>{t('k.dayClose.counted')}</dt>
                  <dd><MoneyText money={{ minor: c, currency: m.currency }} locale={locale} testId="counted" /></dd>
                  <dt>{t('k.dayClose.difference')}</dt>
                  <dd className={c === m.minor ? 'ok' : 'warn'}><MoneyText money={{ minor: c - m.minor, currency: m.currency }} locale={locale} testId="difference" /></dd>
                </div>
              );
            })}
          </dl>
          <div className="field">
            <label htmlFor="reason">{t('k.dayClose.reason')}</label>
            <textarea id="reason" data-testid="reason-input" value={reason} maxLength={500} aria-invalid={s.error ? true : undefined} aria-describedby={s.error ? 'reason-error' : undefined} onChange={(e) => setReason(e.target.value)} onBlur={() => send({ type: 'reason.set', reason })} />
            {s.error && <p className="field-error" id="reason-error" role="alert" data-testid="reason-required">{t('k.dayClose.reasonRequired')}</p>}
          </div>
        </>,
        <>
          {cancel}
          <Btn
            id="close-confirm"
            kind="primary"
            onClick={() => {
              send({ type: 'reason.set', reason });
              send({ type: 'close.confirm' });
            }}
          >
            {t('k.dayClose.close')}
          </Btn>
        </>,
      );
    }
    case 'closed':
      return f(
        <>
          <p className="notice ok" role="status" data-testid="closed">{t('k.dayClose.closedSigned')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>{print}{done}</>,
      );
    case 'finished':
      return null;
  }
}

