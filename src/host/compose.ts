// Composes the kiosk's flows for one data folder: the terminal store + signed ledger (provisioned on first
// start), the configured scanner (terminal-config.ts: a real serial/HID scanner, or the demo's simulator
// in-process over the HID image-scanner protocol), real palm-vein recognition over the templates in the store
// (palm.ts), the configured centre (a remote one by URL, or the demo's embedded one), the configured receipt printer
// and cash drawer (printer-choice.ts: ESC/POS, or receipts.log with a simulated drawer), and the FlowHost. The runtime (src/host/runtime.ts) calls createKiosk and wires its views into
// the API events.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import type { Presentation } from '../../drivers/sim/stage.ts';
import { chooseProtector, filePermissionsProtector } from '../ledger/keyprotect.ts';
import { keyFilePath } from '../ledger/keystore.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../ledger/open.ts';
import type { ScryptCost } from '../ledger/pin.ts';
import { DEFAULT_KIOSK_CONFIG, FlowHost, type KioskConfig, type KioskHooks } from '../flows/kiosk.ts';
import type { Digits, Language, LinkStatus, PalmsStatus, Placeholder, PrinterStatus, QueueStatus, ScannerStatus } from '../api/schemas.ts';
import type { StatusSource } from './placeholders.ts';
import { startRemoteLink, type Link } from './link.ts';
import { clientScanner, openDeviceScanner, type KioskScanner } from './adapters/scanner.ts';
import { scannerCheckPort } from './adapters/scanner-check.ts';
import { modulePalmPath, watchPalmModule, type PalmModuleWatch } from './module-sync.ts';
import { describeCentre, describePrinter, describeScanner, type CentreChoice, type PrinterChoice, type ScannerChoice } from './terminal-config.ts';
import { openPrinter } from './printer-choice.ts';
import type { ReceiptPainter } from './adapters/receipt-picture.ts';
import type { Drawer, PalmReader } from '../flows/ports.ts';
import { encodePalm, fuseCaptures, PalmIdentifier, SCANNER_DESCRIPTION, type Template } from './adapters/palm.ts';
import type { PalmImages } from './demo/palm-images.ts';
import { enrolStoredRow, loadPalmIndexInSlices, PALM_SNAPSHOT_FILE, SnapshotKeeper, writePalmSnapshot } from './adapters/palm-index.ts';
import { SqliteBank } from './adapters/sqlite-bank.ts';
import { TemplateUpdater } from './adapters/template-updates.ts';
import { centreReports } from './adapters/centre-reports.ts';
import { scheduleBackups } from '../store/backup.ts';
import { PalmPayError } from '../util/errors.ts';

export interface KioskOptions {
  dataDir: string;
  terminalId?: string;
  /** Seed the demo branch (people, vouchers, operators) into an empty store. */
  demo?: boolean;
  config?: Partial<KioskConfig>;
  hooks?: KioskHooks;
  /** Tests only: cheap PIN hashing for the seeded demo. */
  pinCost?: ScryptCost;
  /** Tests only: keep the key under file permissions (no OS keyring prompts). */
  plainKeyFile?: boolean;
  /** Show real palm images from this folder (CASIA layout) instead of synthetic palms (`--sim-images DIR`). */
  simImages?: string;
  /** Which scanner (default: the in-process simulator). */
  scanner?: ScannerChoice;
  /** Which centre (default: the embedded one, as `--demo`); `link: false` is the same as `{ kind: 'none' }`. */
  centre?: CentreChoice;
  /** Start the sync engine with the centre (default true); fastRetry for tests. */
  link?: boolean | { fastRetry: boolean };
  /** How long after an enrolment change the palm index snapshot is rewritten (debounce). Default 2 s. */
  palmSnapshotDelayMs?: number;
  /** Which receipt printer (default none: receipts.log and a simulated drawer). */
  printer?: PrinterChoice;
  /** The counter's language and digits now (receipts print in them). */
  printSettings?: () => { language: Language; digits: Digits };
  /** The built renderer (dist/renderer): its receipt page paints the printed receipts. */
  rendererDir?: string;
  /** Tests only: how receipts become pictures (default: the renderer's receipt page in headless Chromium). */
  receiptPainter?: ReceiptPainter;
  /** The palm index starts loading when this resolves (the runtime: once the first screen was answered), or at the
   * first palm read if that comes sooner. Default: at once. */
  palmIndexAfter?: Promise<unknown>;
  /** Where the daily database backups go (default $PALMPAY_BACKUP_DIR, else <data>/backups); `false`: none. */
  backupDir?: string | false;
  /**
   * Template update after a confident match (issue 19; adapters/template-updates.ts): a capture the rule admits is
   * kept as an update slot, a signed template_update record and the capture go to the centre, which re-decides it
   * and sends the admitted slots to the region's counters. Default on; off with `false` or the environment
   * `PALMPAY_TEMPLATE_UPDATES=off` (templateUpdatesEnabled).
   */
  templateUpdates?: boolean;
}

