// The kiosk's flow host: one operator session for the counter, and any number of running flows (one per
// screen/tab), each a FlowDriver over the shared ports. The API layer calls it; it pushes every state change
// out through `onFlow` / `onSession`. Locking (manual or idle) closes every flow: whatever was written stays
// written, and a payout whose drawer never opened is offered again (recovery), as after a restart.
import { PalmPayError } from '../util/errors.ts';
import type { AuthEffect } from './auth.ts';
import { reduceBill, startBill, type BillState } from './bill.ts';
import { reduceMandate, startMandate, type MandateState } from './mandate.ts';
import { reduceReading, startReading, type ReadingState } from './meter-reading.ts';
import { reducePinSet, startPinSet, type PinSetState } from './pin-set.ts';
import { reduceDayClose, startDayClose, type DayCloseState } from './day-close.ts';
import { FlowDriver } from './driver.ts';
import { createPerformers, type Performers } from './effects.ts';
import { reduceEnrolment, startEnrolment, type EnrolAs, type EnrolmentState } from './enrolment.ts';
import type { Step } from './machine.ts';
import { recoverPayout, reducePayout, startPayout, type PayoutState } from './payout.ts';
import type { FlowPorts } from './ports.ts';
import { reducePurchase, startPurchase, type PurchaseState } from './purchase.ts';
import { reduceReversal, startReversal, type ReversalState } from './reversal.ts';
import { initialSession, reduceSession, type SessionEvent, type SessionState } from './session.ts';
import { reduceStatement, startStatement, type StatementState } from './statement.ts';
import { reduceReport, startReport, type ReportState } from './report.ts';
import { reduceScannerCheck, startScannerCheck, type ScannerCheckState } from './scanner-check.ts';
import type { Role } from './types.ts';
import type { FlowKind, SessionUiEvent, UiEvent } from './ui-events.ts';

export class FlowError extends PalmPayError {}

export type AnyFlowState = PayoutState | PurchaseState | BillState | ReadingState | MandateState | ReversalState | EnrolmentState | StatementState | DayCloseState | ReportState | PinSetState | ScannerCheckState;

export interface FlowView {
  flowId: string;
  kind: FlowKind;
  /** Grows with every change of this flow: the screen keeps the view with the highest rev. */
  rev: number;
  state: AnyFlowState;
}

export interface SessionView {
  /** Grows with every change of the session. */
  rev: number;
  state: SessionState;
  /** Payouts recorded whose drawer never opened: the payout screen offers to open it first. */
  pendingDrawer: number;
  /** The idle time after which the counter locks (the screen counts it from the last touch). */
  lockAfterMs: number;
  /** Every task, the role it needs, and whether the signed-in operator has it (the home screen greys the rest). */
  tasks: Array<{ kind: FlowKind; needs: Role; allowed: boolean }>;
}

export interface KioskConfig {
  currency: string;
  /** PIN asked at or above this amount (minor units). */
  pinThreshold: number;
  idleMs: number;
  minCaptures: number;
  denominations: Array<{ currency: string; value: number }>;
}

export const DEFAULT_KIOSK_CONFIG: KioskConfig = {
  currency: 'SYP',
  pinThreshold: 1_000_000, // 10,000 SYP
  idleMs: 120_000,
  minCaptures: 3,
  denominations: [5_000_00, 2_000_00, 1_000_00, 500_00, 200_00, 100_00].map((value) => ({ currency: 'SYP', value })),
};

const NEEDS: Record<FlowKind, Role> = {
  payout: 'cashier', purchase: 'cashier', bill: 'cashier', reading: 'cashier', mandate: 'cashier', refund: 'cashier', void: 'cashier', statement: 'cashier', dayClose: 'cashier',
  enrolment: 'enroller',
  report: 'cashier',
  pinSet: 'cashier', // with a supervisor's palm + PIN inside the flow
  scannerCheck: 'supervisor', // a technician's look at the device, under a supervisor's sign-in
};

