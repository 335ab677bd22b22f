// The bottom bar: scanner, link, queue and receipt printer, each flagged when it is still a placeholder, and one small badge
// counting the placeholder parts in use (their names in its tooltip), instead of a block on every screen.
import { useTranslation } from 'react-i18next';
import type { Status } from '@api/index.ts';
import { formatNumber } from '../format.ts';

export function StatusBar({ status, locale }: { status: Status; locale: string }) {
  const { t } = useTranslation();
  const badge = (on: boolean) => (on ? <span className="badge">{t('status.placeholder')}</span> : null);
  const server = status.link.server === 'in-process' ? t('status.inProcess') : status.link.server === 'none' ? t('status.noCentre') : status.link.server;
  return (
    <footer className="statusbar" aria-label={t('status.label')}>
      <div className="item" data-testid="status-scanner">
        <span className="key">{t('status.scanner')}</span>
        <span>
          {t(`status.scannerKind.${status.scanner.kind}`)} · {t(`status.scannerState.${status.scanner.state}`)}
        </span>
        {badge(status.scanner.placeholder)}
        {status.scanner.module && (
          <span className="badge warn" data-testid="status-scanner-module">
            {t(`status.scannerModule.${status.scanner.module}`)}
          </span>
        )}
      </div>
      <div className="item" data-testid="status-link">
        <span className="key">{t('status.link')}</span>
        <span>
          {t(`status.linkState.${status.link.state}`)} · {server}
        </span>
        {badge(status.link.placeholder)}
        {status.link.insecure && (
          <span className="badge warn" data-testid="status-insecure">
            {t('status.insecure')}
          </span>
        )}
      </div>
      <div className="item" data-testid="status-queue">
        <span className="key">{t('status.queue')}</span>
        <span>{formatNumber(status.queue.length, locale)}</span>
        {badge(status.placeholders.some((p) => p.part === 'queue'))}
      </div>
      <div className="item" data-testid="status-printer" data-state={status.printer.state}>
        <span className="key">{t('status.printer')}</span>
        {/* Without a printer only "file" shows (the demo-parts badge counts it); a real one shows where it is and its state. */}
        <span>
          {status.printer.kind === 'log' ? t('status.printerLog') : <><bdi>{status.printer.name}</bdi> · {t(`status.printerState.${status.printer.state}`)}</>}
        </span>
      </div>
      {status.palms && (
        <div className="item" data-testid="status-palms" data-state={status.palms.state}>
          <span className="key">{t('status.palms')}</span>
          <span>
            {status.palms.state === 'loading'
              ? t('status.palmsState.loading', { pct: formatNumber(status.palms.total ? Math.floor((100 * status.palms.loaded) / status.palms.total) : 0, locale) })
              : status.palms.state === 'ready'
                ? t('status.palmsState.ready', { n: formatNumber(status.palms.loaded, locale) })
                : t(`status.palmsState.${status.palms.state}`)}
          </span>
        </div>
      )}
      <span className="spacer" />
      {status.placeholders.length > 0 && (
        <span className="badge" data-testid="placeholders" title={status.placeholders.map((p) => t(`placeholders.${p.part}`)).join(' · ')}>
          {t('placeholders.badge', { n: formatNumber(status.placeholders.length, locale) })}
        </span>
      )}
    </footer>
  );
}
