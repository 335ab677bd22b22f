// The technician's setup screen: a counter started without a centre shows it instead of the kiosk. It runs the
// host's provisioning (the same as `palmpay terminal provision`), shows its progress, then the terminal id and
// both key fingerprints. A refusal gets its own explanation and keeps everything typed, so nothing is lost.
import './flows.css';
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { HostApi, SetupProgress, SetupResult, SetupView } from '@api/index.ts';
import { ApiCallError, type Transport } from '../api-client.ts';
import { formatNumber } from '../format.ts';
import { Btn, Busy, Frame } from './frame.tsx';
import { useFocusHeading } from './parts.tsx';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

type Step =
  | { step: 'form' }
  | { step: 'working'; progress: SetupProgress }
  | { step: 'failed'; code: string; message: string }
  | { step: 'done'; result: SetupResult };

interface Draft {
  centre: string;
  code: string;
  terminalId: string;
  insecureHttp: boolean;
}

export function SetupScreen({ api, transport, initial, locale, onStarted }: { api: HostApi; transport: Transport; initial: SetupView; locale: string; onStarted(): void }) {
  const { t } = useTranslation();
  const [s, setStep] = useState<Step>({ step: 'form' });
  const [draft, setDraft] = useState<Draft>({ centre: '', code: '', terminalId: initial.terminalId ?? '', insecureHttp: false });
  const ref = useFocusHeading(s.step);

  useEffect(
    () =>
      transport.onEvent((e) => {
        if (e.type === 'setup') setStep((cur) => (cur.step === 'working' ? { step: 'working', progress: e.progress } : cur));
      }),
    [transport],
  );

  const submit = () => {
    setStep({ step: 'working', progress: { phase: 'register', events: 0 } });
    api['setup.provision']({ centre: draft.centre, code: draft.code, terminalId: draft.terminalId, ...(draft.insecureHttp ? { insecureHttp: true } : {}) }).then(
      (result) => setStep({ step: 'done', result }),
      (err: unknown) => setStep({ step: 'failed', code: err instanceof ApiCallError ? err.code : 'INTERNAL', message: (err as Error).message }),
    );
  };

  const f = (title: string, children: ReactNode, actions?: ReactNode) => (
    <Frame title={title} step={s.step} kind="setup" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const field = (key: 'centre' | 'code' | 'terminalId', opts: { readOnly?: boolean; placeholder?: string } = {}) => (
    <div className="field">
      <label htmlFor={`setup-${key}`}>{t(`k.setup.field.${key}`)}</label>
      <input
        id={`setup-${key}`}
        data-testid={`setup-${key}`}
        value={draft[key]}
        dir="ltr"
        lang="en"
        inputMode={key === 'centre' ? 'url' : 'text'}
        autoComplete="off"
        spellCheck={false}
        readOnly={opts.readOnly}
        required
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
      />
    </div>
  );

  switch (s.step) {
    case 'form':
      return f(
        t('k.setup.title'),
        <form
          id="setup-form"
          className="form"
          data-testid="setup-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <p className="notice wide">{t('k.setup.intro')}</p>
          {field('centre')}
          {field('code')}
          {field('terminalId', { readOnly: initial.terminalId !== null })}
          {initial.terminalId !== null && <p className="notice" data-testid="setup-keeps-id">{t('k.setup.keepsId')}</p>}
          <label className="check wide">
            <input type="checkbox" data-testid="setup-insecure" checked={draft.insecureHttp} onChange={(e) => setDraft({ ...draft, insecureHttp: e.target.checked })} />{' '}
            {t('k.setup.field.insecure')}
          </label>
        </form>,
        <button type="submit" form="setup-form" className="primary" data-testid="setup-submit">
          {t('k.setup.submit')}
        </button>,
      );
    case 'working':
      return f(
        t('k.setup.title'),
        <div data-testid="setup-progress" data-phase={s.progress.phase} data-events={s.progress.events}>
          <Busy label={s.progress.phase === 'register' ? t('k.setup.working.register') : t('k.setup.working.feed', { n: formatNumber(s.progress.events, locale) })} />
        </div>,
      );
    case 'failed': {
      const code = oneOf(kEn.setup.error, s.code) ? s.code : 'other';
      return f(
        t('k.setup.title'),
        <>
          <div className="reason" role="alert" data-testid="setup-error" data-code={s.code}>
            <p className="reason-title">{t(`k.setup.error.${code}.title`)}</p>
            <p className="reason-todo">{t(`k.setup.error.${code}.todo`)}</p>
          </div>
          <p className="notice" data-testid="setup-nothing-changed">{t('k.setup.nothingChanged')}</p>
          <details>
            <summary>{t('k.setup.detail')}</summary>
            <p dir="ltr" lang="en" data-testid="setup-detail">{s.message}</p>
          </details>
        </>,
        <Btn id="setup-retry" kind="primary" onClick={() => setStep({ step: 'form' })}>{t('k.action.retry')}</Btn>,
      );
    }
    case 'done': {
      const r = s.result;
      return f(
        t('k.setup.done.title'),
        <>
          <dl className="details" data-testid="setup-done">
            <dt>{t('k.setup.done.terminal')}</dt>
            <dd dir="ltr" data-testid="setup-terminal-id">{r.terminalId}</dd>
            <dt>{t('k.setup.done.key')}</dt>
            <dd dir="ltr" data-testid="setup-key">{r.publicKeyFingerprint}</dd>
            <dt>{t('k.setup.done.centre')}</dt>
            <dd dir="ltr" data-testid="setup-centre">{r.centreUrl}</dd>
            <dt>{t('k.setup.done.centreKey')}</dt>
            <dd dir="ltr" data-testid="setup-centre-key">{r.centreKeyFingerprint}</dd>
          </dl>
          <p className="notice ok" data-testid="setup-feed">{t('k.setup.done.feed', { n: formatNumber(r.feedEvents, locale) })}</p>
          {r.feedError !== null && <p className="notice warn" data-testid="setup-feed-incomplete">{t('k.setup.done.feedIncomplete')}</p>}
          <p className="notice">{t('k.setup.done.note')}</p>
        </>,
        <Btn id="setup-start" kind="primary" onClick={onStarted}>{t('k.setup.done.start')}</Btn>,
      );
    }
  }
}
