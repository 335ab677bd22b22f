// The first operator of a counter (issue 14): `palmpay terminal enrol-operator --code CODE`, run by the technician
// with the counter's terminal stopped. An operator signs in with their palm, and enrolling a palm needs an enroller
// signed in, so a new counter's first operator could never sign in. The centre issues a one-time code for one
// granted operator at this terminal (`palmpay server operator enrol-code`); here the counter proves it online with its
// own key (the centre marks it claimed and says whose palm it is), then the enrolment flow runs unchanged — consent,
// ≥ 3 captures of each hand with the quality checks, the local duplicate check, provisional — as that operator, and the
// signed `enrolment` names the code's id. The centre accepts that record only for that code, terminal and operator
// (its rule 14) and runs its own duplicate check before the palm reaches the region.
import type { PersonDraft } from '../flows/enrolment-form.ts';
import { validateDraft } from '../flows/enrolment-form.ts';
import type { EnrolmentState } from '../flows/enrolment.ts';
import type { AnyFlowState, FlowView } from '../flows/kiosk.ts';
import type { OperatorCodeClaimResponse } from '../protocol/schemas.ts';
import { CentreRefusal, LinkError } from '../sync/index.ts';
import { PalmPayError } from '../util/errors.ts';
import { createKiosk, type Kiosk } from './compose.ts';
import { readConfigFile, resolveConfig, type ConfigFlags } from './terminal-config.ts';

export interface EnrolOperatorOptions {
  dataDir: string;
  /** The one-time operator enrolment code from `palmpay server operator enrol-code`. */
  code: string;
  /** Who the operator is, checked by the enrolment form's own rules (names in both scripts, ID, phone, employer). */
  draft: PersonDraft;
  /** The operator agreed to their palm being enrolled (the consent the enrolment flow asks for). */
  consent: boolean;
  /** `--scanner`, `--centre`, `--insecure-http` over `<data>/terminal-config.json`. */
  flags?: ConfigFlags;
  /** How long the whole capture may take before giving up (the code stays claimed for this counter). Default 5 min. */
  timeoutMs?: number;
  /** Tests only: keep the key under file permissions (no OS keyring). */
  plainKeyFile?: boolean;
  /** Called once the code is claimed and the flow is about to read palms (tests lay palms on the simulator here). */
  onCapturing?: (kiosk: Kiosk) => void;
  say?: (line: string) => void;
}

export interface EnrolOperatorResult {
  operatorId: string;
  name: string;
  role: string;
  codeId: string;
  captures: { left: number; right: number };
  /** The centre confirmed the palm (its duplicate check passed) and its feed said so here; else it is provisional. */
  confirmed: boolean;
  /** Whether the record and templates reached the centre now (if not, the running counter sends them). */
  uploaded: boolean;
}

const enrolStep = (s: AnyFlowState) => (s as EnrolmentState).step;

/**
 * Proves a code online (the command and the screen alike): the centre's refusal code as the error's code
 * (OPERATOR_CODE_INVALID, _EXPIRED, _THROTTLED, OPERATOR_PALM_EXISTS), CENTRE_UNREACHABLE when it cannot be asked.
 * The code itself is never put in an error or a log line.
 */
async function claimCode(kiosk: Kiosk, code: string): Promise<OperatorCodeClaimResponse> {
  const sync = kiosk.link?.sync;
  if (!sync) throw new PalmPayError('CENTRE_UNREACHABLE', 'this counter has no link to a centre: an operator enrolment code is proven online');
  const claim = await sync.claimOperatorCode(code).catch((err: unknown) => {
    if (err instanceof CentreRefusal) throw new PalmPayError(err.remoteCode, `the centre refused the code: ${err.message}`);
    if (err instanceof LinkError) throw new PalmPayError('CENTRE_UNREACHABLE', `the code is proven online and the centre cannot be reached: ${err.message}`);
    throw err;
  });
  if (kiosk.terminal.store.people.get(claim.operatorId)) throw new PalmPayError('OPERATOR_PALM_EXISTS', `a palm is already enrolled here under ${claim.operatorId}`);
  return claim;
}

/**
 * The same from the counter's own screen (`kiosk.enrolOperator`): only while nobody is signed in (checked before the
 * code is spent, and again as the flow starts), the code proven online, then the enrolment screens run as that
 * operator (form, consent, captures, duplicate check; no PIN step) while the lock screen's sign-in waits.
 */
export async function startOperatorEnrolmentWithCode(kiosk: Kiosk, code: string): Promise<FlowView> {
  kiosk.host.assertNobodySignedIn();
  const claim = await claimCode(kiosk, code);
  return kiosk.host.startOperatorEnrolment({ personId: claim.operatorId, enrolCodeId: claim.codeId, who: { name: claim.name, role: claim.role } });
}

