// Small building blocks of the flow screens: numeric keypad, palm placement guidance, operator/supervisor
// sign-in (palm then PIN), receipt. Touch-first (large targets), labelled for screen readers, digits in the
// terminal's numbering system.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuthState, Guidance, Money, Receipt } from '@api/index.ts';
import { formatDateTime, formatMoney, formatNumber, formatPeriod } from '../format.ts';
import { kEn } from './i18n/en.ts';
import { oneOf, receiptLineKey } from './i18n/keys.ts';
import { useNameInScript } from './names.tsx';

export function digitText(s: string, locale: string): string {
  const fmt = new Intl.NumberFormat(locale, { useGrouping: false });
  return s.replace(/[0-9]/g, (d) => fmt.format(Number(d)));
}

/** A plain hand outline (no emoji font is needed on the kiosk). */
export function HandIcon() {
  return (
    <svg viewBox="0 0 64 64" fill="none" stroke="#0b6e4f" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round">
      <path d="M20 34V14a4 4 0 0 1 8 0v16M28 28V9a4 4 0 0 1 8 0v19M36 28V12a4 4 0 0 1 8 0v20M44 32V20a4 4 0 0 1 8 0v18c0 12-8 20-18 20h-2c-7 0-11-3-15-8l-8-11a4 4 0 0 1 6-5l5 5" />
    </svg>
  );
}

export function PersonIcon() {
  return (
    <svg viewBox="0 0 64 64" fill="#56627a">
      <circle cx="32" cy="22" r="12" />
      <path d="M10 58c0-13 10-21 22-21s22 8 22 21z" />
    </svg>
  );
}

export function MoneyText({ money, locale, testId }: { money: Money; locale: string; testId?: string }) {
  return (
    <bdi className="money" data-testid={testId}>
      {formatMoney(money, locale)}
    </bdi>
  );
}

interface KeypadProps {
  label: string;
  value: string;
  onChange(v: string): void;
  onSubmit(): void;
  submitLabel: string;
  locale: string;
  maxLength?: number;
  masked?: boolean;
  /** What the display shows (e.g. the formatted amount); default: the digits. */
  display?: ReactNode;
  testId: string;
  disabled?: boolean;
}

/** A numeric keypad. Physical digit keys work too (a cashier's USB keypad). */
export function Keypad({ label, value, onChange, onSubmit, submitLabel, locale, maxLength = 12, masked, display, testId, disabled }: KeypadProps) {
  const { t } = useTranslation();
  const press = (k: string) => {
    if (k === 'back') onChange(value.slice(0, -1));
    else if (k === 'clear') onChange('');
    else if (value.length < maxLength) onChange(value + k);
  };
  const onKey = (e: React.KeyboardEvent) => {
    if (/^[0-9]$/.test(e.key)) press(e.key);
    else if (e.key === 'Backspace') press('back');
    else if (e.key === 'Enter' && value) onSubmit();
    else return;
    e.preventDefault();
  };
  const shown = masked ? '•'.repeat(value.length) : display ?? digitText(value, locale);
  return (
    <div className="keypad" role="group" aria-label={label} onKeyDown={onKey}>
      <output className="keypad-display" data-testid={`${testId}-display`} aria-live="polite" aria-label={label}>
        {value ? shown : <span className="keypad-empty">{t('k.keypad.empty')}</span>}
      </output>
      <div className="keypad-keys">
        {['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'].map((k) => (
          <button
            key={k}
            type="button"
            className={`kp-key kp-key-${k}`}
            data-testid={`${testId}-key-${k}`}
            aria-label={k === 'back' ? t('k.keypad.back') : k === 'clear' ? t('k.keypad.clear') : digitText(k, locale)}
            onClick={() => press(k)}
            disabled={disabled}
          >
            {k === 'back' ? '⌫' : k === 'clear' ? t('k.keypad.clearShort') : digitText(k, locale)}
          </button>
        ))}
      </div>
      <button type="button" className="primary" data-testid={`${testId}-ok`} onClick={onSubmit} disabled={disabled || !value}>
        {submitLabel}
      </button>
    </div>
  );
}

/** Live placement guidance from the scanner's presence and distance events, and the last capture's quality. */
export function PalmPanel({ guidance, prompt, locale, testId = 'palm' }: { guidance: Guidance; prompt: string; locale: string; testId?: string }) {
  const { t } = useTranslation();
  const state = !guidance.present ? 'absent' : guidance.distance;
  return (
    <section className="palm" data-testid={testId} aria-live="polite">
      <div className={`palm-icon palm-${state}`} aria-hidden="true">
        <HandIcon />
      </div>
      <p className="palm-prompt">{prompt}</p>
      <p className="palm-state" data-testid={`${testId}-state`}>
        {t(`k.palm.${state}`)}
      </p>
      {guidance.hint && (
        <p className="palm-hint" role="alert" data-testid={`${testId}-hint`}>
          {oneOf(kEn.fta, guidance.hint) ? t(`k.fta.${guidance.hint}`) : t('k.fta.other')}
        </p>
      )}
      {guidance.quality !== null && (
        <label className="quality">
          {t('k.palm.quality')}
          <meter min={0} max={1} low={0.5} high={0.75} optimum={1} value={guidance.quality} aria-valuetext={formatNumber(Math.round(guidance.quality * 100), locale)} />
        </label>
      )}
    </section>
  );
}

