// One screen per flow, switching on the step the host's state machine is in. The screens only show the state
// and send a person's actions (UiEvent); every decision (refusals, limits, duplicates) is the host's.
import { useEffect, useState, type ReactNode, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import {
  currencyExponent,
  type DayCloseState, type EnrolmentState, type PayoutState, type PersonDraft, type PurchaseState, type ReversalState, type StatementState, type UiEvent,
} from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { AuthPanel, digitText, Keypad, MoneyText, PalmPanel, PersonIcon, ReceiptView, useFocusHeading } from './parts.tsx';

export interface FlowProps<S> {
  state: S;
  send(e: UiEvent): void;
  locale: string;
}

function Frame({ title, step, kind, children, actions, headingRef }: { title: string; step: string; kind: string; children: ReactNode; actions?: ReactNode; headingRef: RefObject<HTMLHeadingElement | null> }) {
  return (
    <section className="flow" data-testid="flow" data-kind={kind} data-step={step} aria-labelledby="flow-title">
      <h1 id="flow-title" tabIndex={-1} ref={headingRef}>
        {title}
      </h1>
      <div className="flow-body">{children}</div>
      {actions && <div className="actions">{actions}</div>}
    </section>
  );
}

function Busy({ label }: { label: string }) {
  return (
    <div className="busy" role="status" data-testid="busy">
      <progress aria-label={label} />
      <p>{label}</p>
    </div>
  );
}

function Btn({ id, onClick, children, kind = 'secondary', disabled }: { id: string; onClick(): void; children: ReactNode; kind?: 'primary' | 'secondary' | 'danger'; disabled?: boolean }) {
  return (
    <button type="button" className={kind} data-testid={id} onClick={onClick} disabled={disabled}>
      {children}
    </button>
  );
}

function Reason({ ns, reason }: { ns: string; reason: string }) {
  const { t } = useTranslation();
  return (
    <div className="reason" role="alert" data-testid="reason" data-reason={reason}>
      <p className="reason-title">{t(`k.reason.${reason}.title`)}</p>
      <p className="reason-todo">{t(`k.reason.${reason}.todo`, { defaultValue: t(`k.${ns}.todoDefault`, { defaultValue: '' }) })}</p>
    </div>
  );
}

function PersonCard({ nameAr, nameLatin }: { nameAr: string; nameLatin: string }) {
  return (
    <div className="person" data-testid="person">
      <div className="person-photo" aria-hidden="true">
        <PersonIcon />
      </div>
      <div>
        <p className="person-ar" lang="ar" dir="rtl">
          {nameAr}
        </p>
        <p className="person-latin" lang="en" dir="ltr">
          {nameLatin}
        </p>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------- salary payout
export function PayoutScreen({ state: s, send, locale }: FlowProps<PayoutState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.payout.step.${s.step}`)} step={s.step} kind="payout" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const cancel = <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>;
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  switch (s.step) {
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.payout.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason ns="payout" reason={s.reason} />
        </>,
        <>
          {(s.reason === 'ambiguous' || s.reason === 'unknown-palm') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {done}
        </>,
      );
    case 'review':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <h2>{t('k.payout.owed')}</h2>
          <ul className="lines" data-testid="periods">
            {s.vouchers.map((v) => (
              <li key={v.id}>
                <span>{t('k.payout.period', { period: digitText(v.period, locale) })}</span>
                <MoneyText money={v.amount} locale={locale} />
              </li>
            ))}
          </ul>
          <p className="total">
            {t('k.payout.total')} {s.totals.map((m) => <MoneyText key={m.currency} money={m} locale={locale} testId="payout-total" />)}
          </p>
          {s.elsewhere > 0 && <p className="notice">{t('k.payout.elsewhere', { count: s.elsewhere, n: formatNumber(s.elsewhere, locale) })}</p>}
          <p className="notice">{t('k.payout.countFirst')}</p>
        </>,
        <>
          {cancel}
          <Btn id="cash-confirmed" kind="primary" onClick={() => send({ type: 'cash.confirmed' })}>
            {t('k.payout.cashCounted')}
          </Btn>
        </>,
      );
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'failed':
      return f(<Reason ns="payout" reason={s.reason} />, done);
    case 'drawer':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.recovered && (
            <p className="notice warn" role="alert" data-testid="recovered">
              {t('k.payout.recovered', { seq: formatNumber(s.receipt.seq, locale) })}
            </p>
          )}
          <p>
            {t('k.payout.recordedAs', { seq: formatNumber(s.receipt.seq, locale) })} {s.receipt.total && <MoneyText money={s.receipt.total} locale={locale} />}
          </p>
          {s.opening && <Busy label={t('k.busy.drawer')} />}
          {s.drawerError && (
            <p className="notice warn" role="alert" data-testid="drawer-error">
              {t('k.payout.drawerError')}
            </p>
          )}
        </>,
        !s.opening && <Btn id="drawer-open" kind="primary" onClick={() => send({ type: 'drawer.open' })}>{t('k.payout.openDrawer')}</Btn>,
      );
    case 'confirm':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          <PalmPanel guidance={s.guidance} prompt={t('k.payout.confirmPrompt')} locale={locale} />
          {s.attempts > 0 && (
            <p className="notice warn" role="alert">
              {t('k.payout.confirmFailed', { n: formatNumber(s.attempts, locale) })}
            </p>
          )}
        </>,
        s.skippable === true && <Btn id="confirm-skip" onClick={() => send({ type: 'confirm.skip' })}>{t('k.payout.skip')}</Btn>,
      );
    case 'receipt':
      return f(
        <>
          <p className={`notice ${s.confirmed ? 'ok' : 'warn'}`} data-testid="confirmed" data-confirmed={String(s.confirmed)}>
            {t(s.confirmed ? 'k.payout.confirmed' : 'k.payout.unconfirmed')}
          </p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>
          <Btn id="print" onClick={() => send({ type: 'print' })}>{t('k.action.print')}</Btn>
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}

// ---------------------------------------------------------------- purchase and bill payment
export function PurchaseScreen({ state: s, send, locale }: FlowProps<PurchaseState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useState('');
  const [pin, setPin] = useState('');
  useEffect(() => {
    setDigits('');
    setPin('');
  }, [s.step]);
  const kind = s.kind;
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.${kind}.step.${s.step}`, { defaultValue: t(`k.purchase.step.${s.step}`) })} step={s.step} kind={kind} headingRef={ref} actions={actions}>
      {s.amount && s.step !== 'approved' && (
        <p className="amount-line">
          {s.bill && <span>{t('k.bill.subscriberIs', { n: digitText(s.bill.subscriber, locale) })} · </span>}
          {t('k.purchase.amountIs')} <MoneyText money={s.amount} locale={locale} testId="amount" />
        </p>
      )}
      {children}
    </Frame>
  );
  const cancel = <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>;
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  const exp = currencyExponent(s.currency);
  switch (s.step) {
    case 'subscriber':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.bill.subscriberInvalid')}</p>}
          <Keypad label={t('k.bill.subscriber')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'subscriber.set', subscriber: digits })} submitLabel={t('k.action.next')} locale={locale} testId="subscriber" />
        </>,
        cancel,
      );
    case 'amount':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t('k.purchase.amountInvalid')}</p>}
          <Keypad
            label={t('k.purchase.amount')}
            value={digits}
            onChange={setDigits}
            onSubmit={() => send({ type: 'amount.set', minor: Number(digits) * 10 ** exp })}
            submitLabel={t('k.action.next')}
            locale={locale}
            maxLength={9}
            display={<MoneyText money={{ minor: Number(digits || '0') * 10 ** exp, currency: s.currency }} locale={locale} />}
            testId="amount"
          />
        </>,
        cancel,
      );
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.purchase.palmPrompt')} locale={locale} />, cancel);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'pin':
      return f(
        <>
          <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />
          {s.wrong && <p className="notice warn" role="alert" data-testid="pin-wrong">{t('k.auth.wrongPin', { left: formatNumber(s.attemptsLeft ?? 0, locale) })}</p>}
          <Keypad label={t('k.purchase.customerPin')} value={pin} onChange={setPin} onSubmit={() => send({ type: 'pin.submit', pin })} submitLabel={t('k.auth.submit')} locale={locale} maxLength={8} masked testId="pin" />
        </>,
        cancel,
      );
    case 'checking-pin':
      return f(<Busy label={t('k.busy.pin')} />);
    case 'authorizing':
      return f(<Busy label={t('k.busy.limits')} />);
    case 'declined':
      return f(
        <>
          {s.person && <PersonCard nameAr={s.person.nameAr} nameLatin={s.person.nameLatin} />}
          <Reason ns="purchase" reason={s.reason} />
          {s.overrideRefused && <p className="notice warn">{t('k.override.refused')}</p>}
        </>,
        <>
          {(s.reason === 'unknown-palm' || s.reason === 'ambiguous') && <Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>}
          {s.overridable && <Btn id="override-start" onClick={() => send({ type: 'override.start' })}>{t('k.override.ask')}</Btn>}
          {done}
        </>,
      );
    case 'override':
      return f(
        <>
          <Reason ns="purchase" reason={s.reason} />
          <AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" />
        </>,
        cancel,
      );
    case 'approved':
      return f(
        <>
          <p className="notice ok" role="status" data-testid="approved">{t(`k.${kind}.approved`)}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>
          <Btn id="print" onClick={() => send({ type: 'print' })}>{t('k.action.print')}</Btn>
          {done}
        </>,
      );
    case 'finished':
      return null;
  }
}

