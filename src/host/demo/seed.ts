// A demo branch for a fresh terminal (`--demo`) and for the tests: operators, employees owed salary, a shop
// customer with an offline allowance and PIN, a payer with an allowance but no PIN yet (emp-rojin: "Set PIN"), a
// provisional and a blocked person, a voucher leased elsewhere.
// Palms (seedDemoPalms): each demo person's palm is a synthetic hand of the simulator's generator (the palm
// identity, by default the person id), enrolled like any other: captures → extractor → fused template, sealed.
import { createHash } from 'node:crypto';
import { hashPin, type ScryptCost } from '../../ledger/pin.ts';
import type { Terminal } from '../../ledger/open.ts';
import { encodePalm, fuseCaptures, templateFromFrame, type Template } from '../adapters/palm.ts';
import type { PalmImages } from './palm-images.ts';
import { FLOW_SETTING, joinName } from '../adapters/sqlite-bank.ts';

export interface DemoPerson {
  id: string;
  nameAr: string;
  nameLatin: string;
  status: 'active' | 'provisional' | 'blocked';
  pin?: string;
  /** Offline allowance (SYP minor units). */
  allowance?: number;
  /** The allowance expired yesterday (a customer who has not been seen by the centre for long). */
  allowanceExpired?: boolean;
  /** The account balance the centre sent with the allowance (SYP minor units; as old as the allowance). */
  balance?: number;
  /** Vouchers: period, amount (SYP minor), leased to this terminal or to another. */
  vouchers?: Array<{ period: string; minor: number; here: boolean }>;
}

export interface DemoOperator {
  id: string;
  name: string;
  nameAr: string;
  role: 'cashier' | 'enroller' | 'supervisor';
  pin: string;
}

export const DEMO_OPERATORS: DemoOperator[] = [
  { id: 'op-cashier', name: 'Rojda', nameAr: 'روجدا', role: 'cashier', pin: '1234' },
  { id: 'op-super', name: 'Sara', nameAr: 'سارة', role: 'supervisor', pin: '9999' },
  { id: 'op-enrol', name: 'Kawa', nameAr: 'كاوا', role: 'enroller', pin: '5555' },
];

export const DEMO_PEOPLE: DemoPerson[] = [
  { id: 'emp-ahmad', nameAr: 'أحمد خليل', nameLatin: 'Ahmad Khalil', status: 'active', pin: '4321', allowance: 5_000_000, balance: 100_000_000, vouchers: [{ period: '2026-09', minor: 15_000_000, here: true }, { period: '2026-10', minor: 15_000_000, here: true }] },
  { id: 'emp-hevi', nameAr: 'هيفي علي', nameLatin: 'Hêvî Elî', status: 'active', pin: '2468', allowance: 5_000_000, balance: 100_000_000, vouchers: [{ period: '2026-10', minor: 12_000_000, here: true }] },
  { id: 'emp-far', nameAr: 'دلشاد حسن', nameLatin: 'Dilşad Hesen', status: 'active', vouchers: [{ period: '2026-10', minor: 9_000_000, here: false }] },
  { id: 'emp-layla', nameAr: 'ليلى يوسف', nameLatin: 'Layla Yusuf', status: 'provisional', vouchers: [{ period: '2026-10', minor: 9_000_000, here: true }] },
  { id: 'emp-omar', nameAr: 'عمر سليمان', nameLatin: 'Omar Sileman', status: 'blocked', vouchers: [{ period: '2026-10', minor: 9_000_000, here: true }] },
  { id: 'emp-rojin', nameAr: 'روجين أحمد', nameLatin: 'Rojîn Ehmed', status: 'active', allowance: 5_000_000, balance: 100_000_000, vouchers: [{ period: '2026-10', minor: 11_000_000, here: true }] },
  { id: 'emp-karim', nameAr: 'كريم داود', nameLatin: 'Karim Dawud', status: 'active', vouchers: [{ period: '2026-10', minor: 10_500_000, here: true }] },
  { id: 'emp-nadia', nameAr: 'نادية عيسى', nameLatin: 'Nadia Îsa', status: 'active', vouchers: [{ period: '2026-10', minor: 9_500_000, here: true }] },
  { id: 'emp-yusuf', nameAr: 'يوسف بكر', nameLatin: 'Yusuf Bekir', status: 'active', vouchers: [{ period: '2026-10', minor: 13_000_000, here: true }] },
  { id: 'cust-zin', nameAr: 'زين محمد', nameLatin: 'Zîn Mihemed', status: 'active', pin: '1357', allowance: 10_000_000, balance: 24_500_000 },
  { id: 'cust-old', nameAr: 'سلمى حداد', nameLatin: 'Selma Heddad', status: 'active', pin: '8642', allowance: 5_000_000, allowanceExpired: true, balance: 7_300_000 },
];