export interface Kiosk {
  host: FlowHost<Template>;
  /** The 1:N index over the enrolled templates (loaded at start, updated on enrolment). */
  identifier: PalmIdentifier;
  terminal: Terminal;
  /** The in-process simulator when the scanner is simulated (the demo's panel and the tests script it), else null. */
  sim: SimulatedScanner | null;
  scanner: KioskScanner;
  /** A real serial module's user-table keeping (module-sync.ts), or null with the simulated scanner. */
  palmModule: PalmModuleWatch | null;
  link: Link | null;
  /** Placeholders in this composition, one English sentence each (logs, status). */
  placeholders: Placeholder[];
  /** Status sources for the status bar (the host service forwards their changes as events). */
  status: { scanner: StatusSource<ScannerStatus>; link: StatusSource<LinkStatus>; queue: StatusSource<QueueStatus>; printer: StatusSource<PrinterStatus>; palms: StatusSource<PalmsStatus> };
  /** The palms the simulated scanner can present: every demo hand, plus one that was never enrolled. */
  simPalms: string[];
  /** Test hooks: lay a palm on the simulated scanner; make the drawer fail. */
  present(...p: Presentation[]): void;
  setDrawerFails(fail: boolean): void;
  setLinkUp(up: boolean): void;
  drawerOpens(): number;
  close(): Promise<void>;
}

/** Simulated frame size: what the scanner streams and what the demo palms are enrolled from. */
const FRAME = { width: 320, height: 240 };

/** Demo palms: every demo person and operator lays their own synthetic hand; two people were enrolled from the
 * same hand, 'twin' (a duplicate that slipped through), so the real 1:N decision finds them within the margin. */
const TWINS = [
  { id: 'emp-twin-a', nameAr: 'سامي نور', nameLatin: 'Sami Nur', status: 'active' as const, vouchers: [{ period: '2026-10', minor: 8_000_000, here: true }] },
  { id: 'emp-twin-b', nameAr: 'رامي نور', nameLatin: 'Rami Nur', status: 'active' as const, vouchers: [{ period: '2026-10', minor: 8_000_000, here: true }] },
];