export interface KioskHooks {
  onFlow?: (view: FlowView) => void;
  onSession?: (view: SessionView) => void;
  log?: (msg: string, err?: unknown) => void;
  now?: () => number;
}

interface Running {
  kind: FlowKind;
  // The drivers differ by flow; the host treats them alike through this shape.
  driver: FlowDriver<AnyFlowState, never, never>;
}

export class FlowHost<T> {
  private readonly performers: Performers;
  private readonly sessionDriver: FlowDriver<SessionState, SessionEvent, AuthEffect>;
  private readonly flows = new Map<string, Running>();
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** The running operator enrolment with a code, if any (startOperatorEnrolment), and when it last moved. */
  private operatorFlowId: string | null = null;
  private operatorMovedAt = 0;

  constructor(
    private readonly ports: FlowPorts<T>,
    private readonly cfg: KioskConfig = DEFAULT_KIOSK_CONFIG,
    private readonly hooks: KioskHooks = {},
  ) {
    this.now = hooks.now ?? Date.now;
    this.performers = createPerformers(ports, hooks.log);
    const reducer = (s: SessionState, e: SessionEvent) => reduceSession({ idleMs: cfg.idleMs }, s, e);
    this.sessionDriver = new FlowDriver<SessionState, SessionEvent, AuthEffect>(reducer, { state: initialSession, effects: [] }, this.performers.auth, {
      onChange: (s) => {
        if (s.step === 'locked') this.closeAll();
        this.hooks.onSession?.(this.session());
      },
      onError: (err) => hooks.log?.('session effect failed', err),
    });
    this.unsubscribe = ports.palm.onPlacement((e) => {
      this.sessionDriver.dispatch(e);
      for (const f of this.flows.values()) f.driver.dispatch(e as never);
    });
    // Ticks bring the time to the session (idle lock); unref: a ticking kiosk must not keep a test process alive.
    this.timer = setInterval(() => {
      this.sessionDriver.dispatch({ type: 'tick', at: this.now() });
      // An operator enrolment left alone (a screen reloaded, the technician gone) would hold the scanner and keep the
      // sign-in off for good: after the idle time it ends as a cancel would, and the lock screen signs in again.
      if (this.operatorFlowId && this.now() - this.operatorMovedAt >= this.cfg.idleMs) this.closeFlow(this.operatorFlowId);
    }, 1000);
    this.timer.unref();
  }

  session(): SessionView {
    const s = this.sessionDriver.state;
    const roles = s.step === 'active' ? s.operator.roles : [];
    const tasks = (Object.keys(NEEDS) as FlowKind[]).map((kind) => ({ kind, needs: NEEDS[kind], allowed: roles.includes(NEEDS[kind]) }));
    return { rev: this.sessionDriver.rev, state: s, pendingDrawer: this.ports.bank.pendingDrawer().length, lockAfterMs: this.cfg.idleMs, tasks };
  }

  sessionSend(e: SessionUiEvent): SessionView {
    // The scanner is the operator enrolment's until it ends: a sign-in started now would read its palms.
    if (e.type === 'login.start' && this.operatorFlowId) return this.session();
    this.sessionDriver.dispatch(e);
    this.activity();
    return this.session();
  }

  /** Any touch on the screen keeps the session open. */
  activity(): void {
    this.sessionDriver.dispatch({ type: 'activity', at: this.now() });
  }

  start(kind: FlowKind): FlowView {
    const s = this.sessionDriver.state;
    if (s.step !== 'active') throw new FlowError('SESSION_LOCKED', 'sign in first (palm and PIN)');
    if (!s.operator.roles.includes(NEEDS[kind])) throw new FlowError('ROLE_MISSING', `this needs the ${NEEDS[kind]} role`);
    this.activity();
    const op = s.operator.id;
    const flowId = crypto.randomUUID();
    const driver = this.makeDriver(kind, op, flowId);
    this.flows.set(flowId, { kind, driver });
    const view = { flowId, kind, rev: driver.rev, state: driver.state };
    this.hooks.onFlow?.(view);
    return view;
  }

