// A person's statement after a palm.
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatMoney, formatPeriod } from '../format.ts';
import { type StatementState } from '@api/index.ts';
import { digitText, PalmPanel, useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, PersonCard, Reason, useFlowButtons, type FlowProps } from './frame.tsx';

export function StatementScreen({ state: s, send, locale }: FlowProps<StatementState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.statement.step.${s.step}`)} step={s.step} kind="statement" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { cancel, done } = useFlowButtons(send);
  switch (s.step) {
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.statement.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(<Reason reason={s.reason} />, <><Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>{done}</>);
    case 'shown':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {/* The balance and what is left first: they stay in view above a long list. */}
          <div className="statement-summary">
            <p data-testid="statement-allowance" data-expired={s.allowance?.expired ? 'true' : undefined}>
              {!s.allowance
                ? t('k.statement.noAllowance')
                : s.allowance.expired
                  ? t('k.statement.allowanceExpired', { date: formatDateTime(new Date(s.allowance.expiresAt), locale) })
                  : t('k.statement.allowanceLeft', { amount: formatMoney(s.allowance.left, locale), date: formatDateTime(new Date(s.allowance.expiresAt), locale) })}
            </p>
            {s.allowance?.balance ? (
              <p data-testid="statement-balance" data-minor={s.allowance.balance.amount.minor} data-as-of={s.allowance.balance.asOf}>
                {t('k.statement.balance', { amount: formatMoney(s.allowance.balance.amount, locale), date: formatDateTime(new Date(s.allowance.balance.asOf), locale) })}
                {s.allowance.balance.unsentHere.minor > 0 && (
                  <>
                    <br />
                    <span data-testid="statement-unsent">{t('k.statement.unsentHere', { amount: formatMoney(s.allowance.balance.unsentHere, locale) })}</span>
                  </>
                )}
              </p>
            ) : (
              <p className="note" data-testid="statement-balance-note">{t('k.statement.balanceAtCentre')}</p>
            )}
          </div>
          {s.entries.length === 0 ? (
            <p data-testid="statement-empty">{t('k.statement.empty')}</p>
          ) : (
            <table className="statement" data-testid="statement">
              <caption>{t('k.statement.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('k.receipt.time')}</th>
                  <th scope="col">{t('k.statement.what')}</th>
                  <th scope="col">{t('k.receipt.total')}</th>
                  <th scope="col">{t('k.receipt.number')}</th>
                </tr>
              </thead>
              <tbody>
                {s.entries.map((e) => (
                  <tr key={e.ref} data-testid="statement-row" data-ref={e.ref} data-kind={e.kind} data-sign={e.sign} data-voided={e.voided ? 'true' : undefined} className={e.voided ? 'voided' : undefined}>
                    <td>{formatDateTime(new Date(e.at), locale)}</td>
                    <td>
                      {e.kind === 'payout' && e.period ? t('k.receipt.salaryFor', { period: formatPeriod(e.period, locale) }) : e.kind === 'void' && e.voidOf ? t('k.receipt.voidOf', { seq: digitText(e.voidOf, locale) }) : t(`k.receipt.kind.${e.kind}`)}
                      {e.voided && <strong className="voided-mark"> · {t('k.statement.voided')}</strong>}
                    </td>
                    <td><bdi className="money">{e.sign > 0 ? '+' : '\u2212'}{formatMoney(e.amount, locale)}</bdi></td>
                    <td>{digitText(e.ref, locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>,
        done,
      );
    case 'finished':
      return null;
  }
}

