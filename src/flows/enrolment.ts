// Enrolment by field staff: person form → consent → at least MIN captures of each hand with live quality
// feedback and retakes → the person types a PIN twice, or defers it (issue 17; pin-policy.ts) → saved PROVISIONAL:
// not payable until the centre confirms it is not a duplicate. The PIN is never in a state (broadcast to the
// screen): only in the one `saveEnrolment` effect, where the bank hashes it (scrypt) before anything is stored or signed.
// The local duplicate check runs on the first good capture of each hand (a known person is stopped before five more
// captures) and on all captures at the end; a likely duplicate is blocked until a supervisor approves, and people a
// supervisor has already seen and approved are not asked about again.
// Templates never enter the state: captures are referenced by sample id, the service keeps the bytes.
import { printStep, type PrintResult, type PrintStatus } from './printing.ts';
import { reduceAuth, startAuth, type AuthEffect, type AuthEvent, type AuthState } from './auth.ts';
import { validateDraft, EMPTY_DRAFT, type FormErrors, type PersonDraft } from './enrolment-form.ts';
import { go, stay, type Step } from './machine.ts';
import { chosenPin, type NewPinError } from './pin-policy.ts';
import { applyPlacement, isPlacement, NO_GUIDANCE, type Guidance, type PlacementEvent, type Receipt } from './types.ts';

export type EnrolHand = 'left' | 'right';

export interface Capture {
  sampleId: string;
  quality: number;
}

export interface Captures {
  left: Capture[];
  right: Capture[];
}

export interface DuplicateCandidate {
  personId: string;
  nameAr: string;
  nameLatin: string;
}

export type EnrolmentFailure = 'consent-refused' | 'override-refused' | 'store-error';

/** A supervisor who approved enrolling despite likely duplicates, and the people they were shown. */
export interface DuplicateApproval {
  by: string;
  personIds: string[];
}

/** After a duplicate check: go on capturing (an early check) or save (the check at the end). */
type AfterCheck = 'capture' | 'save';

type Body =
  | { step: 'form'; draft: PersonDraft; errors: FormErrors }
  | { step: 'consent'; draft: PersonDraft }
  | { step: 'capture'; draft: PersonDraft; hand: EnrolHand; captures: Captures; guidance: Guidance; lastError: string | null; approval: DuplicateApproval | null }
  | { step: 'review'; draft: PersonDraft; captures: Captures; approval: DuplicateApproval | null }
  | { step: 'checking'; draft: PersonDraft; captures: Captures; approval: DuplicateApproval | null; then: AfterCheck }
  | { step: 'duplicate'; draft: PersonDraft; captures: Captures; candidates: DuplicateCandidate[]; approval: DuplicateApproval | null; then: AfterCheck }
  | { step: 'override'; draft: PersonDraft; captures: Captures; candidates: DuplicateCandidate[]; auth: AuthState; approval: DuplicateApproval | null; then: AfterCheck }
  | { step: 'pin'; draft: PersonDraft; captures: Captures; overrideBy: string | null; error: NewPinError | null }
  | { step: 'saving'; draft: PersonDraft; captures: Captures; overrideBy: string | null; pinChosen: boolean }
  | { step: 'enrolled'; personId: string; receipt: Receipt; overrideBy: string | null; pinChosen: boolean; print?: PrintStatus }
  | { step: 'failed'; reason: EnrolmentFailure }
  | { step: 'finished' };

/**
 * An operator's own palm, enrolled with nobody signed in (the first operator, issue 14): the person is the operator
 * (their id), and the record names the one-time operator enrolment code the centre confirmed for this counter.
 */
export interface EnrolAs {
  personId: string;
  enrolCodeId: string;
  /** Whose palm this is, as the centre answered the code (shown on the screen only; never part of the record). */
  who?: { name: string; role: string };
}

export interface EnrolmentContext {
  operatorId: string;
  /** Captures needed per hand (the issue asks for 3 or more). */
  minCaptures: number;
  /** Set only for an operator's bootstrap enrolment (operatorId is then that operator's id). */
  enrolAs?: EnrolAs;
}

export type EnrolmentState = Body & EnrolmentContext;

