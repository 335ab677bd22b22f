// The kiosk as a part of the host runtime: composes it in the background (opening the store, the simulated
// scanner, the link take a moment), forwards its views as host events, and exposes its API handlers and status
// sources at once — calls made before it is ready wait for it; if it cannot start (a damaged store, a key that
// does not open) every call answers with that typed error and the terminal refuses to pay, saying why.
import type { Digits, Language, LinkStatus, PalmsStatus, PrinterStatus, QueueStatus, ScannerStatus } from '../api/schemas.ts';
import type { Logger } from '../util/log.ts';
import { PalmPayError } from '../util/errors.ts';
import { placeholderPrinter, type StatusSource } from './placeholders.ts';
import { createKiosk, type Kiosk } from './compose.ts';
import { kioskHandlers } from './kiosk-handlers.ts';
import type { FlowView, SessionView } from '../flows/kiosk.ts';
import { SCANNER_DESCRIPTION } from './adapters/palm.ts';
import type { TerminalConfig } from './terminal-config.ts';

export type KioskEvent = { type: 'flow'; view: FlowView } | { type: 'session'; session: SessionView };

export interface KioskPartOptions {
  dataDir: string;
  log: Logger;
  emit(e: KioskEvent): void;
  /** Seed the demo branch into an empty store (`--demo`). */
  demo?: boolean;
  /** Enable the test hooks (`--test-hooks`; tests only). */
  testHooks?: boolean;
  /** Real palm images for the simulated scanner (`--sim-images DIR`); synthetic palms otherwise. */
  simImages?: string;
  /** The scanner and centre to use (terminal-config.ts); default the demo's: simulator and embedded centre. */
  config?: TerminalConfig;
  /** The setup screen runs first (setup.ts): the kiosk is composed once it resolves, on the configuration it gives;
   * until then every kiosk call answers SETUP_NEEDED. */
  waitFor?: Promise<TerminalConfig>;
  /** The counter's language and digits now (receipts print in them). */
  printSettings?: () => { language: Language; digits: Digits };
  /** The built renderer (its receipt page paints the printed receipts). */
  rendererDir?: string;
}

