// Enrolment: form → consent → captures of each hand with live quality → duplicate check → the person's PIN twice
// (or later, at a supervised counter) → provisional record.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { type EnrolmentState, type PersonDraft } from '@api/index.ts';
import { formatNumber } from '../format.ts';
import { AuthPanel, PalmPanel, ReceiptView, useFocusHeading } from './parts.tsx';
import { NewPinEntry } from './new-pin.tsx';
import { useNameInScript } from './names.tsx';
import { Btn, Busy, Frame, Reason, useFlowButtons, type FlowProps } from './frame.tsx';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';

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
  // A hand's captures should span a little pose (a small lift and turn between them): sub-codes laid at slightly
  // different poses cover more of how the hand will be laid at later payments.
  const capturePrompt = (hand: 'left' | 'right', taken: number): string =>
    taken === 0 ? t(`k.enrolment.capturePrompt.${hand}`) : t(taken === 1 ? 'k.enrolment.capturePose.second' : 'k.enrolment.capturePose.third');
  const nameOf = useNameInScript();
  const ref = useFocusHeading(s.step);
  const [draft, setDraft] = useState<PersonDraft>(s.step === 'form' ? s.draft : { nameAr: '', nameLatin: '', idNumber: '', phone: '', employer: '', accountId: '' });
  // The first operator (enrolled with a code on the lock screen): whose palm this is, as the centre answered.
  const who = s.enrolAs?.who;
  const f = (children: ReactNode, actions?: ReactNode) => (
    <Frame title={t(`k.enrolment.step.${s.step}`)} step={s.step} kind="enrolment" headingRef={ref} actions={actions}>
      {who && (
        <p className="notice enrol-as" data-testid="enrol-as" data-operator={s.enrolAs?.personId} data-role={who.role}>
          {t('k.operatorCode.enrolling', { name: who.name, role: oneOf(kEn.operatorCode.role, who.role) ? t(`k.operatorCode.role.${who.role}`) : who.role })}
        </p>
      )}
      {children}
    </Frame>
  );
  const { cancel, done, print } = useFlowButtons(send, 'print' in s ? s.print : undefined);
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
          id="enrol-form"
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
        </form>,
        <>
          {cancel}
          <button type="submit" form="enrol-form" className="primary" data-testid="form-submit">
            {t('k.action.next')}
          </button>
        </>,
      );
    case 'consent':
      return f(
        <>
          <p className="consent" data-testid="consent-text">{t('k.enrolment.consentText', { name: nameOf({ ar: s.draft.nameAr, latin: s.draft.nameLatin }) })}</p>
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
          <PalmPanel guidance={s.guidance} prompt={capturePrompt(s.hand, s.captures[s.hand].length)} locale={locale} />
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
    case 'pin':
      return f(
        <>
          <p className="notice" data-testid="enrol-pin-explain">{t('k.enrolment.pinExplain')}</p>
          <NewPinEntry error={s.error} locale={locale} onChoose={(pin, again) => send({ type: 'pin.new', pin, again })} />
        </>,
        <>{cancel}<Btn id="pin-defer" onClick={() => send({ type: 'pin.defer' })}>{t('k.enrolment.pinDefer')}</Btn></>,
      );
    case 'saving':
      return f(<Busy label={t('k.busy.saving')} />);
    case 'enrolled':
      return f(
        <>
          {/* "Not payable until confirmed" is about a payer; an operator's record goes up with the next sync. */}
          {!s.enrolAs && <p className="notice warn" data-testid="provisional">{t('k.enrolment.provisional')}</p>}
          {s.enrolAs ? (
            <p className="notice ok" data-testid="enrol-operator-done">{t('k.operatorCode.done')}</p>
          ) : (
            <p className="notice" data-testid="enrol-pin" data-chosen={s.pinChosen ? '1' : '0'}>{t(s.pinChosen ? 'k.enrolment.pinChosen' : 'k.enrolment.pinDeferred')}</p>
          )}
          <ReceiptView receipt={s.receipt} locale={locale} />
        </>,
        <>{print}{done}</>,
      );
    case 'failed':
      return f(<Reason reason={s.reason} />, done);
    case 'finished':
      return null;
  }
}