export type EnrolmentEvent =
  | PlacementEvent
  | AuthEvent
  | { type: 'form.submit'; draft: PersonDraft }
  | { type: 'consent.given' }
  | { type: 'consent.refused' }
  | { type: 'capture.result'; hand: EnrolHand; ok: true; sampleId: string; quality: number }
  | { type: 'capture.result'; hand: EnrolHand; ok: false; reason: string; quality: number | null }
  | { type: 'capture.retake'; hand: EnrolHand; sampleId: string }
  | { type: 'capture.finish' }
  | { type: 'pin.new'; pin: string; again: string }
  | { type: 'pin.defer' }
  | { type: 'duplicate.result'; candidates: DuplicateCandidate[] }
  | { type: 'override.start' }
  | { type: 'enrolment.saved'; personId: string; receipt: Receipt }
  | { type: 'enrolment.failed' }
  | { type: 'back' }
  | { type: 'print' }
  | PrintResult
  | { type: 'cancel' }
  | { type: 'done' };

export type EnrolmentEffect =
  | AuthEffect
  | { type: 'captureSample'; hand: EnrolHand }
  | { type: 'discardSample'; sampleId: string }
  | { type: 'checkDuplicate'; sampleIds: string[] }
  /** `pin`: the PIN the person chose (only in this effect; the bank hashes it), or null when they deferred it. */
  | { type: 'saveEnrolment'; draft: PersonDraft; captures: Captures; operatorId: string; overrideBy: string | null; pin: string | null; enrolAs?: EnrolAs }
  | { type: 'print'; receipt: Receipt };

export function startEnrolment(ctx: EnrolmentContext): Step<EnrolmentState, EnrolmentEffect> {
  return go({ step: 'form', draft: EMPTY_DRAFT, errors: {}, ...ctx });
}

const allIds = (c: Captures) => [...c.left, ...c.right].map((x) => x.sampleId);