type Handlers = ReturnType<typeof kioskHandlers>;
type Async<H> = { [K in keyof H]: H[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export interface KioskPart {
  handlers: Async<Handlers>;
  status: { scanner: StatusSource<ScannerStatus>; link: StatusSource<LinkStatus>; queue: StatusSource<QueueStatus>; printer: StatusSource<PrinterStatus>; palms: StatusSource<PalmsStatus> };
  ready: Promise<Kiosk>;
  close(): Promise<void>;
}

/** No screen asked for the session this long after the kiosk was ready: the palm index loads anyway. */
const FIRST_SCREEN_FALLBACK_MS = 3000;

export function startKioskPart(opts: KioskPartOptions): KioskPart {
  const o = { ...opts, config: opts.config ?? ({ scanner: { kind: 'sim' }, centre: { kind: 'embedded' }, printer: { kind: 'none' } } satisfies TerminalConfig) };
  const logMsg = (msg: string, err?: unknown) => (err ? o.log.warn({ err }, msg) : o.log.info(msg));
  let composing = !o.waitFor;
  // Cold start: the palm index (10⁵ entries) loads once the first screen has been answered, so its work does not
  // delay the sign-in screen; a hand laid earlier starts it at once (compose.ts), and no screen at all (an
  // Electron window still starting) starts it after a few seconds.
  let firstScreen!: () => void;
  const firstScreenServed = new Promise<void>((resolve) => (firstScreen = resolve));
  const ready = (o.waitFor ?? Promise.resolve(o.config)).then((config) => {
    composing = true;
    return createKiosk({
      dataDir: o.dataDir,
      demo: o.demo ?? false,
      ...(o.simImages ? { simImages: o.simImages } : {}),
      scanner: config.scanner,
      centre: config.centre,
      printer: config.printer,
      ...(o.printSettings ? { printSettings: o.printSettings } : {}),
      ...(o.rendererDir ? { rendererDir: o.rendererDir } : {}),
      link: o.testHooks ? { fastRetry: true } : true,
      palmIndexAfter: firstScreenServed,
      hooks: {
        log: logMsg,
        onFlow: (view) => o.emit({ type: 'flow', view }),
        onSession: (session) => o.emit({ type: 'session', session }),
      },
    });
  });
  ready.then(
    () => setTimeout(firstScreen, FIRST_SCREEN_FALLBACK_MS).unref(),
    () => undefined,
  );
  ready.then(
    (k) => o.log.info({ terminalId: k.terminal.ledger.terminalId, demo: !!o.demo, testHooks: !!o.testHooks }, 'kiosk flows ready'),
    (err: unknown) => o.log.error({ err }, 'kiosk flows could not start: payments refused'),
  );
  if (o.testHooks) o.log.warn('TEST HOOKS ENABLED: the simulated scanner can be scripted over the API (tests only)');

  const simulated = o.config.scanner.kind === 'sim';
  const scannerKind: ScannerStatus['kind'] = simulated ? 'simulated' : o.config.scanner.kind === 'hid' ? 'hid' : 'serial';
  // What the status bar names: 'in-process', the centre's URL, or 'none' (translated on screen).
  const serverName = o.config.centre.kind === 'embedded' ? 'in-process' : o.config.centre.kind === 'remote' ? o.config.centre.url : 'none';

  let handlers: Handlers | undefined;
  const call =
    <K extends keyof Handlers>(name: K) =>
    async (...args: Parameters<Handlers[K]>) => {
      if (!composing) throw new PalmPayError('SETUP_NEEDED', 'this counter is not provisioned yet: finish the setup screen (or palmpay terminal provision)');
      const k = await ready;
      handlers ??= kioskHandlers(k, { testHooks: !!o.testHooks, demo: !!o.demo });
      const answer = (handlers[name] as (...a: Parameters<Handlers[K]>) => ReturnType<Handlers[K]>)(...args);
      if (name === 'kiosk.session') setTimeout(firstScreen, 50); // once the answer is on its way
      return answer;
    };
  const names = ['kiosk.session', 'kiosk.sessionSend', 'kiosk.start', 'kiosk.send', 'kiosk.get', 'kiosk.enrolOperator', 'sim.palms', 'sim.present', 'test.present', 'test.fault'] as const;
  const asyncHandlers = Object.fromEntries(names.map((n) => [n, call(n)])) as unknown as Async<Handlers>;

  return {
    handlers: asyncHandlers,
    status: {
      // During setup no scanner is open yet: 'disconnected', not 'connecting'.
      scanner: late<ScannerStatus>(ready, (k) => k.status.scanner, { state: o.waitFor ? 'disconnected' : 'connecting', kind: scannerKind, placeholder: simulated }, simulated ? {
        part: 'scanner',
        description: SCANNER_DESCRIPTION,
      } : undefined, { state: 'error', kind: scannerKind, placeholder: simulated }),
      link: late<LinkStatus>(ready, (k) => k.status.link, { state: 'unknown', server: serverName, placeholder: false, lastSyncAt: null }, undefined, { state: 'down', server: serverName, placeholder: false, lastSyncAt: null }),
      queue: late<QueueStatus>(ready, (k) => k.status.queue, { length: 0 }),
      palms: late<PalmsStatus>(ready, (k) => k.status.palms, { state: 'waiting', loaded: 0, total: 0 }, undefined, { state: 'error', loaded: 0, total: 0 }),
      printer: (() => {
        const logOnly = o.config.printer.kind === 'none';
        const name = o.config.printer.kind === 'serial' ? o.config.printer.path : o.config.printer.kind === 'tcp' ? `${o.config.printer.host}:${o.config.printer.port}` : 'auto';
        return logOnly ? placeholderPrinter() : late<PrinterStatus>(ready, (k) => k.status.printer, { kind: 'escpos', name, state: 'unknown' }, undefined, { kind: 'escpos', name, state: 'error' });
      })(),
    },
    ready,
    async close() {
      if (!composing) return;
      const k = await ready.catch(() => null);
      await k?.close();
    },
  };
}

/** A status source that shows `initial` until the kiosk is ready, then follows the real one. */
function late<T>(ready: Promise<Kiosk>, pick: (k: Kiosk) => StatusSource<T>, initial: T, placeholder?: StatusSource<T>['placeholder'], failed: T = initial): StatusSource<T> {
  let real: StatusSource<T> | null = null;
  let current = initial;
  const listeners = new Set<(s: T) => void>();
  void ready.then(
    (k) => {
      real = pick(k);
      real.onChange((s) => listeners.forEach((l) => l(s)));
      const now = real.status();
      listeners.forEach((l) => l(now));
    },
    () => {
      current = failed;
      listeners.forEach((l) => l(failed));
    },
  );
  return {
    status: () => (real ? real.status() : current),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ...(placeholder ? { placeholder } : {}),
  };
}