  /**
   * An operator's own palm with nobody signed in (the first operator, issue 14): the enrolment flow, its rules and
   * ports unchanged, as that operator, for the code the centre has just confirmed (`enrolAs`). The caller proved the
   * code online first; the centre accepts the record only for that code, terminal and operator (its rule 14).
   */
  startOperatorEnrolment(enrolAs: EnrolAs): FlowView {
    this.assertNobodySignedIn();
    // The lock screen's sign-in reads the same scanner: stop it (its read is aborted) while this flow captures;
    // login.start is ignored until the flow ends (sessionSend), then the lock screen starts the sign-in again.
    if (this.sessionDriver.state.step === 'login') this.sessionDriver.dispatch({ type: 'login.cancel' });
    // One operator enrolment at a time: a new code replaces an abandoned screen (its samples are discarded).
    if (this.operatorFlowId) this.closeFlow(this.operatorFlowId);
    const flowId = crypto.randomUUID();
    this.operatorFlowId = flowId;
    this.operatorMovedAt = this.now();
    const driver = new FlowDriver(reduceEnrolment, startEnrolment({ operatorId: enrolAs.personId, minCaptures: this.cfg.minCaptures, enrolAs }), this.performers.enrolment, this.driverOptions('enrolment', flowId) as never) as unknown as FlowDriver<AnyFlowState, never, never>;
    this.flows.set(flowId, { kind: 'enrolment', driver });
    const view = { flowId, kind: 'enrolment' as const, rev: driver.rev, state: driver.state };
    this.hooks.onFlow?.(view);
    return view;
  }

  /** An operator enrolment with a code is for a counter nobody is signed in to (issue 14): refused in a session. */
  assertNobodySignedIn(): void {
    if (this.sessionDriver.state.step === 'active') throw new FlowError('SESSION_ACTIVE', 'an operator is signed in: an operator enrolment code is used only on the locked sign-in screen');
  }

  /** Whether an operator enrolment (with a code) is running: the sign-in does not read the scanner meanwhile. */
  get operatorEnrolmentRunning(): boolean {
    return this.operatorFlowId !== null;
  }

  /** Captures an enrolment takes of each hand. */
  get minCaptures(): number {
    return this.cfg.minCaptures;
  }

  send(flowId: string, e: UiEvent): FlowView {
    const f = this.flows.get(flowId);
    if (!f) throw new FlowError('FLOW_UNKNOWN', 'this screen has ended; start again from the home screen');
    this.activity();
    if (flowId === this.operatorFlowId) this.operatorMovedAt = this.now();
    const state = f.driver.dispatch(e as never);
    return { flowId, kind: f.kind, rev: f.driver.rev, state };
  }

  get(flowId: string): FlowView {
    const f = this.flows.get(flowId);
    if (!f) throw new FlowError('FLOW_UNKNOWN', 'this screen has ended; start again from the home screen');
    return { flowId, kind: f.kind, rev: f.driver.rev, state: f.driver.state };
  }

  /** Waits until a flow's state satisfies `pred` (tests). */
  waitFor(flowId: string, pred: (s: AnyFlowState) => boolean, timeoutMs?: number): Promise<AnyFlowState> {
    const f = this.flows.get(flowId);
    if (!f) return Promise.reject(new FlowError('FLOW_UNKNOWN', `no flow ${flowId}`));
    return f.driver.waitFor(pred, timeoutMs);
  }

  waitForSession(pred: (s: SessionState) => boolean, timeoutMs?: number): Promise<SessionState> {
    return this.sessionDriver.waitFor(pred, timeoutMs);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    this.closeAll();
    this.sessionDriver.close();
  }

  private closeAll(): void {
    for (const [id, f] of this.flows) {
      f.driver.close();
      this.flows.delete(id);
    }
    this.operatorFlowId = null;
    this.performers.discardSamples();
  }

