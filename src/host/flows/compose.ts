// Composes the kiosk's flows for one data folder: the terminal store + signed ledger (provisioned on first
// start), the simulated scanner in-process over the HID image-scanner protocol, label identification (see
// sim-palm.ts), a simulated cash drawer and receipt printer, and the FlowHost. The runtime (src/host/runtime.ts)
// calls createKiosk and wires its views into the API events.
import { appendFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedScanner } from '../../../drivers/sim/simulator.ts';
import type { Presentation } from '../../../drivers/sim/stage.ts';
import type { InProcessScanner } from '../../../drivers/sim/simulator.ts';
import { chooseProtector, filePermissionsProtector } from '../../ledger/keyprotect.ts';
import { keyFilePath } from '../../ledger/keystore.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../ledger/open.ts';
import type { ScryptCost } from '../../ledger/pin.ts';
import { DEFAULT_KIOSK_CONFIG, FlowHost, type KioskConfig, type KioskHooks } from './kiosk.ts';
import type { Drawer, Printer } from './ports.ts';
import { DEMO_OPERATORS, DEMO_PEOPLE, seedDemo } from './seed.ts';
import { LabelIdentifier, PLACEHOLDER_DESCRIPTION, SimLabelPalmReader } from './sim-palm.ts';
import { SqliteBank } from './sqlite-bank.ts';
import type { Receipt } from './types.ts';

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
}

export interface Kiosk {
  host: FlowHost<string>;
  terminal: Terminal;
  sim: SimulatedScanner;
  scanner: InProcessScanner;
  /** Placeholders in this composition, one English sentence each (logs, status). */
  placeholders: string[];
  /** Test hooks: lay a palm on the simulated scanner; make the drawer fail. */
  present(...p: Presentation[]): void;
  setDrawerFails(fail: boolean): void;
  drawerOpens(): number;
  close(): Promise<void>;
}

/** Demo palms: every demo person and operator is enrolled under their own id; two people share 'twin'. */
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
  const encode = (label: string) => new TextEncoder().encode(label);

  if (opts.demo && store.journal.count() === 0 && !store.people.get(DEMO_PEOPLE[0]!.id)) {
    await seedDemo(terminal, { openingFloat: 200_000_000, people: [...DEMO_PEOPLE, ...TWINS], ...(opts.pinCost ? { pinCost: opts.pinCost } : {}) });
    const now = Date.now();
    const palms = [...DEMO_PEOPLE.map((p) => [p.id, p.id]), ...DEMO_OPERATORS.map((o) => [o.id, o.id]), ...TWINS.map((t) => [t.id, 'twin'])];
    store.templates.addMany(
      palms.map(([personId, label], i) => {
        const templateId = `demo-${i}-${personId}`;
        return { templateId, personId: personId!, hand: 'left' as const, sealed: keys.sealer.seal(encode(label!), templateId), digest: '', provisional: false, createdAtMs: now };
      }),
    );
  }

  const identifier = new LabelIdentifier();
  const decoder = new TextDecoder();
  store.templates.forEachOpened(keys.sealer, (_id, personId, _hand, bytes) => identifier.add(personId, [decoder.decode(bytes)]));

  const sim = new SimulatedScanner({ protocol: 'hid', width: 320, height: 240 });
  const scanner = await sim.connectInProcess();
  const palm = new SimLabelPalmReader(scanner.client, sim.stage);

  let drawerFails = false;
  let opens = 0;
  const drawer: Drawer = {
    async open() {
      if (drawerFails) throw new Error('simulated drawer does not answer');
      opens++;
      log('cash drawer opened (simulated)');
    },
  };
  const printer: Printer = {
    async print(receipt: Receipt) {
      // A stand-in printer: one JSON line per receipt in <data>/receipts.log.
      appendFileSync(join(opts.dataDir, 'receipts.log'), `${JSON.stringify(receipt)}\n`);
    },
  };

  const bank = new SqliteBank<string>({ terminal, encode });
  const host = new FlowHost<string>({ palm, identifier, bank, drawer, printer }, { ...DEFAULT_KIOSK_CONFIG, ...opts.config }, opts.hooks);
  const placeholders = [PLACEHOLDER_DESCRIPTION, 'cash drawer and receipt printer are simulated (receipts go to receipts.log)'];
  for (const p of placeholders) log(`PLACEHOLDER: ${p}`);

  return {
    host,
    terminal,
    sim,
    scanner,
    placeholders,
    present: (...p) => sim.enqueue(...p),
    setDrawerFails: (f) => void (drawerFails = f),
    drawerOpens: () => opens,
    async close() {
      host.dispose();
      await scanner.close();
      terminal.close();
    },
  };
}