// ---------------------------------------------------------------- refund and void
export function ReversalScreen({ state: s, send, locale }: FlowProps<ReversalState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [digits, setDigits] = useState('');
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.${s.kind}.title`) + ' · ' + t(`k.reversal.step.${s.step}`)} step={s.step} kind={s.kind} headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const cancel = <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>;
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  const original = 'original' in s && s.original ? s.original : null;
  const details = original && (
    <dl className="details" data-testid="original">
      <dt>{t('k.receipt.number')}</dt>
      <dd>{formatNumber(original.seq, locale)}</dd>
      <dt>{t('k.reversal.kindOf')}</dt>
      <dd>{t(`k.receipt.kind.${original.kind}`)}</dd>
      {original.amount && (
        <>
          <dt>{t('k.receipt.total')}</dt>
          <dd><MoneyText money={original.amount} locale={locale} /></dd>
        </>
      )}
      {original.personName && (
        <>
          <dt>{t('k.receipt.person')}</dt>
          <dd><bdi lang="ar">{original.personName.ar}</bdi> · <bdi>{original.personName.latin}</bdi></dd>
        </>
      )}
    </dl>
  );
  switch (s.step) {
    case 'lookup':
      return f(
        <>
          {s.error && <p className="notice warn" role="alert" data-testid="input-error">{t(`k.reversal.${s.error}`)}</p>}
          <Keypad label={t('k.reversal.reference')} value={digits} onChange={setDigits} onSubmit={() => send({ type: 'reference.set', reference: digits })} submitLabel={t('k.action.next')} locale={locale} testId="reference" />
        </>,
        cancel,
      );
    case 'finding':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'found':
      return f(<>{details}<p className="notice">{t('k.reversal.needsSupervisor')}</p></>, <>{cancel}<Btn id="confirm" kind="primary" onClick={() => send({ type: 'confirm' })}>{t(`k.${s.kind}.confirm`)}</Btn></>);
    case 'override':
      return f(<>{details}<AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" /></>, cancel);
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'refused':
      return f(<>{details}<Reason ns="reversal" reason={s.reason} /></>, done);
    case 'done':
      return f(<ReceiptView receipt={s.receipt} locale={locale} />, <><Btn id="print" onClick={() => send({ type: 'print' })}>{t('k.action.print')}</Btn>{done}</>);
    case 'finished':
      return null;
  }
}

// ---------------------------------------------------------------- enrolment
const FIELDS: Array<{ key: keyof PersonDraft; dir?: 'rtl' | 'ltr'; lang?: string; inputMode?: 'numeric' | 'tel' | 'text'; autoComplete: string }> = [
  { key: 'nameAr', dir: 'rtl', lang: 'ar', autoComplete: 'off' },
  { key: 'nameLatin', dir: 'ltr', lang: 'en', autoComplete: 'off' },
  { key: 'idNumber', dir: 'ltr', inputMode: 'numeric', autoComplete: 'off' },
  { key: 'phone', dir: 'ltr', inputMode: 'tel', autoComplete: 'off' },
  { key: 'employer', dir: 'ltr', autoComplete: 'off' },
  { key: 'accountId', dir: 'ltr', autoComplete: 'off' },
];

export function EnrolmentScreen({ state: s, send, locale }: FlowProps<EnrolmentState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [draft, setDraft] = useState<PersonDraft>(s.step === 'form' ? s.draft : { nameAr: '', nameLatin: '', idNumber: '', phone: '', employer: '', accountId: '' });
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.enrolment.step.${s.step}`)} step={s.step} kind="enrolment" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const cancel = <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>;
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  const counts = 'captures' in s ? s.captures : null;
  const progress = counts && (
    <div className="capture-progress">
      {(['left', 'right'] as const).map((hand) => (
        <label key={hand} data-testid={`count-${hand}`}>
          {t(`k.enrolment.hand.${hand}`)}: {formatNumber(counts[hand].length, locale)} / {formatNumber(s.minCaptures, locale)}
          <progress max={s.minCaptures} value={Math.min(counts[hand].length, s.minCaptures)} />
        </label>
      ))}
    </div>
  );
  switch (s.step) {
    case 'form':
      return f(
        <form
          className="form"
          data-testid="enrol-form"
          onSubmit={(e) => {
            e.preventDefault();
            send({ type: 'form.submit', draft });
          }}
        >
          {FIELDS.map((fd) => {
            const err = s.errors[fd.key];
            return (
              <div className="field" key={fd.key}>
                <label htmlFor={`f-${fd.key}`}>{t(`k.enrolment.field.${fd.key}`)}</label>
                <input
                  id={`f-${fd.key}`}
                  data-testid={`f-${fd.key}`}
                  value={draft[fd.key]}
                  dir={fd.dir}
                  lang={fd.lang}
                  inputMode={fd.inputMode}
                  autoComplete={fd.autoComplete}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={err ? `e-${fd.key}` : undefined}
                  onChange={(e) => setDraft({ ...draft, [fd.key]: e.target.value })}
                />
                {err && (
                  <p className="field-error" id={`e-${fd.key}`} data-testid={`e-${fd.key}`}>
                    {t(`k.enrolment.error.${err}`)}
                  </p>
                )}
              </div>
            );
          })}
          <div className="actions">
            {cancel}
            <button type="submit" className="primary" data-testid="form-submit">
              {t('k.action.next')}
            </button>
          </div>
        </form>,
      );
    case 'consent':
      return f(
        <>
          <p className="consent" data-testid="consent-text">{t('k.enrolment.consentText', { name: s.draft.nameLatin })}</p>
        </>,
        <>
          <Btn id="back" onClick={() => send({ type: 'back' })}>{t('k.action.back')}</Btn>
          <Btn id="consent-refused" kind="danger" onClick={() => send({ type: 'consent.refused' })}>{t('k.enrolment.consentNo')}</Btn>
          <Btn id="consent-given" kind="primary" onClick={() => send({ type: 'consent.given' })}>{t('k.enrolment.consentYes')}</Btn>
        </>,
      );
    case 'capture':
      return f(
        <>
          {progress}
          <PalmPanel guidance={s.guidance} prompt={t(`k.enrolment.capturePrompt.${s.hand}`)} locale={locale} />
        </>,
        cancel,
      );
    case 'review':
      return f(
        <>
          {progress}
          {(['left', 'right'] as const).map((hand) => (
            <div key={hand}>
              <h2>{t(`k.enrolment.hand.${hand}`)}</h2>
              <ul className="captures">
                {s.captures[hand].map((c, i) => (
                  <li key={c.sampleId}>
                    {t('k.enrolment.captureN', { n: formatNumber(i + 1, locale) })} · {t('k.palm.quality')} {formatNumber(Math.round(c.quality * 100), locale)}
                    <Btn id={`retake-${hand}-${i}`} onClick={() => send({ type: 'capture.retake', hand, sampleId: c.sampleId })}>{t('k.enrolment.retake')}</Btn>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </>,
        <>{cancel}<Btn id="capture-finish" kind="primary" onClick={() => send({ type: 'capture.finish' })}>{t('k.enrolment.finish')}</Btn></>,
      );
    case 'checking':
      return f(<Busy label={t('k.busy.duplicates')} />);
    case 'duplicate':
    case 'override':
      return f(
        <>
          <div className="reason" role="alert" data-testid="reason" data-reason="duplicate">
            <p className="reason-title">{t('k.enrolment.duplicateTitle')}</p>
            <p>{t('k.enrolment.duplicateTodo')}</p>
          </div>
          <ul data-testid="candidates">
            {s.candidates.map((c) => (
              <li key={c.personId}>
                {c.nameAr || c.nameLatin ? (
                  <>
                    <bdi lang="ar">{c.nameAr}</bdi> · <bdi>{c.nameLatin}</bdi>
                  </>
                ) : (
                  t('k.enrolment.unnamed')
                )}
              </li>
            ))}
          </ul>
          {s.step === 'override' && <AuthPanel auth={s.auth} purpose="override" locale={locale} onPin={(p) => send({ type: 'auth.submit', pin: p })} testId="override" />}
        </>,
        <>{cancel}{s.step === 'duplicate' && <Btn id="override-start" onClick={() => send({ type: 'override.start' })}>{t('k.override.ask')}</Btn>}</>,
      );
    case 'saving':
      return f(<Busy label={t('k.busy.saving')} />);
    case 'enrolled':
      return f(
        <>
          <p className="notice warn" data-testid="provisional">{t('k.enrolment.provisional')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <><Btn id="print" onClick={() => send({ type: 'print' })}>{t('k.action.print')}</Btn>{done}</>,
      );
    case 'failed':
      return f(<Reason ns="enrolment" reason={s.reason} />, done);
    case 'finished':
      return null;
  }
}

// ---------------------------------------------------------------- statement
export function StatementScreen({ state: s, send, locale }: FlowProps<StatementState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.statement.step.${s.step}`)} step={s.step} kind="statement" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  switch (s.step) {
    case 'palm':
      return f(<PalmPanel guidance={s.guidance} prompt={t('k.statement.palmPrompt')} locale={locale} />, <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>);
    case 'loading':
      return f(<Busy label={t('k.busy.lookup')} />);
    case 'refused':
      return f(<Reason ns="statement" reason={s.reason} />, <><Btn id="retry" onClick={() => send({ type: 'retry' })}>{t('k.action.retry')}</Btn>{done}</>);
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
                    <td>{new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(e.at))}</td>
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

// ---------------------------------------------------------------- day close
export function DayCloseScreen({ state: s, send, locale }: FlowProps<DayCloseState>) {
  const { t } = useTranslation();
  const ref = useFocusHeading(s.step);
  const [reason, setReason] = useState('');
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.dayClose.step.${s.step}`)} step={s.step} kind="dayClose" headingRef={ref} actions={actions}>
      {children}
    </Frame>
  );
  const done = <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>;
  switch (s.step) {
    case 'loading':
      return f(<Busy label={t('k.busy.totals')} />);
    case 'failed':
      return f(<Reason ns="dayClose" reason={s.reason} />, done);
    case 'recording':
      return f(<Busy label={t('k.busy.recording')} />);
    case 'count': {
      const counted = new Map<string, number>();
      for (const c of s.counts) counted.set(c.currency, (counted.get(c.currency) ?? 0) + c.value * c.count);
      return f(
        <>
          <table className="totals" data-testid="totals">
            <caption>
              {s.totals.fromSeq > s.totals.toSeq
                ? t('k.dayClose.totalsEmpty')
                : t('k.dayClose.totals', { from: formatNumber(s.totals.fromSeq, locale), to: formatNumber(s.totals.toSeq, locale) })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('k.statement.what')}</th>
                <th scope="col">{t('k.dayClose.count')}</th>
                <th scope="col">{t('k.receipt.total')}</th>
              </tr>
            </thead>
            <tbody>
              {s.totals.byType.map((x) => (
                <tr key={x.kind} data-testid={`total-${x.kind}`}>
                  <th scope="row">{t(`k.receipt.kind.${x.kind}`)}</th>
                  <td>{formatNumber(x.count, locale)}</td>
                  <td>{x.totals.map((m) => <MoneyText key={m.currency} money={m} locale={locale} />)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <fieldset className="denominations">
            <legend>{t('k.dayClose.countCash')}</legend>
            {s.counts.map((c) => {
              const id = `d-${c.currency}-${c.value}`;
              return (
                <div className="denomination" key={id}>
                  <label htmlFor={id}>
                    <MoneyText money={{ minor: c.value, currency: c.currency }} locale={locale} /> ×
                  </label>
                  <Btn id={`${id}-minus`} onClick={() => send({ type: 'count.set', currency: c.currency, value: c.value, count: Math.max(0, c.count - 1) })}>−</Btn>
                  <input
                    id={id}
                    data-testid={id}
                    inputMode="numeric"
                    value={digitText(String(c.count), locale)}
                    onChange={(e) => {
                      const n = Number(e.target.value.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/\D/g, '') || '0');
                      send({ type: 'count.set', currency: c.currency, value: c.value, count: n });
                    }}
                  />
                  <Btn id={`${id}-plus`} onClick={() => send({ type: 'count.set', currency: c.currency, value: c.value, count: c.count + 1 })}>+</Btn>
                </div>
              );
            })}
          </fieldset>
          <dl className="cash" data-testid="cash">
            {s.totals.expectedCash.map((m) => {
              const c = counted.get(m.currency) ?? 0;
              return (
                <div key={m.currency}>
                  <dt>{t('k.dayClose.expected')}</dt>
                  <dd><MoneyText money={m} locale={locale} testId="expected" /></dd>
                  <dt>{t('k.dayClose.counted')}</dt>
                  <dd><MoneyText money={{ minor: c, currency: m.currency }} locale={locale} testId="counted" /></dd>
                  <dt>{t('k.dayClose.difference')}</dt>
                  <dd className={c === m.minor ? 'ok' : 'warn'}><MoneyText money={{ minor: c - m.minor, currency: m.currency }} locale={locale} testId="difference" /></dd>
                </div>
              );
            })}
          </dl>
          <div className="field">
            <label htmlFor="reason">{t('k.dayClose.reason')}</label>
            <textarea id="reason" data-testid="reason-input" value={reason} maxLength={500} aria-invalid={s.error ? true : undefined} aria-describedby={s.error ? 'reason-error' : undefined} onChange={(e) => setReason(e.target.value)} onBlur={() => send({ type: 'reason.set', reason })} />
            {s.error && <p className="field-error" id="reason-error" role="alert" data-testid="reason-required">{t('k.dayClose.reasonRequired')}</p>}
          </div>
        </>,
        <>
          <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>
          <Btn
            id="close-confirm"
            kind="primary"
            onClick={() => {
              send({ type: 'reason.set', reason });
              send({ type: 'close.confirm' });
            }}
          >
            {t('k.dayClose.close')}
          </Btn>
        </>,
      );
    }
    case 'closed':
      return f(
        <>
          <p className="notice ok" role="status" data-testid="closed">{t('k.dayClose.closedSigned')}</p>
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <><Btn id="print" onClick={() => send({ type: 'print' })}>{t('k.action.print')}</Btn>{done}</>,
      );
    case 'finished':
      return null;
  }
}
