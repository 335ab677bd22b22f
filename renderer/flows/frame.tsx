// The parts every flow screen shares: the frame (heading, body, and the footer with the step's actions, kept in
// view at every screen size), the busy indicator, buttons, the refusal box and the person card.
import { useState, type ReactNode, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { PrintStatus, UiEvent } from '@api/index.ts';
import { kEn } from './i18n/en.ts';
import { oneOf } from './i18n/keys.ts';
import { useLinkState } from './link-context.ts';
import { PersonIcon } from './parts.tsx';
import { PersonName } from './names.tsx';

export interface FlowProps<S> {
  state: S;
  send(e: UiEvent): void;
  locale: string;
}

/** A flow step: heading, body, and the footer with its actions (the primary action last, always in view). */
export function Frame({ title, step, kind, children, actions, headingRef }: { title: string; step: string; kind: string; children: ReactNode; actions?: ReactNode; headingRef: RefObject<HTMLHeadingElement | null> }) {
  return (
    <section className="flow" data-testid="flow" data-kind={kind} data-step={step} aria-labelledby="flow-title">
      <h1 id="flow-title" tabIndex={-1} ref={headingRef}>
        {title}
      </h1>
      <div className="flow-body">{children}</div>
      {actions && <Footer>{actions}</Footer>}
    </section>
  );
}

/** The footer of a screen: its buttons, kept at the bottom of the viewport. */
export function Footer({ children }: { children: ReactNode }) {
  return <div className="actions">{children}</div>;
}

export function Busy({ label }: { label: string }) {
  return (
    <div className="busy" role="status" data-testid="busy">
      <progress aria-label={label} />
      <p>{label}</p>
    </div>
  );
}

export function Btn({ id, onClick, children, kind = 'secondary', disabled }: { id: string; onClick(): void; children: ReactNode; kind?: 'primary' | 'secondary' | 'danger'; disabled?: boolean }) {
  return (
    <button type="button" className={kind} data-testid={id} onClick={onClick} disabled={disabled}>
      {children}
    </button>
  );
}

/** The back and done buttons every flow has ("رجوع" is back/cancel; it is never the word for a void). */
export function useFlowButtons(send: (e: UiEvent) => void, printStatus?: PrintStatus) {
  const { t } = useTranslation();
  return {
    cancel: <Btn id="cancel" onClick={() => send({ type: 'cancel' })}>{t('k.action.cancel')}</Btn>,
    done: <Btn id="done" kind="primary" onClick={() => send({ type: 'done' })}>{t('k.action.done')}</Btn>,
    print: <PrintButton status={printStatus} onPrint={() => send({ type: 'print' })} />,
  };
}

/**
 * Print, with feedback from the printer: "printing…", then sent (or a copy sent: the printer marks every reprint of
 * a record "COPY" / "نسخة"), or what stopped it — paper out, cover open, offline, not answering — with what to do,
 * saying the payment is recorded; the button then prints again.
 */
function PrintButton({ status, onPrint }: { status: PrintStatus | undefined; onPrint(): void }) {
  const { t } = useTranslation();
  const [taps, setTaps] = useState(0);
  const failed = status?.state === 'failed' ? status.reason : null;
  return (
    <>
      {status && (
        <span className="print-note" role={failed ? 'alert' : 'status'} data-testid="print-note" data-prints={taps} data-state={status.state} data-reason={failed ?? undefined}>
          {status.state === 'printing' && t('k.print.printing')}
          {status.state === 'printed' && (status.copy ? t('k.print.copySent') : t('k.print.sent'))}
          {failed && `${t(`k.print.failed.${oneOf(kEn.print.failed, failed) ? failed : 'printer-error'}`)} ${t('k.print.recorded')}`}
        </span>
      )}
      <Btn
        id="print"
        onClick={() => {
          setTaps((n) => n + 1);
          onPrint();
        }}
      >
        {!status ? t('k.action.print') : failed ? t('k.print.retry') : t('k.print.again')}
      </Btn>
    </>
  );
}

/** Every reason code the host may send, as the message catalogue names them (the English file is the shape). */
export type ReasonCode = keyof typeof kEn.reason;

/** States cross the wire checked loosely: a code this renderer does not know gets a generic message, not a raw key. */
export function isReasonCode(reason: string): reason is ReasonCode {
  return Object.hasOwn(kEn.reason, reason);
}

/** Why, and what to do next; the advice follows the link state the status bar shows. */
export function Reason({ reason }: { reason: ReasonCode }) {
  const { t } = useTranslation();
  const link = useLinkState();
  const known = isReasonCode(reason);
  return (
    <div className="reason" role="alert" data-testid="reason" data-reason={reason}>
      <p className="reason-title">{known ? t(`k.reason.${reason}.title`) : t('k.error.INTERNAL')}</p>
      {known && <p className="reason-todo" data-link={link}>{link === 'up' && oneOf(kEn.reasonOnline, reason) ? t(`k.reasonOnline.${reason}`) : t(`k.reason.${reason}.todo`)}</p>}
    </div>
  );
}

export function PersonCard({ nameAr, nameLatin }: { nameAr: string; nameLatin: string }) {
  return (
    <div className="person" data-testid="person">
      <div className="person-photo" aria-hidden="true">
        <PersonIcon />
      </div>
      <PersonName nameAr={nameAr} nameLatin={nameLatin} className="person-name" />
    </div>
  );
}
