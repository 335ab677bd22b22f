// A person's statement after a palm.
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../format.ts';
import { type StatementState } from '@api/index.ts';
import { digitText, MoneyText, PalmPanel, useFocusHeading } from './parts.tsx';
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
                  <tr key={e.ref}>
                    <td>{formatDateTime(new Date(e.at), locale)}</td>
                    <td>{t(`k.receipt.kind.${e.kind}`)}</td>
                    <td><MoneyText money={e.amount} locale={locale} /></td>
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