/** Palm then PIN for an operator (sign-in) or a supervisor (override). */
export function AuthPanel({ auth, purpose, locale, onPin, testId }: { auth: AuthState; purpose: 'login' | 'override'; locale: string; onPin(pin: string): void; testId: string }) {
  const { t } = useTranslation();
  const nameOf = useNameInScript();
  const [pin, setPin] = useStepEntry(auth.step);
  if (auth.step === 'palm' || auth.step === 'identifying') {
    const retry = auth.step === 'palm' ? auth.retry : null;
    return (
      <div data-testid={testId}>
        {retry && (
          <p className="notice warn" role="alert" data-testid={`${testId}-retry`}>
            {t(`k.auth.retry.${retry}`)}
          </p>
        )}
        <PalmPanel guidance={auth.step === 'palm' ? auth.guidance : { present: true, distance: 'ok', quality: null, hint: null }} prompt={t(`k.auth.palm.${purpose}`)} locale={locale} testId={`${testId}-palm`} />
      </div>
    );
  }
  if (auth.step === 'pin' || auth.step === 'checking-pin') {
    return (
      <div data-testid={testId}>
        <p className="who">{t('k.auth.hello', { name: nameOf({ ar: auth.operator.nameAr ?? auth.operator.name, latin: auth.operator.name }) })}</p>
        {auth.step === 'pin' && auth.wrong && (
          <p className="notice warn" role="alert" data-testid={`${testId}-wrong`}>
            {t('k.auth.wrongPin', { left: formatNumber(auth.attemptsLeft ?? 0, locale) })}
          </p>
        )}
        <Keypad
          label={t('k.auth.pin')}
          value={pin}
          onChange={setPin}
          onSubmit={() => onPin(pin)}
          submitLabel={t('k.auth.submit')}
          locale={locale}
          maxLength={8}
          masked
          testId={`${testId}-pin`}
          disabled={auth.step === 'checking-pin'}
        />
      </div>
    );
  }
  return null;
}

/** A receipt as the screen shows it and the printer prints it (renderer/receipt-print.tsx); `copy`: a reprint. */
export function ReceiptView({ receipt, locale, copy = false }: { receipt: Receipt; locale: string; copy?: boolean }) {
  const { t } = useTranslation();
  const receiptLine = (label: string, params: Record<string, string>) => {
    const key = receiptLineKey(label);
    // The key was checked against the catalogue just above; i18next cannot type a union of keys with parameters.
    return key ? (t as unknown as (k: string, o: object) => string)(key, params) : '';
  };
  return (
    <article className="receipt" data-testid="receipt" aria-label={t('k.receipt.title')}>
      <h2>{t(`k.receipt.kind.${receipt.kind}`)}</h2>
      {copy && (
        <strong className="receipt-copy" data-testid="receipt-copy">
          {t('k.receipt.copy')}
        </strong>
      )}
      <dl>
        {receipt.kind !== 'report' && (
          <>
            <dt>{t('k.receipt.number')}</dt>
            <dd data-testid="receipt-seq">{formatNumber(receipt.seq, locale)}</dd>
          </>
        )}
        <dt>{t('k.receipt.terminal')}</dt>
        <dd>
          <bdi>{receipt.terminalId}</bdi>
        </dd>
        <dt>{t('k.receipt.time')}</dt>
        <dd>{formatDateTime(new Date(receipt.at), locale)}</dd>
        {receipt.personName && (
          <>
            <dt>{t('k.receipt.person')}</dt>
            <dd>
              <bdi lang="ar">{receipt.personName.ar}</bdi> · <bdi lang="en">{receipt.personName.latin}</bdi>
            </dd>
          </>
        )}
      </dl>
      <ul className="receipt-lines">
        {receipt.lines.map((l, i) => (
          <li key={i}>
            <span>{receiptLine(l.label, translateParams(l.params, locale))}</span>
            {l.amount && <MoneyText money={l.amount} locale={locale} />}
          </li>
        ))}
      </ul>
      {receipt.total && (
        <p className="receipt-total">
          {t('k.receipt.total')} <MoneyText money={receipt.total} locale={locale} testId="receipt-total" />
        </p>
      )}
    </article>
  );
}

/**
 * Receipt parameters as the screen shows them: a pay period as month and year, numbers in the chosen digits, the
 * approver's name in the screen's script; other names and codes stay as they are.
 */
function translateParams(params: Record<string, string> | undefined, locale: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (k === 'period') out[k] = formatPeriod(v, locale);
    else out[k] = /^[0-9-]+$/.test(v) ? digitText(v, locale) : v;
  }
  if (params?.supervisorAr && locale.startsWith('ar')) out.supervisor = params.supervisorAr;
  return out;
}

/**
 * Something typed on a keypad (digits, a PIN) that starts empty at every new step of its screen: a PIN typed for one
 * step is never shown or sent at the next. Reset while rendering (React's pattern for state that follows a prop), so
 * no frame ever paints the old entry on the new step and no effect runs a second render.
 */
export function useStepEntry(step: string): [string, (value: string) => void] {
  const [entry, setEntry] = useState({ step, value: '' });
  if (entry.step !== step) setEntry({ step, value: '' });
  const set = useCallback((value: string) => setEntry({ step, value }), [step]);
  return [entry.step === step ? entry.value : '', set];
}

/** Moves keyboard focus to a screen's heading when its step changes, so screen readers announce it. */
export function useFocusHeading(key: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [key]);
  return ref;
}
