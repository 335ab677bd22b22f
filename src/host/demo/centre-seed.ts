// The demo's bills at its embedded centre, so `npm start` shows the bill flow working end to end: an electricity
// biller for this counter's region, demo people known to the centre as customers with funds, subscriber numbers
// linked to them, and open bills — which reach the counter through the signed feed like any real bill. One
// subscriber pays by direct debit, so its bill is paid at import: a number known here with nothing due.
// Runs once per centre database (the biller's presence says it ran).
import { randomUUID } from 'node:crypto';
import { Mandates } from '../../server/billing/mandates.ts';
import { fundingPostings } from '../../server/postings.ts';
import type { Central } from '../../server/service.ts';
import { joinName } from '../adapters/sqlite-bank.ts';
import { DEMO_OPERATORS, DEMO_PEOPLE } from './seed.ts';
import { hashPin } from '../../protocol/pin.ts';
import { sql } from '../../server/sql.ts';
import { customerPinOf } from '../../server/customer-pins.ts';

export const DEMO_BILLER = { id: 'elec-hasakah', name: 'كهرباء الحسكة / Electricity, Hasakah' };

/** Demo subscriber numbers: who pays them, and the bills imported for them (SYP minor units). */
export const DEMO_SUBSCRIBERS = [
  {
    subscriber: '00123456', personId: 'emp-ahmad',
    bills: [
      { bill: 'EH-2026-10-00123456', cycle: '2026-10', amount: 1_800_000, due: '2026-11-15', previous: 10_200, current: 10_480 },
      { bill: 'EH-2026-11-00123456', cycle: '2026-11', amount: 2_500_000, due: '2026-12-15', previous: 10_480, current: 10_830 },
    ],
  },
  { subscriber: '00654321', personId: 'emp-hevi', bills: [{ bill: 'EH-2026-11-00654321', cycle: '2026-11', amount: 950_000, due: '2026-12-20', previous: 4_310, current: 4_420 }] },
  // A payer without a PIN (issue 17f): the bill flow sends them to a supervised counter's "Set PIN" first.
  { subscriber: '00246810', personId: 'emp-rojin', bills: [{ bill: 'EH-2026-11-00246810', cycle: '2026-11', amount: 700_000, due: '2026-12-20', previous: 2_100, current: 2_180 }] },
  // Paid by direct debit at import: known to the counter, nothing due.
  { subscriber: '00555555', personId: 'emp-karim', mandate: true, bills: [{ bill: 'EH-2026-11-00555555', cycle: '2026-11', amount: 1_200_000, due: '2026-12-15', previous: 800, current: 950 }] },
] as const;

/** Funds each payer holds at the centre: above the allowance cap, so their offline allowance stays the demo's. */
const DEMO_FUNDS = 100_000_000;

/**
 * `palmsOf`: the counter's enrolled templates of a demo person (plaintext), handed to the centre with the person so
 * it can judge their template updates (issue 19) as it would for a person enrolled through it.
 */
export async function seedDemoCentre(central: Central, terminalId: string, region: string, now = Date.now(), palmsOf?: (personId: string) => Uint8Array[]): Promise<void> {
  // The demo's operators are granted their roles here, at the centre, like any real counter's: the centre then
  // accepts the demo supervisor's approvals (refunds, voids, raised limits) and the grants reach the counter in its
  // signed feed. The counter's own seed already holds their PINs, which the grants leave as they are.
  const granted = new Set((await central.listOperators()).filter((o) => o.terminal_id === terminalId).map((o) => o.operator_id));
  for (const o of DEMO_OPERATORS) {
    if (!granted.has(o.id)) await central.grantOperator(terminalId, { operatorId: o.id, name: joinName(o.nameAr, o.name), role: o.role, active: true });
  }
  // Every demo payer is a customer at the centre (also in a demo folder seeded before a payer was added).
  await central.repo.tx(async (r) => {
    for (const s of DEMO_SUBSCRIBERS) {
      if (await r.getPerson(s.personId)) continue;
      // The demo people were enrolled at this counter before the centre existed: the centre knows them as confirmed
      // customers; their templates follow below (not published: the counter already holds their palms).
      await r.insertPerson({ id: s.personId, region, status: 'confirmed', account_id: `acc-${s.personId}`, terminal_id: terminalId, seq: 0, digests: '[]', templates: null, duplicate_of: null, created_at: now, updated_at: now });
      await r.postTxn({ source: 'admin', terminalId: null, seq: null, ref: `credit:demo:${randomUUID()}`, memo: `demo deposit to acc-${s.personId}`, at: now, postings: fundingPostings(`acc-${s.personId}`, DEMO_FUNDS, 'SYP') });
    }
  });
  for (const s of DEMO_SUBSCRIBERS) {
    const palms = palmsOf?.(s.personId) ?? [];
    const p = await central.repo.tx((r) => r.getPerson(s.personId));
    if (palms.length && p?.templates === null) await central.enrolments.adoptTemplates(s.personId, palms.map((t) => Buffer.from(t).toString('base64')));
  }
  // Their PINs too: the centre checks a person's PIN itself before it serves a report (issue 17). The counter's seed
  // holds the same PINs; a PIN set later at a counter (a signed pin_set, a later time) replaces these.
  for (const s of DEMO_SUBSCRIBERS) {
    const pin = DEMO_PEOPLE.find((p) => p.id === s.personId)?.pin;
    if (!pin || (await central.repo.tx((r) => customerPinOf(r.conn, s.personId))) !== undefined) continue;
    const pinHash = await hashPin(pin);
    await central.repo.tx((r) => r.conn.run(sql`INSERT INTO customer_pins (person_id, pin_hash, terminal_id, seq, approved_by, set_at, received_at)
      VALUES (${s.personId}, ${pinHash}, ${terminalId}, ${0}, ${'demo-seed'}, ${0}, ${now}) ON CONFLICT (person_id) DO NOTHING`));
  }
  const billing = central.billing();
  const billRows = (subs: ReadonlyArray<(typeof DEMO_SUBSCRIBERS)[number]>) => [
    'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading',
    ...subs.flatMap((s) => s.bills.map((b) => [DEMO_BILLER.id, s.subscriber, b.bill, b.cycle, b.amount, 'SYP', b.due, b.previous, b.current].join(','))),
  ].join('\n');
  if ((await billing.listBillers()).some((b) => b.id === DEMO_BILLER.id)) {
    // Seeded before: link again, which re-publishes each link in the feed (a demo folder from before links were in
    // the feed would otherwise refuse every payer as not linked). A subscriber added to the demo since (its payer
    // made a customer above, linked now for the first time) gets its bills too.
    const added = [];
    for (const s of DEMO_SUBSCRIBERS) if (await billing.link({ billerId: DEMO_BILLER.id, subscriber: s.subscriber, payerKind: 'person', payerId: s.personId })) added.push(s);
    if (added.length > 0) await billing.importBills(billRows(added));
    return;
  }
  await billing.addBiller({ id: DEMO_BILLER.id, name: DEMO_BILLER.name, region });
  for (const s of DEMO_SUBSCRIBERS) {
    await billing.link({ billerId: DEMO_BILLER.id, subscriber: s.subscriber, payerKind: 'person', payerId: s.personId });
    if ('mandate' in s) await new Mandates(central.repo).add({ personId: s.personId, billerId: DEMO_BILLER.id, subscriber: s.subscriber, maxMinor: 5_000_000, currency: 'SYP' });
  }
  await billing.importBills(billRows(DEMO_SUBSCRIBERS));
}
