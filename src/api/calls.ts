// THE API TABLE. Every call the renderer can make is one entry here: name → input schema, output schema.
// The host implements one handler per entry (src/host/service.ts); the WebSocket server, the Electron IPC
// bridge, the preload and the renderer client are all derived from this table. To add a call: add an
// entry here, add its handler in the host. Nothing else.
import { z } from 'zod';
import { Digits, Language, Settings, Status } from './schemas.ts';
import { SetupProvisionInput, SetupResult, SetupView } from './setup.ts';
import { FlowGetInput, FlowSendInput, FlowStartInput, FlowView, OperatorEnrolInput, SessionSendInput, SessionView, TestFaultInput, TestPresentInput } from './flows.ts';

function call<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, summary: string) {
  return { input, output, summary };
}

const NoInput = z.strictObject({}).optional();

export const calls = {
  'status.get': call(NoInput, Status, 'scanner, link and queue state, and which parts are placeholders'),
  'settings.get': call(NoInput, Settings, 'language and digits'),
  'settings.setLanguage': call(z.strictObject({ language: Language }), Settings, 'switch the UI language'),
  'settings.setDigits': call(z.strictObject({ digits: Digits }), Settings, 'Arabic-Indic or Latin digits (Arabic only)'),
  'session.ping': call(
    z.strictObject({ nonce: z.string().min(1).max(64) }),
    z.strictObject({ nonce: z.string(), hostTime: z.iso.datetime() }),
    'round trip to the host (liveness check)',
  ),
  // The technician's setup screen (a counter started without a centre): the same provisioning as the command.
  'setup.get': call(NoInput, SetupView, 'whether this counter still needs provisioning, and the identity it already has'),
  'setup.provision': call(SetupProvisionInput, SetupResult, 'register with the centre (one-time code), pin its key, pull the first feed; then the kiosk starts'),
  // Kiosk flows: the operator session, then one flow per screen.
  'kiosk.session': call(NoInput, SessionView, 'the operator session (locked, signing in, active) and recovery work'),
  'kiosk.sessionSend': call(SessionSendInput, SessionView, 'sign in (palm + PIN), cancel, lock'),
  'kiosk.start': call(FlowStartInput, FlowView, 'start a flow (payout, purchase, bill, refund, void, enrolment, statement, day close)'),
  'kiosk.send': call(FlowSendInput, FlowView, 'a person’s action in a running flow'),
  'kiosk.get': call(FlowGetInput, FlowView, 'the current state of a running flow'),
  'kiosk.enrolOperator': call(OperatorEnrolInput, FlowView, 'locked screen only: prove an operator enrolment code online, then enrol that operator\'s palm (the first operator)'),
  // The demo's simulator panel (on with --demo or --test-hooks): which palms the simulated scanner can show, and lay one.
  'sim.palms': call(NoInput, z.strictObject({ palms: z.array(z.string().min(1).max(64)).max(500) }), 'demo: the palms the simulated scanner can present'),
  'sim.present': call(z.strictObject({ palm: z.string().min(1).max(64) }), z.strictObject({ ok: z.literal(true) }), 'demo: lay one of those palms on the simulated scanner'),
  'test.present': call(TestPresentInput, z.strictObject({ ok: z.literal(true) }), 'TEST HOOK: lay a palm on the simulated scanner'),
  'test.fault': call(TestFaultInput, z.strictObject({ ok: z.literal(true) }), 'TEST HOOK: make the drawer fail, take the link down'),
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export const API_CALL_NAMES = Object.keys(calls) as CallName[];

/** What the caller passes (before parsing), and what the handler receives (after parsing). */
export type CallInput<N extends CallName> = z.input<Calls[N]['input']>;
export type ParsedInput<N extends CallName> = z.output<Calls[N]['input']>;
export type CallOutput<N extends CallName> = z.output<Calls[N]['output']>;

/** The typed host API as the renderer sees it: one async function per call. */
export type HostApi = {
  [N in CallName]: undefined extends CallInput<N>
    ? (input?: CallInput<N>) => Promise<CallOutput<N>>
    : (input: CallInput<N>) => Promise<CallOutput<N>>;
};

/** What the host implements: one handler per call, given already-validated input. */
export type Handlers = { [N in CallName]: (input: ParsedInput<N>) => CallOutput<N> | Promise<CallOutput<N>> };

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(calls, name);
}
