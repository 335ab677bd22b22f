// The kiosk's main area: the lock screen (which is the sign-in: a palm laid on it signs in, then the PIN), the
// home tiles once signed in (a task the operator's role cannot do is greyed, saying who can), and the running
// flow's screen. After a quiet spell it returns to the home screen, and locks after the documented idle time.
import './flows.css';
import { useContext, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { BillState, MandateState, PinSetState, ReadingState, DayCloseState, EnrolmentState, FlowKind, HostApi, PayoutState, PurchaseState, ReversalState, SessionState, SessionView, StatementState, ReportState, ScannerCheckState } from '@api/index.ts';
import type { Transport } from '../api-client.ts';
import { AuthPanel } from './parts.tsx';
import { BillScreen } from './bill.tsx';
import { MandateScreen } from './mandate.tsx';
import { PinSetScreen } from './pin-set.tsx';
import { ReadingScreen } from './reading.tsx';
import { DayCloseScreen } from './day-close.tsx';
import { EnrolmentScreen } from './enrolment.tsx';
import { PayoutScreen } from './payout.tsx';
import { PurchaseScreen } from './purchase.tsx';
import { ReversalScreen } from './reversal.tsx';
import { StatementScreen } from './statement.tsx';
import { ScannerCheckScreen } from './scanner-check.tsx';
import { ReportScreen } from './report.tsx';
import { OperatorCodeScreen } from './operator-code.tsx';
import { useKiosk } from './useKiosk.ts';
import { PalmsContext } from './link-context.ts';
import { useNameInScript } from './names.tsx';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

/** Tiles of the home screen: testids keep the shell's role names for the three main roles. */
const TILES: Array<{ kind: FlowKind; testId: string; main?: boolean }> = [
  { kind: 'payout', testId: 'role-salary', main: true },
  { kind: 'purchase', testId: 'role-purchase', main: true },
  { kind: 'enrolment', testId: 'role-enrolment', main: true },
  { kind: 'bill', testId: 'role-bill' },
  { kind: 'reading', testId: 'role-reading' },
  { kind: 'mandate', testId: 'role-mandate' },
  { kind: 'pinSet', testId: 'role-pinSet' },
  { kind: 'statement', testId: 'role-statement' },
  { kind: 'report', testId: 'role-report' },
  { kind: 'refund', testId: 'role-refund' },
  { kind: 'void', testId: 'role-void' },
  { kind: 'dayClose', testId: 'role-dayClose' },
  { kind: 'scannerCheck', testId: 'role-scannerCheck' },
];

/** Steps a quiet screen may leave on its own (nothing is half-written there). */
const LEAVABLE = new Set(['palm', 'refused', 'bills', 'reading', 'terms', 'mode', 'paid', 'review', 'subscriber', 'amount', 'pin', 'declined', 'lookup', 'found', 'form', 'consent', 'shown', 'count', 'failed', 'receipt', 'approved', 'done', 'enrolled', 'closed', 'month', 'ready', 'unavailable']);

/** A duration from the URL fragment (`#…&idleMs=N&lockMs=N`, tests only), else the fallback. */
function msSetting(name: string, fallback: number): number {
  const n = Number(new URLSearchParams(window.location.hash.slice(1)).get(name));
  return Number.isSafeInteger(n) && n >= 1000 ? n : fallback;
}

export function Kiosk({ api, transport, locale }: { api: HostApi; transport: Transport; locale: string }) {
  const { t } = useTranslation();
  const k = useKiosk(api, transport);
  const palms = useContext(PalmsContext);
  const [idleMs] = useState(() => msSetting('idleMs', 90_000));
  const lockMs = msSetting('lockMs', k.session?.lockAfterMs ?? 120_000);
  const session = k.session?.state as SessionState | undefined;
  const active = session?.step === 'active';
  const nameOf = useNameInScript();
  // The last reason the counter locked, kept while the next sign-in runs (the lock screen says it).
  const [lockReason, setLockReason] = useState<string>('start');
  const idleLock = useRef(false); // the screen's own idle lock reaches the host as a plain 'lock'
  const pausedForCode = useRef(false); // the sign-in stopped for the code screen: the lock keeps the reason it had
  useEffect(() => {
    if (session?.step === 'active') idleLock.current = false; // signed in again: the next lock has its own reason
    if (session?.step !== 'locked') pausedForCode.current = false; // reading again: the pause is over
    else if (!pausedForCode.current) setLockReason(idleLock.current ? 'idle' : session.reason);
  }, [session]);

  // Locked with no screen open: start the sign-in at once, so a palm laid on the lock screen signs in. An operator
  // enrolment with a code (the first operator) holds the scanner meanwhile; when it ends the sign-in starts again.
  const locked = session?.step === 'locked';
  const open = k.flow !== null && k.flow.state.step !== 'finished';
  const [codeEntry, setCodeEntry] = useState(false);
  useEffect(() => {
    if (locked && !open && !codeEntry) k.sessionSend({ type: 'login.start' });
  }, [locked, open, codeEntry, k]);
  // While a code is typed the sign-in does not read the scanner: a hand laid on it meanwhile (someone else's, or the
  // new operator's own, early) must not sign anyone in behind the code screen.
  const signingIn = session?.step === 'login';
  useEffect(() => {
    if (!codeEntry || !signingIn) return;
    pausedForCode.current = true;
    k.sessionSend({ type: 'login.cancel' });
  }, [codeEntry, signingIn, k]);

  // Inactivity (no touch, click or key): back to the home screen after idleMs, and the counter locks after
  // lockMs, counted from the same last touch (leaving a screen is not activity). One timer for the page.
  const latest = useRef({ k, active, idleMs, lockMs });
  useEffect(() => {
    latest.current = { k, active, idleMs, lockMs }; // after each commit: the timer below reads what is on screen
  });
  useEffect(() => {
    let last = Date.now();
    let left = false;
    const touch = () => {
      last = Date.now();
      left = false;
    };
    const events = ['pointerdown', 'keydown'] as const;
    events.forEach((e) => window.addEventListener(e, touch));
    const timer = setInterval(() => {
      const { k: kk, active: signedIn, idleMs: toHome, lockMs: toLock } = latest.current;
      const quiet = Date.now() - last;
      if (signedIn && quiet >= toLock) {
        idleLock.current = true;
        kk.sessionSend({ type: 'lock' });
        last = Date.now();
      } else if (!left && quiet >= toHome && kk.flow && LEAVABLE.has(kk.flow.state.step)) {
        left = true;
        kk.leave();
      }
    }, 500);
    return () => {
      events.forEach((e) => window.removeEventListener(e, touch));
      clearInterval(timer);
    };
  }, []);

  const error = k.error && (
    <p className="notice warn" role="alert" data-testid="error" data-code={k.error}>
      {oneOf(kEn.error, k.error) ? t(`k.error.${k.error}`) : t('k.error.INTERNAL')}
    </p>
  );

  if (!active && !open && codeEntry) {
    return (
      <OperatorCodeScreen
        enrol={(code) => k.enrolOperator(code).then(() => setCodeEntry(false))}
        onBack={() => setCodeEntry(false)}
        locale={locale}
      />
    );
  }

  if (!active && !open) {
    const auth = session?.step === 'login' ? session.auth : null;
    return (
      <section className="lockscreen" data-testid="signin" data-lock-after-ms={lockMs} aria-labelledby="lock-title">
        <div className="lock-badge" aria-hidden="true">
          <LockIcon />
        </div>
        <h1 id="lock-title" data-testid="locked">
          {t('k.session.lockedTitle')}
        </h1>
        <p className="lock-reason" data-testid="lock-reason" data-reason={lockReason}>
          {t(`k.session.locked.${oneOf(kEn.session.locked, lockReason) ? lockReason : 'start'}`)}
        </p>
        {error}
        {(palms === 'waiting' || palms === 'loading') && (
          <p className="notice" role="status" data-testid="palms-loading">
            {t('k.session.palmsLoading')}
          </p>
        )}
        {(k.session?.pendingDrawer ?? 0) > 0 && (
          <p className="notice warn" role="alert" data-testid="pending-drawer">
            {t('k.session.pendingDrawer')}
          </p>
        )}
        <div className="lock-signin">{auth && <AuthPanel auth={auth} purpose="login" locale={locale} onPin={(pin) => k.sessionSend({ type: 'auth.submit', pin })} testId="login" />}</div>
        <p className="lock-secondary">
          <button type="button" className="link" data-testid="enrol-operator-open" onClick={() => setCodeEntry(true)}>
            {t('k.operatorCode.open')}
          </button>
        </p>
      </section>
    );
  }

  const bar = (
    <div className="sessionbar" data-testid="session" data-lock-after-ms={lockMs}>
      {active && (
        <>
          <span data-testid="operator">{t('k.session.signedIn', { name: nameOf({ ar: session.operator.nameAr ?? session.operator.name, latin: session.operator.name }) })}</span>
          <button type="button" className="secondary" data-testid="lock" onClick={() => k.sessionSend({ type: 'lock' })}>
            {t('k.session.lock')}
          </button>
        </>
      )}
    </div>
  );

  if (k.flow && open) {
    const props = { send: k.send, locale };
    const s = k.flow.state;
    let screen;
    switch (k.flow.kind) {
      case 'payout':
        screen = <PayoutScreen state={s as PayoutState} {...props} />;
        break;
      case 'bill':
        screen = <BillScreen state={s as BillState} {...props} />;
        break;
      case 'reading':
        screen = <ReadingScreen state={s as ReadingState} {...props} />;
        break;
      case 'mandate':
        screen = <MandateScreen state={s as MandateState} {...props} />;
        break;
      case 'pinSet':
        screen = <PinSetScreen state={s as PinSetState} {...props} />;
        break;
      case 'purchase':
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
      case 'report':
        screen = <ReportScreen state={s as ReportState} {...props} />;
        break;
      case 'dayClose':
        screen = <DayCloseScreen state={s as DayCloseState} {...props} />;
        break;
      case 'scannerCheck':
        screen = <ScannerCheckScreen state={s as ScannerCheckState} {...props} />;
        break;
    }
    return (
      <>
        {bar}
        {error}
        {screen}
      </>
    );
  }

  return (
    <>
      {bar}
      {error}
      <Home onOpen={(kind) => k.start(kind)} pending={k.session?.pendingDrawer ?? 0} tasks={k.session?.tasks ?? []} />
    </>
  );
}

function Home({ onOpen, pending, tasks }: { onOpen(kind: FlowKind): void; pending: number; tasks: SessionView['tasks'] }) {
  const { t } = useTranslation();
  const allowed = new Map(tasks.map((x) => [x.kind, x]));
  return (
    <section className="home" aria-labelledby="home-title">
      <h1 id="home-title">{t('home.heading')}</h1>
      {pending > 0 && (
        <p className="notice warn" role="alert" data-testid="pending-drawer">
          {t('k.session.pendingDrawer')}
        </p>
      )}
      <div className="roles">
        {TILES.map((tile) => {
          const task = allowed.get(tile.kind);
          const can = task?.allowed ?? false;
          return (
            <button key={tile.kind} type="button" className={`role${tile.main ? '' : ' role-small'}`} data-testid={tile.testId} data-allowed={String(can)} disabled={!can} onClick={() => onOpen(tile.kind)}>
              <span className="role-title">{t(`k.tile.${tile.kind}.title`)}</span>
              <span className="role-hint">{can || !task ? t(`k.tile.${tile.kind}.hint`) : t(`k.tile.onlyFor.${task.needs}`)}</span>
            </button>
          );
        })}
      </div>
    </section>
  );
}

function LockIcon() {
  return (
    <svg viewBox="0 0 64 64" fill="none" stroke="currentColor" strokeWidth="5" strokeLinecap="round" strokeLinejoin="round">
      <rect x="12" y="28" width="40" height="30" rx="5" fill="currentColor" />
      <path d="M20 28v-8a12 12 0 0 1 24 0v8" />
    </svg>
  );
}