export async function createKiosk(opts: KioskOptions): Promise<Kiosk> {
  const log = opts.hooks?.log ?? (() => {});
  if (!existsSync(keyFilePath(opts.dataDir))) {
    provisionTerminal(opts.dataDir, opts.terminalId ?? 'T-0001', { protector: opts.plainKeyFile ? filePermissionsProtector() : chooseProtector() });
  }
  const terminal = openTerminal(opts.dataDir, opts.plainKeyFile ? { protector: filePermissionsProtector() } : {});
  const { store, keys } = terminal;

  const scannerChoice = opts.scanner ?? { kind: 'sim' };
  // The demo's parts (its branch, its palms, the simulator and the embedded centre) are loaded only when named: a
  // counter on a real scanner and a remote centre starts without them (cold start).
  const demoParts = opts.demo || scannerChoice.kind === 'sim';
  let demoPalms: Array<{ personId: string; palm: string }> = [];
  let images: PalmImages | null = null;
  if (demoParts) {
    const [{ DEMO_OPERATORS, DEMO_PEOPLE, seedDemo, seedDemoPalms }, { folderPalms, syntheticPalms }] = await Promise.all([import('./demo/seed.ts'), import('./demo/palm-images.ts')]);
    demoPalms = [...[...DEMO_PEOPLE, ...DEMO_OPERATORS].map((p) => ({ personId: p.id, palm: p.id })), ...TWINS.map((t) => ({ personId: t.id, palm: 'twin' }))];
    images = opts.simImages ? await folderPalms(opts.simImages, FRAME, demoPalms.map((p) => p.palm)) : syntheticPalms(FRAME);
    if (opts.demo && store.journal.count() === 0 && !store.people.get(DEMO_PEOPLE[0]!.id)) {
      await seedDemo(terminal, { openingFloat: 200_000_000, people: [...DEMO_PEOPLE, ...TWINS], ...(opts.pinCost ? { pinCost: opts.pinCost } : {}) });
      await seedDemoPalms(terminal, demoPalms, images);
    }
  }

  // The 1:N index from the sealed index snapshot (palm-index.ts): coarse codes in bulk, templates left sealed until
  // stage 2 opens its K candidates. Missing or failing authentication → rebuilt from the rows (logged).
  // Loaded in slices, and only once the first screen (sign-in) was served (palmIndexAfter) or a palm is read, so
  // 10⁵ entries never delay it; the status bar and the lock screen say "loading palms" meanwhile. A palm read waits
  // for the index and for the feed's palm changes that came during the load (below).
  const identifier = new PalmIdentifier();
  let indexLoaded = false;
  const palmDeps = { store, sealer: keys.sealer, file: join(opts.dataDir, PALM_SNAPSHOT_FILE) };
  let palmsNow: PalmsStatus = { state: 'waiting', loaded: 0, total: 0 };
  const palmsListeners = new Set<(s: PalmsStatus) => void>();
  const setPalms = (s: PalmsStatus) => {
    palmsNow = s;
    palmsListeners.forEach((l) => l(s));
  };
  let startIndexLoad!: () => void;
  const loadStarts = new Promise<void>((resolve) => (startIndexLoad = resolve));
  void (opts.palmIndexAfter ?? Promise.resolve()).then(() => startIndexLoad());
  let lastProgress = 0;
  let closing = false;
  const indexReady = loadStarts.then(() => {
    if (closing) throw new PalmPayError('KIOSK_CLOSED', 'the kiosk closed before its palm index was loaded');
    return loadPalmIndexInSlices(identifier, palmDeps, undefined, (loaded, total) => {
    // At most a few status events a second.
    const t = performance.now();
    if (loaded < total && t - lastProgress < 250) return;
    lastProgress = t;
    setPalms({ state: 'loading', loaded, total });
    });
  }).then((loaded) => {
    setPalms({ state: 'ready', loaded: identifier.size, total: identifier.size });
    log(
      loaded.path === 'snapshot'
        ? `palm index: loaded from the snapshot (${loaded.fromSnapshot} templates; ${loaded.opened} added since opened, ${loaded.dropped} gone dropped) in ${loaded.ms.toFixed(0)} ms`
        : `palm index: snapshot ${loaded.reason}; rebuilt from the rows (${loaded.opened} templates opened) in ${loaded.ms.toFixed(0)} ms`,
    );
    for (const s of loaded.skipped) log(`palm index: template ${s.entryId} skipped (${s.code}: ${s.message})`);
    if (loaded.stale) writeSnapshot();
    identifier.onChange = () => snapshots.schedule();
    indexLoaded = true;
  });
  indexReady.catch((err: unknown) => {
    setPalms({ state: 'error', loaded: 0, total: palmsNow.total });
    log(`palm index: could not be loaded (${(err as Error).message}); palms are not read`);
  });
  const writeSnapshot = () => {
    try {
      const w = writePalmSnapshot(identifier, palmDeps);
      log(`palm index: snapshot written (${w.entries} templates, ${w.bytes} bytes, ${w.ms.toFixed(0)} ms)`);
    } catch (err) {
      log(`palm index: snapshot not written (${(err as Error).message}); the next start rebuilds it`);
    }
  };
  const snapshots = new SnapshotKeeper(writeSnapshot, opts.palmSnapshotDelayMs ?? 2000);

  let sim: SimulatedScanner | null = null;
  let scanner: KioskScanner;
  if (scannerChoice.kind === 'sim') {
    const { SimulatedScanner } = await import('../../drivers/sim/simulator.ts');
    sim = new SimulatedScanner({ protocol: 'hid', ...FRAME, ...(images?.source ? { source: images.source } : {}) });
    const inProcess = await sim.connectInProcess();
    scanner = clientScanner(inProcess.client, 'simulated', 'simulated scanner (in-process, HID profile)');
  } else {
    scanner = openDeviceScanner(scannerChoice, { log });
  }
  // A palm is read at once (the hand is on the glass) but handed to the flows only once the index is loaded and
  // every palm change the feed brought meanwhile is applied (a revocation during the load must not let a palm pay).
  const palm: PalmReader<Template> = {
    read: async (o) => {
      startIndexLoad();
      const r = await scanner.palm.read(o);
      await indexReady;
      await palmChangesDuringLoad;
      return r;
    },
    onPlacement: (listener) => scanner.palm.onPlacement(listener),
  };

  let drawerFails = false;
  let opens = 0;
  const simulatedDrawer: Drawer = {
    async open() {
      if (drawerFails) throw new Error('simulated drawer does not answer');
      opens++;
      log('cash drawer opened (simulated)');
    },
  };
  const printing = await openPrinter({
    choice: opts.printer ?? { kind: 'none' },
    dataDir: opts.dataDir,
    log,
    ...(opts.printSettings ? { settings: opts.printSettings } : {}),
    ...(opts.receiptPainter ? { painter: opts.receiptPainter } : {}),
    ...(opts.rendererDir ? { rendererDir: opts.rendererDir } : {}),
  });
  const printer = printing.printer;
  // The real drawer hangs on the printer's drawer port; with no printer it stays simulated (a test hook can fail it).
  const drawer: Drawer = printing.drawer ?? simulatedDrawer;

  const centre: CentreChoice = opts.link === false ? { kind: 'none' } : (opts.centre ?? { kind: 'embedded' });
  const fastRetry = typeof opts.link === 'object' && opts.link.fastRetry;
  const link =
    centre.kind === 'embedded' ? await (await import('./demo/link.ts')).startEmbeddedLink(terminal, opts.dataDir, { fastRetry, demo: opts.demo })
    : centre.kind === 'remote' ? startRemoteLink(terminal, centre.url, { fastRetry, insecureHttp: centre.insecureHttp })
    : null;
  log(`scanner: ${describeScanner(scannerChoice)}; centre: ${describeCentre(centre)}; printer: ${describePrinter(opts.printer ?? { kind: 'none' })}`);
  // The feed's enrolments and revocations reach the running index (the store already holds them).
  // During the load the feed's changes wait (in order) for it: a revocation applied before the load reached the
  // person would be undone by the load.
  let palmChangesDuringLoad: Promise<void> = Promise.resolve();
  link?.sync.on('moduleFeatureRefused', (r) => log(`feed: the palm module feature of ${r.personId} refused, not kept (${r.code}: ${r.message})`));
  link?.sync.on('palms', (c) => {
    if (indexLoaded) return applyPalmChanges(c);
    palmChangesDuringLoad = palmChangesDuringLoad.then(() => indexReady).then(
      () => applyPalmChanges(c),
      () => undefined, // no index: nothing to apply to (a read fails on indexReady itself)
    );
  });
  const applyPalmChanges = (c: { revoked: string[]; added: Array<{ templateId: string; personId: string }> }) => {
    for (const personId of c.revoked) {
      const n = identifier.revoke(personId);
      log(`palm index: person ${personId} revoked by the centre (${n} templates dropped)`);
    }
    for (const a of c.added) {
      try {
        enrolStoredRow(identifier, palmDeps, a.templateId, a.personId);
      } catch (err) {
        log(`palm index: template ${a.templateId} from the centre skipped (${(err as Error).message})`);
      }
    }
  };
  // A serial module that matches on its own (no images, feature transfer) has its user table kept equal to the
  // store: reconciled when it connects, synced after each feed page (module-sync.ts).
  const palmModule = scannerChoice.kind === 'sim' ? null : watchPalmModule({ scanner, store, sealer: keys.sealer, log, feed: link?.sync ?? null });
  // With a module that matches on its own, the screens' palm reads are its verdicts, mapped and judged, and an
  // enrolment's captures are its features: the bank then pins the module's feature, no templates (module-sync.ts).
  const palmPath = palmModule ? modulePalmPath<Template>({ watch: palmModule, reader: palm, identifier, log }) : { palm, identifier, moduleFeatureOf: undefined };
  const bank = new SqliteBank<Template>({ terminal, encode: encodePalm, fuse: fuseCaptures, ...(palmPath.moduleFeatureOf ? { moduleFeatureOf: palmPath.moduleFeatureOf } : {}) });
  const hooks: KioskHooks = {
    ...opts.hooks,
    // A flow that moved may have appended a record: upload now rather than at the next poll.
    onFlow: (v) => {
      link?.sync.kick();
      opts.hooks?.onFlow?.(v);
    },
  };
  const centreReader = link ? centreReports({ sync: link.sync, terminalId: terminal.ledger.terminalId, append: (d) => terminal.ledger.append(d) }) : undefined;
  const host = new FlowHost<Template>({ palm: palmPath.palm, identifier: palmPath.identifier, bank, drawer, printer, scanner: scannerCheckPort(scanner), ...(centreReader ? { centre: centreReader } : {}) }, { ...DEFAULT_KIOSK_CONFIG, ...opts.config }, hooks);
  if (templateUpdatesEnabled(opts.templateUpdates, process.env.PALMPAY_TEMPLATE_UPDATES)) {
    // Signed by the operator at the counter; an operator's own sign-in (no session yet) updates nothing.
    const updater = new TemplateUpdater({ terminal, operator: () => { const s = host.session().state; return s.step === 'active' ? s.operator.id : null; } });
    identifier.onMatch = (m) => {
      try {
        const u = updater.consider(m);
        if (u.applied) log(`template update: ${m.personId} slot ${u.replaces === null ? 'new' : `replaces ${u.replaces}`} (anchor ${u.anchorScore.toFixed(4)}, record seq ${u.seq})`);
      } catch (err) {
        log(`template update of ${m.personId} not made (${(err as Error).message})`); // never changes the identification
      }
    };
  }
  const placeholders: Placeholder[] = [];
  if (sim) placeholders.push({ part: 'scanner', description: `${SCANNER_DESCRIPTION}; images: ${images?.description ?? 'synthetic'}` });
  if (printing.placeholder) placeholders.push({ part: 'printer', description: printing.placeholder });
  if (!link) placeholders.push({ part: 'server', description: `no link to a centre: records stay in the outbox (${describeCentre(centre)})` });
  if (centre.kind === 'remote' && centre.insecureHttp) placeholders.push({ part: 'server', description: `INSECURE: plain http to ${centre.url} (--insecure-http)` });
  for (const p of placeholders) log(`PLACEHOLDER ${p.part}: ${p.description}`);
  const palmsStatus: StatusSource<PalmsStatus> = { status: () => palmsNow, onChange: (l) => (palmsListeners.add(l), () => void palmsListeners.delete(l)) };
  const status = { ...statusSources(scanner, link, terminal, Boolean(sim), centre.kind === 'remote' && centre.insecureHttp, palmModule), printer: printing.status, palms: palmsStatus };
  // Once the counter is ready: today's backup if missing, then one a day (src/store/backup.ts).
  const backupDir = opts.backupDir ?? process.env.PALMPAY_BACKUP_DIR ?? join(opts.dataDir, 'backups');
  const backups = backupDir === false ? null : scheduleBackups(store.db, backupDir, log);

  return {
    host,
    identifier,
    terminal,
    sim,
    scanner,
    palmModule,
    link,
    placeholders,
    status,
    // 'stranger' is never enrolled (the unknown-palm demo); the new-hand-N palms are fresh hands for enrolment demos.
    simPalms: [...new Set(demoPalms.map((p) => p.palm)), 'stranger', 'new-hand-1', 'new-hand-2', 'new-hand-3'],
    present: (...p) => {
      if (!sim) throw new PalmPayError('SIM_PANEL_OFF', 'this terminal reads palms from a real scanner: nothing to script');
      sim.enqueue(...p);
    },
    setDrawerFails: (f) => void (drawerFails = f),
    setLinkUp: (up) => link?.setUp(up),
    drawerOpens: () => opens,
    async close() {
      await backups?.stop(); // a backup in progress finishes before the database closes
      host.dispose();
      await link?.close();
      palmModule?.close();
      await palmModule?.idle();
      await scanner.close();
      await printing.close();
      closing = true;
      startIndexLoad(); // a load not yet started ends at once (KIOSK_CLOSED) instead of waiting forever
      await indexReady.catch(() => undefined); // its last slices may still open rows from the store
      identifier.onChange = null;
      snapshots.flush(); // a pending rewrite is written before the store closes
      terminal.close();
    },
  };
}

