// The technician's scanner check: which scanner is in use, and a capture test judged as a payment would judge it.
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { type ScannerCheckState, type ScannerIdentity, type ScannerTest } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { useFocusHeading } from './parts.tsx';
import { Btn, Busy, Frame, useFlowButtons, type FlowProps } from './frame.tsx';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

export function ScannerCheckScreen({ state: s, send, locale }: FlowProps<ScannerCheckState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.scannerCheck.step.${s.step}`)} step={s.step} kind="scannerCheck" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const { done } = useFlowButtons(send);
  switch (s.step) {
    case 'reading':
      return f(<Busy label={t('k.scannerCheck.reading')} />);
    case 'unavailable':
      return f(
        <p className="reason" data-testid="scanner-check-unavailable" data-code={s.code}>{t('k.scannerCheck.unavailable', { message: s.message, code: s.code })}</p>,
        <><Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>{done}</>,
      );
    case 'ready':
    case 'testing':
      return f(
        <>
          <Identity identity={s.identity} locale={locale} />
          {s.step === 'testing' ? <Busy label={t('k.scannerCheck.testing')} /> : <p className="note">{t('k.scannerCheck.testHint')}</p>}
          {s.last && <TestResult result={s.last} locale={locale} />}
        </>,
        <>
          <Btn id="capture-test" kind="primary" disabled={s.step === 'testing'} onClick={() => send({ type: 'capture.test' })}>{t('k.scannerCheck.test')}</Btn>
          {done}
        </>,
      );
    default:
      return f(null);
  }
}

function Identity({ identity: i, locale }: { identity: ScannerIdentity; locale: string }) {
  const { t } = useTranslation();
  const row = (label: string, value: ReactNode, id: string) => (
    <tr key={id}>
      <th scope="row">{label}</th>
      <td data-testid={`scanner-${id}`} dir="auto">{value}</td>
    </tr>
  );
  return (
    <table className="scanner-identity" data-testid="scanner-identity">
      <tbody>
        {row(t('k.scannerCheck.transport'), t(`k.scannerCheck.transports.${i.transport}`), 'transport')}
        {row(t('k.scannerCheck.where'), i.where, 'where')}
        {row(t('k.scannerCheck.model'), i.model, 'model')}
        {row(t('k.scannerCheck.serial'), i.serial, 'serial')}
        {row(t('k.scannerCheck.firmware'), i.firmware, 'firmware')}
        {row(t('k.scannerCheck.captures'), t(`k.scannerCheck.capturesKinds.${i.captures}`), 'captures')}
        {i.captures === 'frame' && row(t('k.scannerCheck.size'), `${formatNumber(i.width, locale)} × ${formatNumber(i.height, locale)}`, 'size')}
        {i.capabilities.length > 0 && row(t('k.scannerCheck.capabilities'), i.capabilities.join(', '), 'capabilities')}
        {i.users !== null && row(t('k.scannerCheck.users'), formatNumber(i.users, locale), 'users')}
      </tbody>
    </table>
  );
}

function TestResult({ result: r, locale }: { result: ScannerTest; locale: string }) {
  const { t } = useTranslation();
  if (!r.ok) return <p className="reason" data-testid="scanner-test" data-ok="false" data-code={r.code}>{t('k.scannerCheck.failed', { message: r.message, code: r.code })}</p>;
  return (
    <div className="scanner-result" data-testid="scanner-test" data-ok="true" data-verdict={r.frame?.verdict ?? 'module'}>
      <div>
        <p>{t('k.scannerCheck.captureMs', { ms: formatNumber(r.captureMs, locale) })}</p>
        {r.frame && (
          <p data-testid="scanner-verdict">
            {r.frame.verdict === 'ok'
              ? t('k.scannerCheck.verdictOk', { quality: formatNumber(r.frame.quality, locale) })
              : t('k.scannerCheck.verdictBad', { why: oneOf(kEn.fta, r.frame.verdict) ? t(`k.fta.${r.frame.verdict}`) : t('k.fta.other') })}
          </p>
        )}
        {r.moduleStatus !== null && <p data-testid="scanner-module-status">{t('k.scannerCheck.moduleStatus', { status: r.moduleStatus })}</p>}
      </div>
      {r.frame && (
        <figure className="scanner-preview">
          <img src={r.frame.preview} alt={t('k.scannerCheck.preview')} data-testid="scanner-preview" />
          <figcaption>{t('k.scannerCheck.preview')}</figcaption>
        </figure>
      )}
    </div>
  );
}
