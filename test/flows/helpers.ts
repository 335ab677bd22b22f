// Test doubles for the ports the flows depend on: a palm reader that plays a script of presentations, and an
// identifier over those scripted probes. The store side uses the real MemoryBank (the Bank contract).
import { MemoryBank } from '../support/memory-bank.ts';
import type { FlowPorts, PalmRead, PalmReader, Identifier } from '../../src/flows/ports.ts';
import type { PlacementEvent, Receipt } from '../../src/flows/types.ts';

/** A probe names who laid the palm: a person id, 'stranger' (nobody enrolled), 'twin' (ambiguous) or an FTA. */
export type Probe = string;

export class ScriptedPalm implements PalmReader<Probe> {
  private readonly queue: PalmRead<Probe>[] = [];
  private waiting: Array<(r: PalmRead<Probe>) => void> = [];
  readonly listeners = new Set<(e: PlacementEvent) => void>();
  reads = 0;

  present(who: Probe, quality = 0.9): void {
    this.push({ ok: true, template: who, quality });
  }
  fail(reason: string, quality: number | null = 0.2): void {
    this.push({ ok: false, reason, quality });
  }
  private push(r: PalmRead<Probe>): void {
    const w = this.waiting.shift();
    if (w) w(r);
    else this.queue.push(r);
  }
  read(opts: { signal: AbortSignal }): Promise<PalmRead<Probe>> {
    this.reads++;
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve, reject) => {
      const w = (r: PalmRead<Probe>) => resolve(r);
      this.waiting.push(w);
      opts.signal.addEventListener('abort', () => {
        this.waiting = this.waiting.filter((x) => x !== w);
        reject(opts.signal.reason);
      });
    });
  }
  onPlacement(listener: (e: PlacementEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Palms waiting to be read (tests assert nothing is left over). */
  get pending(): number {
    return this.queue.length;
  }
}

export function scriptedIdentifier(bank: MemoryBank<Probe>, duplicatesOf: Set<string> = new Set()): Identifier<Probe> {
  return {
    identify: (probe) => {
      if (probe === 'twin') return { kind: 'ambiguous' };
      if (!bank.people.has(probe)) return { kind: 'no-match' };
      return { kind: 'match', personId: probe };
    },
    verify: (personId, probe) => personId === probe,
    duplicates: (samples) => [...new Set(samples.filter((s) => duplicatesOf.has(s)))],
  };
}

export const SYP = (minor: number) => ({ minor, currency: 'SYP' });

export const LIMITS = { transactionCap: 500_000, terminalTotal: 2_000_000, maxRecordAgeMs: 3 * 86_400_000, maxSyncAgeMs: 7 * 86_400_000 };

/** A small branch: one cashier, one supervisor, an employee owed two months, a shop customer. */
export function seedBank(now: () => number = Date.now): MemoryBank<Probe> {
  const bank = new MemoryBank<Probe>({ terminalId: 'T1', limits: LIMITS, now, openingFloat: [SYP(10_000_000)] });
  bank.addPerson({ id: 'op-ali', nameAr: 'علي', nameLatin: 'Ali', status: 'active' });
  bank.addOperator({ id: 'cashier-1', personId: 'op-ali', name: 'Ali', roles: ['cashier', 'enroller'], pin: '1234' });
  bank.addPerson({ id: 'op-sara', nameAr: 'سارة', nameLatin: 'Sara', status: 'active' });
  bank.addOperator({ id: 'super-1', personId: 'op-sara', name: 'Sara', roles: ['supervisor', 'cashier'], pin: '9999' });
  bank.addPerson({ id: 'ahmad', nameAr: 'أحمد خليل', nameLatin: 'Ahmad Khalil', status: 'active', accountId: 'A-1' }, { pin: '4321', allowance: 1_000_000 });
  bank.addVoucher({ id: 'v-ahmad-09', personId: 'ahmad', period: '2026-09', amount: SYP(150_000), leasedTo: 'T1' });
  bank.addVoucher({ id: 'v-ahmad-10', personId: 'ahmad', period: '2026-10', amount: SYP(150_000), leasedTo: 'T1' });
  bank.addPerson({ id: 'layla', nameAr: 'ليلى', nameLatin: 'Layla', status: 'provisional' });
  bank.addVoucher({ id: 'v-layla-10', personId: 'layla', period: '2026-10', amount: SYP(90_000), leasedTo: 'T1' });
  bank.addPerson({ id: 'omar', nameAr: 'عمر', nameLatin: 'Omar', status: 'revoked' });
  bank.addPerson({ id: 'hevi', nameAr: 'هيفي', nameLatin: 'Hêvî', status: 'active' });
  bank.addVoucher({ id: 'v-hevi-10', personId: 'hevi', period: '2026-10', amount: SYP(120_000), leasedTo: 'T2' });
  return bank;
}

export interface TestPorts extends FlowPorts<Probe> {
  palm: ScriptedPalm;
  bank: MemoryBank<Probe>;
  drawerOpens: number;
  printed: Receipt[];
}

export function testPorts(bank = seedBank(), opts: { drawerFails?: boolean; duplicatesOf?: Set<string> } = {}): TestPorts {
  const ports: TestPorts = {
    palm: new ScriptedPalm(),
    identifier: scriptedIdentifier(bank, opts.duplicatesOf),
    bank,
    drawerOpens: 0,
    printed: [],
    drawer: {
      open: async () => {
        if (opts.drawerFails) throw new Error('drawer offline');
        ports.drawerOpens++;
      },
    },
    printer: { print: async (r) => void ports.printed.push(r) },
  };
  return ports;
}
