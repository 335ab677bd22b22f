// The shell: top bar (brand, clock, language), placeholder notice, the current screen (the setup screen on a counter
// not yet provisioned, else the kiosk), the status bar.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Digits, HostApi, HostEvent, Language, Settings, SetupView, Status } from '@api/index.ts';
import type { Transport } from './api-client.ts';
import { LanguageSwitch } from './components/LanguageSwitch.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { SimPanel } from './components/SimPanel.tsx';
import { formatDateTime } from './format.ts';
import { intlLocale, textDirection } from './i18n/index.ts';
import { Kiosk } from './flows/Kiosk.tsx';
import { SetupScreen } from './flows/setup.tsx';
import { LinkContext, PalmsContext } from './flows/link-context.ts';

interface Props {
  api: HostApi;
  transport: Transport;
  initialSettings: Settings;
  initialStatus: Status;
  /** A counter without a centre shows the technician's setup screen until it is provisioned. */
  initialSetup: SetupView;
}

export function App({ api, transport, initialSettings, initialStatus, initialSetup }: Props) {
  const { t, i18n } = useTranslation();
  const [settings, setSettings] = useState(initialSettings);
  const [status, setStatus] = useState(initialStatus);
  const [connected, setConnected] = useState(true);
  const [inSetup, setInSetup] = useState(initialSetup.needed);
  const [now, setNow] = useState(() => new Date());
  const locale = intlLocale(settings.language, settings.digits);

  // Host events keep settings and the status bar current.
  useEffect(
    () =>
      transport.onEvent((event: HostEvent) => {
        if (event.type === 'settings') setSettings(event.settings);
        else if (event.type === 'scanner') setStatus((s) => ({ ...s, scanner: event.scanner }));
        else if (event.type === 'link') setStatus((s) => ({ ...s, link: event.link }));
        else if (event.type === 'queue') setStatus((s) => ({ ...s, queue: event.queue }));
        else if (event.type === 'printer') setStatus((s) => ({ ...s, printer: event.printer }));
        else if (event.type === 'palms') setStatus((s) => ({ ...s, palms: event.palms }));
      }),
    [transport],
  );
  useEffect(() => transport.onConnection?.(setConnected), [transport]);
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);

  // Language drives i18next, <html lang> and <html dir>.
  useEffect(() => {
    void i18n.changeLanguage(settings.language);
    document.documentElement.lang = settings.language;
    document.documentElement.dir = textDirection(settings.language);
    document.title = i18n.t('app.title', { lng: settings.language });
  }, [settings.language, i18n]);

  const chooseLanguage = (language: Language) => void api['settings.setLanguage']({ language }).then(setSettings);
  const chooseDigits = (digits: Digits) => void api['settings.setDigits']({ digits }).then(setSettings);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">{t('app.title')}</span>
        <span className="tagline">{t('app.tagline')}</span>
        <span className="spacer" />
        <time className="clock" dateTime={now.toISOString()} data-testid="clock">
          {formatDateTime(now, locale)}
        </time>
        <LanguageSwitch language={settings.language} digits={settings.digits} onLanguage={chooseLanguage} onDigits={chooseDigits} />
      </header>
      {!connected && (
        <div className="banner" role="alert">
          {t('status.host.lost')}
        </div>
      )}
      <main>
        <LinkContext.Provider value={status.link.state}>
          <PalmsContext.Provider value={status.palms?.state ?? 'none'}>
          {inSetup ? (
            <SetupScreen api={api} transport={transport} initial={initialSetup} locale={locale} onStarted={() => setInSetup(false)} />
          ) : (
            <Kiosk api={api} transport={transport} locale={locale} />
          )}
          </PalmsContext.Provider>
        </LinkContext.Provider>
      </main>
      <SimPanel api={api} />
      <StatusBar status={status} locale={locale} />
    </div>
  );
}