/**
 * Whether the counter makes template updates: the kiosk option when given, else the environment's
 * `PALMPAY_TEMPLATE_UPDATES` (`on` / `off`; unset: on). Any other value is refused, not guessed at.
 */
export function templateUpdatesEnabled(option: boolean | undefined, env: string | undefined): boolean {
  if (option !== undefined) return option;
  if (env === undefined || env === '' || env === 'on') return true;
  if (env === 'off') return false;
  throw new PalmPayError('CONFIG_INVALID', `PALMPAY_TEMPLATE_UPDATES is "${env}": expected on or off`);
}

/** The scanner's device state, the link and the outbox queue as the status bar shows them. */
function statusSources(scanner: KioskScanner, link: Link | null, terminal: Terminal, simulated: boolean, insecure: boolean, palmModule: PalmModuleWatch | null): Omit<Kiosk['status'], 'printer' | 'palms'> {
  const source = <T>(get: () => T, subscribe: (fire: () => void) => () => void, placeholder?: Placeholder): StatusSource<T> => ({
    status: get,
    onChange: (listener) => subscribe(() => listener(get())),
    ...(placeholder ? { placeholder } : {}),
  });
  const onSync = (fire: () => void) => {
    if (!link) return () => {};
    link.sync.on('status', fire);
    return () => void link.sync.off('status', fire);
  };
  const lastSync = () => {
    const ms = terminal.store.settings.get<number>('sync.lastSyncMs');
    return typeof ms === 'number' ? new Date(ms).toISOString() : null;
  };
  return {
    scanner: source<ScannerStatus>(
      () => {
        const module = palmModule?.statusProblem();
        return { state: scanner.state(), kind: scanner.kind, placeholder: simulated, ...(module ? { module } : {}) };
      },
      (fire) => {
        const offScanner = scanner.onChange(fire);
        const offModule = palmModule?.onChange(fire);
        return () => {
          offScanner();
          offModule?.();
        };
      },
      simulated ? { part: 'scanner', description: SCANNER_DESCRIPTION } : undefined,
    ),
    link: source<LinkStatus>(() => ({ state: link ? link.status().link : 'down', server: link?.server ?? 'none', placeholder: false, lastSyncAt: lastSync(), ...(insecure ? { insecure: true } : {}) }), onSync),
    queue: source<QueueStatus>(() => {
      const s = link ? link.status() : null;
      return { length: s ? s.pending + s.inFlight : terminal.store.outbox.stats().pending };
    }, onSync),
  };
}
