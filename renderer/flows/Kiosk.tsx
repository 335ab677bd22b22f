// The kiosk's main area: the home tiles (the attract screen), the operator sign-in (palm + PIN), and the running
// flow's screen. After a quiet spell it returns to the home screen by itself; the host locks the session too.
import './flows.css';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DayCloseState, EnrolmentState, FlowKind, HostApi, PayoutState, PurchaseState, ReversalState, SessionState, StatementState } from '@api/index.ts';
import type { Transport } from '../api-client.ts';
import { AuthPanel } from './parts.tsx';
import { DayCloseScreen } from './day-close.tsx';
import { EnrolmentScreen } from './enrolment.tsx';
import { PayoutScreen } from './payout.tsx';
import { PurchaseScreen } from './purchase.tsx';
import { ReversalScreen } from './reversal.tsx';
import { StatementScreen } from './statement.tsx';
import { useKiosk } from './useKiosk.ts';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

/** Tiles of the home screen: testids keep the shell's role names for the three main roles. */
const TILES: Array<{ kind: FlowKind; testId: string; main?: boolean }> = [
  { kind: 'payout', testId: 'role-salary', main: true },
  { kind: 'purchase', testId: 'role-purchase', main: true },
  { kind: 'enrolment', testId: 'role-enrolment', main: true },
  { kind: 'bill', testId: 'role-bill' },
  { kind: 'statement', testId: 'role-statement' },
  { kind: 'refund', testId: 'role-refund' },
  { kind: 'void', testId: 'role-void' },
  { kind: 'dayClose', testId: 'role-dayClose' },
];

/** Steps a quiet screen may leave on its own (nothing is half-written there). */
const LEAVABLE = new Set(['palm', 'refused', 'review', 'subscriber', 'amount', 'pin', 'declined', 'lookup', 'found', 'form', 'consent', 'shown', 'count', 'failed', 'receipt', 'approved', 'done', 'enrolled', 'closed']);

/** Inactivity before the attract screen; `#…&idleMs=N` in the URL shortens it (tests). */
function idleSetting(fallback: number): number {
  const n = Number(new URLSearchParams(window.location.hash.slice(1)).get('idleMs'));
  return Number.isSafeInteger(n) && n >= 1000 ? n : fallback;
}

export function Kiosk({ api, transport, locale }: { api: HostApi; transport: Transport; locale: string }) {
  const [idleMs] = useState(() => idleSetting(90_000));
  const { t } = useTranslation();
  const k = useKiosk(api, transport);
  const [wanted, setWanted] = useState<FlowKind | null>(null);
  const session = k.session?.state as SessionState | undefined;
  const active = session?.step === 'active';

  // Signed in while a tile was waiting: open it.
  useEffect(() => {
    if (active && wanted) {
      k.start(wanted);
      setWanted(null);
    }
  }, [active, wanted, k]);

  // Back to the attract screen after inactivity (touch, click or key). The ref keeps one timer for the page.
  const latest = useRef({ k, loginOpen: session?.step === 'login' });
  latest.current = { k, loginOpen: session?.step === 'login' };
  useEffect(() => {
    let last = Date.now();
    const touch = () => (last = Date.now());
    const events = ['pointerdown', 'keydown'] as const;
    events.forEach((e) => window.addEventListener(e, touch));
    const timer = setInterval(() => {
      if (Date.now() - last < idleMs) return;
      last = Date.now();
      const { k: kk, loginOpen } = latest.current;
      if (kk.flow && LEAVABLE.has(kk.flow.state.step)) kk.leave();
      if (loginOpen) kk.sessionSend({ type: 'login.cancel' });
      setWanted(null);
    }, 1000);
    return () => {
      events.forEach((e) => window.removeEventListener(e, touch));
      clearInterval(timer);
    };
  }, [idleMs]);

  const open = (kind: FlowKind) => {
    if (active) return k.start(kind);
    setWanted(kind);
    k.sessionSend({ type: 'login.start' });
  };

  const bar = (
    <div className="sessionbar" data-testid="session">
      {active ? (
        <>
          <span data-testid="operator">{t('k.session.signedIn', { name: session.operator.name })}</span>
          <button type="button" className="secondary" data-testid="lock" onClick={() => k.sessionSend({ type: 'lock' })}>
            {t('k.session.lock')}
          </button>
        </>
      ) : (
        <span data-testid="locked">{t(`k.session.locked.${session?.step === 'locked' && oneOf(kEn.session.locked, session.reason) ? session.reason : 'start'}`)}</span>
      )}
    </div>
  );

  const error = k.error && (
    <p className="notice warn" role="alert" data-testid="error" data-code={k.error}>
      {oneOf(kEn.error, k.error) ? t(`k.error.${k.error}`) : t('k.error.INTERNAL')}
    </p>
  );

  if (k.flow) {
    const props = { send: k.send, locale };
    const s = k.flow.state;
    let screen;
    switch (k.flow.kind) {
      case 'payout':
        screen = <PayoutScreen state={s as PayoutState} {...props} />;
        break;
      case 'purchase':
      case 'bill':
        screen = <PurchaseScreen state={s as PurchaseState} {...props} />;
        break;
      case 'refund':
      case 'void':
        screen = <ReversalScreen state={s as ReversalState} {...props} />;
        break;
      case 'enrolment':
        screen = <EnrolmentScreen state={s as EnrolmentState} {...props} />;
        break;
      case 'statement':
        screen = <StatementScreen state={s as StatementState} {...props} />;
        break;
      case 'dayClose':
        screen = <DayCloseScreen state={s as DayCloseState} {...props} />;
        break;
    }
    return (
      <>
        {bar}
        {error}
        {s.step === 'finished' ? <Home onOpen={open} pending={k.session?.pendingDrawer ?? 0} /> : screen}
      </>
    );
  }

  if (session?.step === 'login') {
    return (
      <>
        {bar}
        <section className="flow" data-testid="signin" aria-labelledby="signin-title">
          <h1 id="signin-title">{t('k.session.signIn')}</h1>
          <AuthPanel auth={session.auth} purpose="login" locale={locale} onPin={(pin) => k.sessionSend({ type: 'auth.submit', pin })} testId="login" />
          <div className="actions">
            <button
              type="button"
              className="secondary back"
              data-testid="back"
              onClick={() => {
                setWanted(null);
                k.sessionSend({ type: 'login.cancel' });
              }}
            >
              {t('screen.back')}
            </button>
          </div>
        </section>
      </>
    );
  }

  return (
    <>
      {bar}
      {error}
      <Home onOpen={open} pending={k.session?.pendingDrawer ?? 0} />
    </>
  );
}

function Home({ onOpen, pending }: { onOpen(kind: FlowKind): void; pending: number }) {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('home.heading')}</h1>
      {pending > 0 && (
        <p className="notice warn" role="alert" data-testid="pending-drawer">
          {t('k.session.pendingDrawer')}
        </p>
      )}
      <div className="roles">
        {TILES.map((tile) => (
          <button key={tile.kind} type="button" className={`role${tile.main ? '' : ' role-small'}`} data-testid={tile.testId} onClick={() => onOpen(tile.kind)}>
            <span className="role-title">{t(`k.tile.${tile.kind}.title`)}</span>
            <span className="role-hint">{t(`k.tile.${tile.kind}.hint`)}</span>
          </button>
        ))}
      </div>
    </>
  );
}
