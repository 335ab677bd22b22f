// Entry of the printed receipt: the host's receipt printer (src/host/adapters/receipt-picture.ts) loads this page in
// headless Chromium with the receipt in the URL fragment and takes a picture of it, which the ESC/POS driver prints
// as a raster image. So paper shows the very layout the screen shows (ReceiptView), and Arabic is shaped and laid
// right to left by the browser, which printer code pages cannot do. No API, no host: everything is in the fragment.
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import type { Digits, Language, Receipt } from '@api/index.ts';
import { ReceiptView } from './flows/parts.tsx';
import { initI18n, intlLocale, textDirection } from './i18n/index.ts';

interface PrintPayload {
  receipt: Receipt;
  language: Language;
  digits: Digits;
  copy: boolean;
  paperDots: number;
}

function payload(): PrintPayload {
  const b64 = location.hash.slice(1).replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as PrintPayload;
}

async function render(): Promise<void> {
  const p = payload();
  const i18n = await initI18n(p.language);
  document.documentElement.lang = p.language;
  document.documentElement.dir = textDirection(p.language);
  document.documentElement.style.setProperty('--paper-dots', `${p.paperDots}px`);
  const root = createRoot(document.getElementById('root')!);
  flushSync(() =>
    root.render(
      <I18nextProvider i18n={i18n}>
        <ReceiptView receipt={p.receipt} locale={intlLocale(p.language, p.digits)} copy={p.copy} />
      </I18nextProvider>,
    ),
  );
  document.body.dataset.ready = 'true';
}

void render();