  /** Ends one flow as a cancel would (the screen sees it finish; its held samples are discarded by the cancel's effects). */
  private closeFlow(flowId: string): void {
    const f = this.flows.get(flowId);
    if (!f) return;
    // A step a cancel cannot end: an enrolled screen is done; a save in progress is closed (what it writes stays).
    if (f.driver.dispatch({ type: 'cancel' } as never).step !== 'finished' && f.driver.dispatch({ type: 'done' } as never).step !== 'finished') f.driver.close();
    this.flows.delete(flowId);
    if (this.operatorFlowId === flowId) this.operatorFlowId = null;
  }

  /** What every flow's driver tells the host: each change goes out (onFlow), a finished flow is forgotten. */
  private driverOptions(kind: FlowKind, flowId: string) {
    // The driver reports its own revision after the change; read it from the map once it is registered.
    const rev = () => this.flows.get(flowId)?.driver.rev ?? 0;
    return {
      onChange: (state: AnyFlowState) => {
        if (this.operatorFlowId === flowId) this.operatorMovedAt = this.now(); // an operator enrolment's capture is progress too
        this.hooks.onFlow?.({ flowId, kind, rev: rev(), state });
        if (state.step === 'finished') {
          this.flows.delete(flowId);
          if (this.operatorFlowId === flowId) this.operatorFlowId = null;
        }
      },
      onError: (err: unknown) => this.hooks.log?.(`${kind} effect failed`, err),
    };
  }

  private makeDriver(kind: FlowKind, op: string, flowId: string): FlowDriver<AnyFlowState, never, never> {
    const opts = this.driverOptions(kind, flowId);
    const p = this.performers;
    const make = <S extends { step: string }, E, F>(reducer: (s: S, e: E) => Step<S, F>, start: Step<S, F>, perform: (f: F, sig: AbortSignal) => Promise<E | E[] | void>) =>
      new FlowDriver<S, E, F>(reducer, start, perform, opts as never) as unknown as FlowDriver<AnyFlowState, never, never>;
    switch (kind) {
      case 'payout': {
        const pending = this.ports.bank.pendingDrawer()[0];
        const start: Step<PayoutState, never> | ReturnType<typeof startPayout> = pending
          ? { state: recoverPayout(op, pending.person, pending.receipt), effects: [] }
          : startPayout(op);
        return make(reducePayout, start, p.payout);
      }
      case 'bill':
        return make(reduceBill, startBill({ operatorId: op, requestId: crypto.randomUUID() }), p.bill);
      case 'reading':
        return make(reduceReading, startReading({ operatorId: op, requestId: crypto.randomUUID() }), p.reading);
      case 'pinSet':
        return make(reducePinSet, startPinSet({ operatorId: op, requestId: crypto.randomUUID() }), p.pinSet);
      case 'mandate':
        return make(reduceMandate, startMandate({ operatorId: op, requestId: crypto.randomUUID(), currency: this.cfg.currency }), p.mandate);
      case 'purchase':
        return make(reducePurchase, startPurchase({ operatorId: op, requestId: crypto.randomUUID(), kind, currency: this.cfg.currency, pinThreshold: this.cfg.pinThreshold }), p.purchase);
      case 'refund':
      case 'void':
        return make(reduceReversal, startReversal({ operatorId: op, kind }), p.reversal);
      case 'enrolment':
        return make(reduceEnrolment, startEnrolment({ operatorId: op, minCaptures: this.cfg.minCaptures }), p.enrolment);
      case 'statement':
        return make(reduceStatement, startStatement(op), p.statement);
      case 'report':
        return make(reduceReport, startReport({ operatorId: op, thisMonth: new Date(this.now()).toISOString().slice(0, 7) }), p.report);
      case 'dayClose':
        return make(reduceDayClose, startDayClose({ operatorId: op, denominations: this.cfg.denominations }), p.dayClose);
      case 'scannerCheck':
        return make(reduceScannerCheck, startScannerCheck(op), p.scannerCheck);
    }
  }
}
