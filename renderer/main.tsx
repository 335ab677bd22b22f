// Entry: pick the transport (Electron bridge or WebSocket), load settings, status and whether setup is needed, start i18n, render.
// Until the host answers (or if it refuses us: a wrong or missing token), a translated notice shows instead.
import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider, useTranslation } from 'react-i18next';
import { createApi, defaultTransport } from './api-client.ts';
import { App } from './App.tsx';
import { initI18n, textDirection } from './i18n/index.ts';

function Connecting() {
  const { t } = useTranslation();
  return (
    <div className="connecting" role="status" data-testid="connecting">
      {t('status.host.connecting')}
    </div>
  );
}

async function boot(): Promise<void> {
  const element = document.getElementById('root');
  if (!element) throw new Error('no #root element');
  const root = createRoot(element);
  const i18n = await initI18n('ar');
  const render = (node: ReactNode) =>
    root.render(
      <StrictMode>
        <I18nextProvider i18n={i18n}>{node}</I18nextProvider>
      </StrictMode>,
    );
  render(<Connecting />);

  const transport = defaultTransport();
  const api = createApi(transport);
  const [settings, status, setup] = await Promise.all([api['settings.get'](), api['status.get'](), api['setup.get']()]);
  await i18n.changeLanguage(settings.language);
  document.documentElement.lang = settings.language;
  document.documentElement.dir = textDirection(settings.language);
  render(<App api={api} transport={transport} initialSettings={settings} initialStatus={status} initialSetup={setup} />);
}

void boot();