const DAY = 86_400_000;

export async function seedDemo(
  t: Terminal,
  opts: { now?: number; openingFloat?: number; pinCost?: ScryptCost; people?: DemoPerson[]; operators?: DemoOperator[] } = {},
): Promise<void> {
  const now = opts.now ?? Date.now();
  const people = opts.people ?? DEMO_PEOPLE;
  const operators = opts.operators ?? DEMO_OPERATORS;
  const hashes = new Map<string, string>();
  for (const x of [...people, ...operators]) if (x.pin) hashes.set(x.id, await hashPin(x.pin, opts.pinCost));
  const { store, ledger } = t;
  store.transaction(() => {
    // A demo folder from before operators were sealed has unsealed rows: the demo's own operators are written again.
    for (const o of operators) {
      if (ledger.operators.isUnsealed(o.id)) store.operators.delete(o.id);
      if (!store.operators.get(o.id)) ledger.operators.add({ operatorId: o.id, name: joinName(o.nameAr, o.name), role: o.role, pinHash: hashes.get(o.id)! });
    }
    for (const p of people) {
      store.people.upsert({ personId: p.id, name: joinName(p.nameAr, p.nameLatin), idNumber: null, phone: null, employerId: null, status: p.status, updatedAtMs: now });
      const accountId = `acc-${p.id}`;
      store.people.upsertAccountRow({ accountId, personId: p.id, currency: 'SYP', status: 'active', updatedAtMs: now });
      if (p.pin) ledger.customerPins.setHash(p.id, hashes.get(p.id)!, null); // the demo's PINs: the oldest, any the centre sends replaces them
      if (p.allowance) {
        const expiresAtMs = p.allowanceExpired ? now - DAY : now + 30 * DAY;
        ledger.centreCopies.grantAllowance({ customerId: p.id, currency: 'SYP', limitMinor: p.allowance, grantedAtMs: p.allowanceExpired ? now - 31 * DAY : now, expiresAtMs, asOfSeq: ledger.head().seq, balanceMinor: p.balance ?? null });
      }
      for (const v of p.vouchers ?? []) {
        const voucherId = `v-${p.id}-${v.period}`;
        ledger.centreCopies.putVoucher({ voucherId, personId: p.id, accountId, period: v.period, amountMinor: v.minor, currency: 'SYP', status: 'open', updatedAtMs: now });
        ledger.centreCopies.putLease({ voucherId, leaseId: `lease-${voucherId}`, terminalId: v.here ? ledger.terminalId : 'T-OTHER', grantedAtMs: now, expiresAtMs: now + 60 * DAY });
      }
    }
    if (opts.openingFloat !== undefined) store.settings.set(FLOW_SETTING.openingFloat, [{ currency: 'SYP', minor: opts.openingFloat }]);
  });
  ledger.noteSync(now);
}

/** Whose palm is which synthetic hand. Two people given the same palm are a duplicate that slipped through. */
export interface DemoPalm {
  personId: string;
  /** The simulator's synthetic identity whose hand this person lays on the glass. */
  palm: string;
}

/** Captures per enrolled hand, as the enrolment flow's minimum. */
export const DEMO_CAPTURES = 3;

/**
 * Enrols each demo palm from captures of its hand (synthetic by default: three session poses, shot numbers far
 * from the live ones; see palm-images.ts) through the same extractor as the kiosk, fused into one left-hand
 * template per person and sealed in the store. The same palm always gives the same captures, so two people seeded
 * from one palm hold identical templates.
 */
export async function seedDemoPalms(t: Terminal, palms: DemoPalm[], images: PalmImages, now = Date.now()): Promise<void> {
  const { store, keys } = t;
  const cache = new Map<string, Template>();
  const enrolled = async (palm: string): Promise<Template> => {
    const hit = cache.get(palm);
    if (hit) return hit;
    const captures: Template[] = [];
    for (let i = 0; i < DEMO_CAPTURES; i++) {
      const r = templateFromFrame(await images.enrolCapture(palm, i), 'left');
      if (!r.ok) throw new Error(`demo palm '${palm}' capture ${i + 1} failed to acquire: ${r.reason}`);
      captures.push(r.template);
    }
    const fused = fuseCaptures(captures);
    cache.set(palm, fused);
    return fused;
  };
  const rows = [];
  for (const [i, { personId, palm }] of palms.entries()) {
    const templateId = `demo-${i}-${personId}`;
    const bytes = encodePalm(await enrolled(palm));
    const digest = createHash('sha256').update(bytes).digest('hex');
    rows.push({ templateId, personId, hand: 'left' as const, sealed: keys.sealer.seal(bytes, templateId), digest, provisional: false, createdAtMs: now });
  }
  store.templates.addMany(rows);
}
