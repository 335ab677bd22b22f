// The kiosk's API handlers (the calls 'kiosk.*' and the test hooks 'test.*' in src/api/calls.ts), over one
// composed Kiosk. Test hooks script the simulated scanner and inject faults; they refuse unless the terminal was
// started with --test-hooks, which production mode never sets.
import type { OfflineLimits } from '../ledger/limits.ts';
import type { Kiosk } from './compose.ts';
import { startOperatorEnrolmentWithCode } from './enrol-operator.ts';
import { FlowError } from '../flows/kiosk.ts';
import type { FlowKind, SessionUiEvent, UiEvent } from '../flows/ui-events.ts';

export interface TestPresent {
  identity: string;
  sample?: number;
  distanceMm?: number;
  afterMs?: number;
}

export interface TestFault {
  drawerFails?: boolean;
  linkUp?: boolean;
  /** Offline limits to use from now on (partial; the rest stay as they are). */
  limits?: Partial<{ perTransactionMaxMinor: number; terminalStoredMaxMinor: number; maxStoredRecordAgeMs: number; maxSinceLastSyncMs: number }>;
}

/** How long a palm laid from the simulator panel stays on the glass if no capture takes it. */
export const SIM_HOLD_MS = 3000;

export function kioskHandlers(k: Kiosk, opts: { testHooks: boolean; demo: boolean }) {
  const hook = () => {
    if (!opts.testHooks) throw new FlowError('TEST_HOOKS_DISABLED', 'test hooks are off (start the terminal with --test-hooks; never in production)');
  };
  // The simulator panel is for people trying the demo (and tests); a production terminal has neither flag.
  const simPanel = () => {
    if (!opts.demo && !opts.testHooks) throw new FlowError('SIM_PANEL_OFF', 'the simulator panel is off (start the terminal with --demo)');
    if (!k.sim) throw new FlowError('SIM_PANEL_OFF', 'this terminal reads palms from a real scanner: there is no simulator to script');
    return k.sim;
  };
  return {
    'sim.palms': () => {
      simPanel();
      return { palms: k.simPalms };
    },
    'sim.present': ({ palm }: { palm: string }) => {
      const sim = simPanel();
      if (!k.simPalms.includes(palm)) throw new FlowError('SIM_UNKNOWN_PALM', `the simulator has no palm called ${palm}`);
      // Like a real hand: laid now (replacing any), captured once, lifted after a moment. Queued, a double click
      // or a click while nothing asks left a palm on the glass that paid the next transaction on its own.
      sim.present({ identity: palm, captures: 1, holdMs: SIM_HOLD_MS });
      return { ok: true as const };
    },
    'kiosk.session': () => k.host.session(),
    'kiosk.sessionSend': ({ event }: { event: SessionUiEvent }) => k.host.sessionSend(event),
    'kiosk.start': ({ kind }: { kind: FlowKind }) => k.host.start(kind),
    'kiosk.send': ({ flowId, event }: { flowId: string; event: UiEvent }) => k.host.send(flowId, event),
    'kiosk.get': ({ flowId }: { flowId: string }) => k.host.get(flowId),
    'kiosk.enrolOperator': ({ code }: { code: string }) => startOperatorEnrolmentWithCode(k, code),
    'test.present': (p: TestPresent) => {
      hook();
      k.present({ identity: p.identity, ...(p.sample ? { sample: p.sample } : {}), ...(p.distanceMm !== undefined ? { distanceMm: p.distanceMm } : {}), ...(p.afterMs ? { afterMs: p.afterMs } : {}) });
      return { ok: true as const };
    },
    'test.fault': (f: TestFault) => {
      hook();
      if (f.drawerFails !== undefined) k.setDrawerFails(f.drawerFails);
      if (f.linkUp !== undefined) k.setLinkUp(f.linkUp);
      if (f.limits) {
        const { ledger } = k.terminal;
        const cur = ledger.limits();
        const l = f.limits;
        const next: OfflineLimits = {
          perTransactionMaxMinor: { ...cur.perTransactionMaxMinor, ...(l.perTransactionMaxMinor !== undefined ? { SYP: l.perTransactionMaxMinor } : {}) },
          terminalStoredMaxMinor: { ...cur.terminalStoredMaxMinor, ...(l.terminalStoredMaxMinor !== undefined ? { SYP: l.terminalStoredMaxMinor } : {}) },
          maxStoredRecordAgeMs: l.maxStoredRecordAgeMs ?? cur.maxStoredRecordAgeMs,
          maxSinceLastSyncMs: l.maxSinceLastSyncMs ?? cur.maxSinceLastSyncMs,
        };
        ledger.setLimits(next);
      }
      return { ok: true as const };
    },
  };
}

