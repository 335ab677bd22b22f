// The host service: one handler per API call. Business logic lives here (and in the modules it calls),
// never in a transport. The kiosk flows' calls come from the kiosk part (kiosk-part.ts).
import type { Handlers, LinkStatus, PalmsStatus, PrinterStatus, QueueStatus, ScannerStatus, Status } from '../api/index.ts';
import type { EventHub } from './event-hub.ts';
import type { SettingsStore } from './settings-file.ts';
import { placeholderPrinter, type StatusSource } from './placeholders.ts';
import type { KioskPart } from './kiosk-part.ts';
import type { SetupPart } from './setup.ts';
import { PalmPayError } from '../util/errors.ts';

export interface HostDeps {
  mode: Status['mode'];
  version: string;
  settings: SettingsStore;
  scanner: StatusSource<ScannerStatus>;
  link: StatusSource<LinkStatus>;
  queue: StatusSource<QueueStatus>;
  /** The receipt printer (default: the receipts.log stand-in). */
  printer?: StatusSource<PrinterStatus>;
  /** The palm index's load (absent on a host composed without the kiosk). */
  palms?: StatusSource<PalmsStatus>;
  events: EventHub;
  now?: () => Date;
  /** The kiosk flows (src/flows, wired by src/host/compose.ts); without them their calls answer KIOSK_OFF. */
  kiosk?: KioskPart['handlers'];
  /** The technician's setup screen (a counter started without a centre); without it the counter needs none. */
  setup?: SetupPart['handlers'];
}

export interface HostService {
  handlers: Handlers;
  status(): Status;
  close(): Promise<void>;
}

export function createHostService(deps: HostDeps): HostService {
  const now = deps.now ?? (() => new Date());
  const printer = deps.printer ?? placeholderPrinter();
  const parts = [deps.scanner, deps.link, deps.queue, printer] as const;

  // Forward every part's changes to the event stream.
  const unsubscribe = [
    deps.scanner.onChange((scanner) => deps.events.emit({ type: 'scanner', scanner })),
    deps.link.onChange((link) => deps.events.emit({ type: 'link', link })),
    deps.queue.onChange((queue) => deps.events.emit({ type: 'queue', queue })),
    printer.onChange((p) => deps.events.emit({ type: 'printer', printer: p })),
    ...(deps.palms ? [deps.palms.onChange((palms) => deps.events.emit({ type: 'palms', palms }))] : []),
  ];

  const status = (): Status => ({
    mode: deps.mode,
    version: deps.version,
    scanner: deps.scanner.status(),
    link: deps.link.status(),
    queue: deps.queue.status(),
    printer: printer.status(),
    ...(deps.palms ? { palms: deps.palms.status() } : {}),
    placeholders: parts.flatMap((p) => (p.placeholder ? [p.placeholder] : [])),
  });

  const setSettings = (patch: Parameters<SettingsStore['update']>[0]) => {
    const settings = deps.settings.update(patch);
    deps.events.emit({ type: 'settings', settings });
    return settings;
  };

  const handlers: Handlers = {
    'status.get': () => status(),
    'settings.get': () => deps.settings.get(),
    'settings.setLanguage': ({ language }) => setSettings({ language }),
    'settings.setDigits': ({ digits }) => setSettings({ digits }),
    'session.ping': ({ nonce }) => ({ nonce, hostTime: now().toISOString() }),
    ...(deps.setup ?? setupClosed),
    // The flow states are the machines' own interfaces; on the wire they are checked as loose objects.
    ...((deps.kiosk ?? kioskOff) as unknown as Pick<Handlers, KioskCall>),
  };

  return {
    handlers,
    status,
    async close() {
      for (const off of unsubscribe) off();
      for (const part of parts) await part.close?.();
    },
  };
}

const setupClosed: SetupPart['handlers'] = {
  'setup.get': () => ({ needed: false, terminalId: null, busy: false }),
  'setup.provision': async () => {
    throw new PalmPayError('SETUP_DONE', 'this counter runs on its configuration: re-provision with palmpay terminal provision');
  },
};

type KioskCall = keyof KioskPart['handlers'];
const off = async (): Promise<never> => {
  throw new PalmPayError('KIOSK_OFF', 'the kiosk flows are not running in this host');
};
const kioskOff: KioskPart['handlers'] = {
  'kiosk.session': off,
  'kiosk.sessionSend': off,
  'kiosk.start': off,
  'kiosk.send': off,
  'kiosk.get': off,
  'kiosk.enrolOperator': off,
  'sim.palms': off,
  'sim.present': off,
  'test.present': off,
  'test.fault': off,
};