export async function enrolOperatorWithCode(o: EnrolOperatorOptions): Promise<EnrolOperatorResult> {
  const say = o.say ?? (() => {});
  if (!o.consent) throw new PalmPayError('CONSENT_REQUIRED', "the operator's consent to enrol their palm is required (--consent, once they have agreed)");
  // The form's rules before the code is spent: a typo costs nothing.
  const form = validateDraft(o.draft);
  if (!form.ok) throw new PalmPayError('ENROLMENT_FORM_INVALID', `operator details refused: ${Object.entries(form.errors).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const config = resolveConfig(readConfigFile(o.dataDir), o.flags ?? {});
  if (config.centre.kind !== 'remote') throw new PalmPayError('NOT_PROVISIONED', 'this counter has no centre: provision it first (palmpay terminal provision --centre URL --code CODE --terminal-id ID)');

  let captured = { left: 0, right: 0 };
  let lastHint: string | null = null;
  const kiosk = await createKiosk({
    dataDir: o.dataDir, scanner: config.scanner, centre: config.centre, link: true, backupDir: false,
    ...(o.plainKeyFile ? { plainKeyFile: true } : {}),
    hooks: {
      onFlow: (view) => {
        const s = view.state as EnrolmentState;
        if (s.step === 'capture') {
          const n = { left: s.captures.left.length, right: s.captures.right.length };
          if (n.left !== captured.left || n.right !== captured.right) say(`captures: left ${n.left}, right ${n.right}`);
          captured = n;
          if (s.lastError && s.lastError !== lastHint) say(`capture refused: ${s.lastError} (lay the ${s.hand} hand again)`);
          lastHint = s.lastError;
        }
      },
    },
  });
  try {
    const sync = kiosk.link!.sync;
    say('proving the code to the centre…');
    const claim = await claimCode(kiosk, o.code);
    say(`code accepted: operator ${claim.operatorId} (${claim.name}, ${claim.role}); lay the left hand, then the right, ${kiosk.host.minCaptures} times each`);

    const { host } = kiosk;
    const { flowId } = host.startOperatorEnrolment({ personId: claim.operatorId, enrolCodeId: claim.codeId });
    host.send(flowId, { type: 'form.submit', draft: form.draft });
    host.send(flowId, { type: 'consent.given' });
    o.onCapturing?.(kiosk);
    const deadline = Date.now() + (o.timeoutMs ?? 300_000);
    const until = async (steps: string[]) => {
      const left = deadline - Date.now();
      if (left <= 0) throw new PalmPayError('ENROLMENT_TIMEOUT', 'the palm captures took too long: run the command again (the code stays claimed for this counter)');
      return host.waitFor(flowId, (s) => steps.includes(enrolStep(s)), left).catch((err: unknown) => {
        if (err instanceof PalmPayError) throw err;
        throw new PalmPayError('ENROLMENT_TIMEOUT', 'the palm captures took too long: run the command again (the code stays claimed for this counter)');
      });
    };
    const refuseDuplicate = (s: AnyFlowState): never => {
      const names = (s as Extract<EnrolmentState, { step: 'duplicate' }>).candidates.map((c) => `${c.personId} (${c.nameLatin})`).join(', ');
      host.send(flowId, { type: 'cancel' });
      throw new PalmPayError('OPERATOR_PALM_DUPLICATE', `this palm looks like one already enrolled here: ${names}; nothing was saved`);
    };
    let s = await until(['review', 'duplicate', 'failed']);
    if (enrolStep(s) === 'duplicate') refuseDuplicate(s);
    if (enrolStep(s) === 'review') {
      const c = (s as Extract<EnrolmentState, { step: 'review' }>).captures;
      captured = { left: c.left.length, right: c.right.length };
      host.send(flowId, { type: 'capture.finish' });
      // No PIN step: the operator's PIN is the one the centre granted with the role (enrolment.ts, enrolAs).
      s = await until(['enrolled', 'duplicate', 'failed']);
      if (enrolStep(s) === 'duplicate') refuseDuplicate(s);
    }
    if (enrolStep(s) !== 'enrolled') throw new PalmPayError('ENROLMENT_FAILED', `the enrolment was not saved (${(s as { reason?: string }).reason ?? enrolStep(s)})`);
    const done = s as Extract<EnrolmentState, { step: 'enrolled' }>;
    host.send(flowId, { type: 'done' });
    say(`enrolled here as ${done.personId} (record ${done.receipt.seq}); uploading to the centre…`);

    let uploaded = false;
    try {
      sync.kick();
      await sync.drained(30_000);
      await sync.templatesSent();
      await sync.pullFeed();
      uploaded = true;
    } catch (err) {
      say(`not uploaded yet (${(err as Error).message}): the counter sends it when it runs`);
    }
    return {
      operatorId: claim.operatorId, name: claim.name, role: claim.role, codeId: claim.codeId, captures: captured,
      confirmed: (kiosk.terminal.store.people.get(claim.operatorId)?.status ?? 'provisional') !== 'provisional', uploaded,
    };
  } finally {
    await kiosk.close();
  }
}
