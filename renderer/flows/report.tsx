// The person's financial report at the counter (issue 17): palm → a month → the person's own PIN → the report as the
// centre answers it now (opening balance, every movement signed, fees 0, closing balance, the centre's time), and
// printing it on the receipt printer. With the link down it says the centre cannot be reached (no copy is kept here).
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ReportState } from '@api/index.ts';
import { formatDateTime, formatMoney, formatNumber, formatPeriod } from '../format.ts';
import { digitText, Keypad, MoneyText, PalmPanel, useFocusHeading, useStepEntry } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function ReportScreen({ state: s, send, locale }: FlowProps<ReportState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [pin, setPin] = useStepEntry(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.report.step.${s.step}`)} step={s.step} kind="report" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
  switch (s.step) {
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.report.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'pin':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.wrong && <p className="notice warn" role="alert" data-testid="pin-wrong">{t('k.auth.wrongPin', { left: formatNumber(s.attemptsLeft ?? 0, locale) })}</p>}
          <Keypad label={t('k.report.pinPrompt')} value={pin} onChange={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} submitLabel={t('k.auth.submit')} locale={locale} maxLength={8} masked testId="pin" />
        </>,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'month':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <p>{t('k.report.monthPrompt')}</p>
          <div className="choices" data-testid="months">
            {s.months.map((m) => (
              <Btn key={m} id={`month-${m}`} onClick={() => send({ type: 'month.choose', month: m })}>
                {formatPeriod(m, locale)}
              </Btn>
            ))}
          </div>
        </>,
        cancel,
      );
    case 'fetching':
      return f(<Busy label={t('k.report.step.fetching')} />);
    case 'refused':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason reason={s.reason} />
        </>,
        <>
          {(s.reason === 'unknown-palm' || s.reason === 'ambiguous' || s.reason === 'centre-unreachable') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {done}
        </>,
      );
    case 'shown': {
      const r = s.report;
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <p data-testid="report-month">
            <strong>{formatPeriod(r.month, locale)}</strong> · <span data-testid="report-as-of">{t('k.report.asOf', { date: formatDateTime(new Date(r.asOfMs), locale) })}</span>
          </p>
          {r.accounts.map((a) => (
            <table key={`${a.account}:${a.currency}`} className="statement" data-testid="report-account" data-account={a.account} data-currency={a.currency}>
              <caption>
                {a.role === 'salary' ? t('k.report.salaryAccount') : t('k.report.account')} <bdi>{a.account}</bdi>
              </caption>
              <tbody>
                <tr data-testid="report-opening">
                  <th scope="row" colSpan={2}>{t('k.report.opening')}</th>
                  <td><MoneyText money={{ minor: a.opening_minor, currency: a.currency as 'SYP' }} locale={locale} /></td>
                </tr>
                {a.movements.length === 0 && (
                  <tr>
                    <td colSpan={3}>{t('k.report.none')}</td>
                  </tr>
                )}
                {a.movements.map((m, i) => (
                  <tr key={i} data-testid="report-row" data-kind={m.kind} data-sign={m.amount_minor < 0 ? -1 : 1}>
                    <td>{formatDateTime(new Date(m.at), locale)}</td>
                    <td>
                      {t(`k.report.kind.${m.kind}`)}
                      {m.period ? ` · ${formatPeriod(m.period, locale)}` : ''}
                    </td>
                    <td>
                      {/* As on the statement: the sign, then the amount, one isolated run. */}
                      <bdi className="money">{m.amount_minor < 0 ? '\u2212' : '+'}{formatMoney({ minor: Math.abs(m.amount_minor), currency: a.currency as 'SYP' }, locale)}</bdi>
                    </td>
                  </tr>
                ))}
                <tr>
                  <th scope="row" colSpan={2}>{t('k.report.fees')}</th>
                  <td><MoneyText money={{ minor: a.fees_minor, currency: a.currency as 'SYP' }} locale={locale} /></td>
                </tr>
                <tr data-testid="report-closing" data-minor={a.closing_minor}>
                  <th scope="row" colSpan={2}>{t('k.report.closing')}</th>
                  <td><strong><MoneyText money={{ minor: a.closing_minor, currency: a.currency as 'SYP' }} locale={locale} /></strong></td>
                </tr>
              </tbody>
            </table>
          ))}
          {r.failed_direct_debits.length > 0 && (
            <section data-testid="report-failed-debits">
              <h3>{t('k.report.failedDebits')}</h3>
              <ul>
                {r.failed_direct_debits.map((d, i) => (
                  <li key={i}>
                    {formatDateTime(new Date(d.at), locale)} · <bdi>{d.biller} {digitText(d.bill, locale)}</bdi> · <MoneyText money={{ minor: d.amount_minor, currency: d.currency as 'SYP' }} locale={locale} />
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>,
        <>
          <Btn id="other-month" onClick={() => send({ type: 'back' })}>{t('k.report.otherMonth')}</Btn>
          {print}
          {done}
        </>,
      );
    }
    case 'finished':
      return null;
  }
}