export function reduceEnrolment(s: EnrolmentState, e: EnrolmentEvent): Step<EnrolmentState, EnrolmentEffect> {
  const ctx: EnrolmentContext = { operatorId: s.operatorId, minCaptures: s.minCaptures, ...(s.enrolAs ? { enrolAs: s.enrolAs } : {}) };
  const to = (b: Body, ...fx: EnrolmentEffect[]): Step<EnrolmentState, EnrolmentEffect> => go({ ...b, ...ctx }, ...fx);
  const capture = (draft: PersonDraft, captures: Captures, approval: DuplicateApproval | null): Step<EnrolmentState, EnrolmentEffect> => {
    // The next hand still short of captures, left first; none: the enroller reviews.
    const hand: EnrolHand | null = captures.left.length < ctx.minCaptures ? 'left' : captures.right.length < ctx.minCaptures ? 'right' : null;
    if (!hand) return to({ step: 'review', draft, captures, approval });
    return to({ step: 'capture', draft, hand, captures, guidance: NO_GUIDANCE, lastError: null, approval }, { type: 'captureSample', hand });
  };
  const check = (draft: PersonDraft, captures: Captures, approval: DuplicateApproval | null, then: AfterCheck, sampleIds: string[]) =>
    to({ step: 'checking', draft, captures, approval, then }, { type: 'checkDuplicate', sampleIds });
  // Not a duplicate (or a supervisor approved): the person chooses their PIN before anything is saved. Not an
  // operator enrolling their own palm: their PIN is the one the centre granted with the role, never chosen here.
  const askPin = (draft: PersonDraft, captures: Captures, overrideBy: string | null) =>
    ctx.enrolAs ? save(draft, captures, overrideBy, null) : to({ step: 'pin', draft, captures, overrideBy, error: null });
  const save = (draft: PersonDraft, captures: Captures, overrideBy: string | null, pin: string | null) =>
    to({ step: 'saving', draft, captures, overrideBy, pinChosen: pin !== null }, { type: 'saveEnrolment', draft, captures, operatorId: ctx.operatorId, overrideBy, pin, ...(ctx.enrolAs ? { enrolAs: ctx.enrolAs } : {}) });

  if (e.type === 'cancel') {
    if (s.step === 'saving' || s.step === 'enrolled') return stay(s);
    const held = 'captures' in s ? allIds(s.captures) : [];
    return to({ step: 'finished' }, ...held.map((sampleId) => ({ type: 'discardSample' as const, sampleId })));
  }
  if (s.step === 'override') {
    if (!(e.type.startsWith('auth.') || isPlacement(e))) return stay(s);
    const a = reduceAuth(s.auth, e as AuthEvent);
    if (a.state.step === 'granted') {
      const approval = { by: a.state.operator.id, personIds: [...(s.approval?.personIds ?? []), ...s.candidates.map((c) => c.personId)] };
      return s.then === 'save' ? askPin(s.draft, s.captures, approval.by) : capture(s.draft, s.captures, approval);
    }
    if (a.state.step === 'refused') return to({ step: 'duplicate', draft: s.draft, captures: s.captures, candidates: s.candidates, approval: s.approval, then: s.then });
    return to({ ...s, auth: a.state }, ...a.effects);
  }
  if (isPlacement(e)) return s.step === 'capture' ? stay({ ...s, guidance: applyPlacement(s.guidance, e) }) : stay(s);

  switch (s.step) {
    case 'form': {
      if (e.type !== 'form.submit') return stay(s);
      const v = validateDraft(e.draft);
      if (!v.ok) return to({ step: 'form', draft: v.draft, errors: v.errors });
      return to({ step: 'consent', draft: v.draft });
    }
    case 'consent':
      if (e.type === 'consent.given') return capture(s.draft, { left: [], right: [] }, null);
      if (e.type === 'consent.refused') return to({ step: 'failed', reason: 'consent-refused' });
      if (e.type === 'back') return to({ step: 'form', draft: s.draft, errors: {} });
      return stay(s);
    case 'capture': {
      if (e.type !== 'capture.result' || e.hand !== s.hand) return stay(s);
      if (!e.ok) {
        const guidance = { ...s.guidance, quality: e.quality, hint: e.reason };
        return to({ ...s, guidance, lastError: e.reason }, { type: 'captureSample', hand: s.hand });
      }
      const captures = { ...s.captures, [s.hand]: [...s.captures[s.hand], { sampleId: e.sampleId, quality: e.quality }] };
      // The first good capture of a hand is enough to find a known person: check now, not after all of them.
      if (captures[s.hand].length === 1) return check(s.draft, captures, s.approval, 'capture', [e.sampleId]);
      const next = capture(s.draft, captures, s.approval);
      if (next.state.step === 'capture' && next.state.hand === s.hand) {
        // Same hand again: keep showing the quality just reached.
        return go({ ...next.state, guidance: { ...s.guidance, quality: e.quality, hint: null } }, ...next.effects);
      }
      return next;
    }
    case 'review':
      if (e.type === 'capture.retake') {
        const list = s.captures[e.hand];
        if (!list.some((c) => c.sampleId === e.sampleId)) return stay(s);
        const captures = { ...s.captures, [e.hand]: list.filter((c) => c.sampleId !== e.sampleId) };
        const next = capture(s.draft, captures, s.approval);
        return go(next.state, { type: 'discardSample', sampleId: e.sampleId }, ...next.effects);
      }
      if (e.type === 'capture.finish') return check(s.draft, s.captures, s.approval, 'save', allIds(s.captures));
      return stay(s);
    case 'checking': {
      if (e.type !== 'duplicate.result') return stay(s);
      const fresh = e.candidates.filter((c) => !s.approval?.personIds.includes(c.personId));
      if (fresh.length > 0) return to({ step: 'duplicate', draft: s.draft, captures: s.captures, candidates: fresh, approval: s.approval, then: s.then });
      return s.then === 'save' ? askPin(s.draft, s.captures, s.approval?.by ?? null) : capture(s.draft, s.captures, s.approval);
    }
    case 'duplicate':
      if (e.type === 'override.start') {
        const a = startAuth('supervisor', ctx.operatorId);
        return to({ step: 'override', draft: s.draft, captures: s.captures, candidates: s.candidates, auth: a.state, approval: s.approval, then: s.then }, ...a.effects);
      }
      return stay(s);
    case 'pin': {
      if (e.type === 'pin.defer') return save(s.draft, s.captures, s.overrideBy, null);
      if (e.type !== 'pin.new') return stay(s);
      const chosen = chosenPin(e.pin, e.again);
      if (!chosen.ok) return to({ ...s, error: chosen.error });
      return save(s.draft, s.captures, s.overrideBy, chosen.pin);
    }
    case 'saving':
      if (e.type === 'enrolment.saved') return to({ step: 'enrolled', personId: e.personId, receipt: e.receipt, overrideBy: s.overrideBy, pinChosen: s.pinChosen });
      if (e.type === 'enrolment.failed') return to({ step: 'failed', reason: 'store-error' });
      return stay(s);
    case 'enrolled':
      {
        const printed = printStep(s, e);
        if (printed) return printed;
      }
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'failed':
      if (e.type === 'done') return to({ step: 'finished' });
      return stay(s);
    case 'finished':
      return stay(s);
  }
}
