// Composes one terminal: data folder, logger, settings, the parts (the kiosk flows and their status), the service, the
// dispatcher and the event hub. Both the browser kiosk (CLI) and Electron's main process start it.
import type { HostEvent, Language, Status } from '../api/index.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { prepareDataDir } from '../util/paths.ts';
import { createDispatcher, type Dispatch } from './dispatch.ts';
import { createEventHub, type EventHub } from './event-hub.ts';
import { startKioskPart } from './kiosk-part.ts';
import { describeCentre, describePrinter, describeScanner, readConfigFile, resolveConfig, type ConfigFlags, type TerminalConfig } from './terminal-config.ts';
import { createHostService, type HostService } from './service.ts';
import { fileSettingsStore } from './settings-file.ts';
import { startSetupPart } from './setup.ts';

export interface RuntimeOptions {
  mode: Status['mode'];
  version: string;
  /** Data folder override (`--data DIR`); the platform's user-data folder otherwise. */
  dataDir?: string;
  /** Language to start in (`--lang`); stored like a setting. */
  language?: Language;
  log?: Logger;
  /** Seed a demo branch into an empty store (`--demo`). */
  demo?: boolean;
  /** Test hooks: script the simulated scanner over the API (`--test-hooks`; never in production). */
  testHooks?: boolean;
  /** Real palm images for the simulated scanner (`--sim-images DIR`). */
  simImages?: string;
  /** Flags over `<data>/terminal-config.json` (`--scanner`, `--centre`, `--insecure-http`). */
  config?: Omit<ConfigFlags, 'demo'>;
  /** The built renderer (dist/renderer): its receipt page paints the printed receipts. */
  rendererDir?: string;
}

export interface Runtime {
  dataDir: string;
  /** The scanner and centre this terminal runs on. */
  config: TerminalConfig;
  log: Logger;
  service: HostService;
  dispatch: Dispatch;
  events: EventHub;
  close(): Promise<void>;
}

/** Async so parts that need I/O to start (SQLite, the scanner, the local server) can be awaited here. */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const dataDir = prepareDataDir(opts.dataDir); // throws one clear PalmPayError when unusable
  const log = opts.log ?? (await createLogger({ dataDir }));
  const events = createEventHub((err) => log.warn({ err }, 'event listener failed'));
  const settings = fileSettingsStore(dataDir, log);
  if (opts.language && settings.get().language !== opts.language) settings.update({ language: opts.language });

  // What this counter runs on: the file in the data folder, with the flags over it (a bad spec stops the start).
  const config = resolveConfig(readConfigFile(dataDir), { ...opts.config, demo: opts.demo });
  log.info({ scanner: describeScanner(config.scanner), centre: describeCentre(config.centre), printer: describePrinter(config.printer) }, 'terminal configuration');
  // No centre configured (and not the demo): the technician's setup screen first, then the kiosk on what it wrote.
  const setup = !opts.demo && config.centre.kind === 'none' ? startSetupPart({ dataDir, log, emit: (progress) => events.emit({ type: 'setup', progress }), flags: opts.config ?? {} }) : null;
  // The kiosk flows: store + signed ledger, the configured scanner and centre, sync.
  const kiosk = startKioskPart({ dataDir, log, emit: (e) => events.emit(e as HostEvent), demo: opts.demo, testHooks: opts.testHooks, simImages: opts.simImages, config, printSettings: () => settings.get(), ...(opts.rendererDir ? { rendererDir: opts.rendererDir } : {}), ...(setup ? { waitFor: setup.provisioned } : {}) });
  const service = createHostService({
    mode: opts.mode,
    version: opts.version,
    settings,
    scanner: kiosk.status.scanner,
    link: kiosk.status.link,
    queue: kiosk.status.queue,
    printer: kiosk.status.printer,
    palms: kiosk.status.palms,
    events,
    kiosk: kiosk.handlers,
    ...(setup ? { setup: setup.handlers } : {}),
  });
  const placeholders = service.status().placeholders;
  log.info({ dataDir, mode: opts.mode, version: opts.version }, 'terminal starting');
  for (const p of placeholders) log.warn({ placeholder: p.part }, `PLACEHOLDER: ${p.description}`);

  return {
    dataDir,
    config,
    log,
    service,
    dispatch: createDispatcher(service.handlers, log),
    events,
    async close() {
      await service.close();
      await kiosk.close();
      log.info('terminal stopped');
    },
  };
}
