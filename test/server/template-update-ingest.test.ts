// The centre and a terminal's template_update record (issue 19, invariants.ts rule 12), attacks first: a PIN the
// terminal did not check, a template of another person, an unknown person each go to review with their reason. A
// sound record is accepted and waits for its capture (judged then: test/server/template-update-apply.test.ts); it
// changes nothing of the person's enrolled templates; the chain goes on.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('template_update at the centre on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let t1: TestTerminal;
  let cleanup: () => Promise<void>;
  let enrolledDigest: string;

  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t1 = await registeredTerminal(central, 'T1', { region: 'R1' });
    const e = await enrolCustomer(central, t1, 'P1', 'A1');
    enrolledDigest = createHash('sha256').update(e.template).digest('hex');
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  const update = (personId: string, extra: { pinSeq?: number; digest?: string; id?: string } = {}) =>
    t1.chain.next({
      type: 'template_update', operatorId: 'op-1', updateId: extra.id ?? `U-${Math.random().toString(36).slice(2)}`, personId, hand: 'left',
      enrolledDigest: extra.digest ?? enrolledDigest, captureDigest: createHash('sha256').update(`capture ${Math.random()}`).digest('hex'), anchorScore: 1200,
      pinVerified: extra.pinSeq !== undefined, ...(extra.pinSeq !== undefined ? { pinSeq: extra.pinSeq } : {}),
    });
  const ingest = async (rec: ReturnType<typeof update>) => (await central.ingest('T1', [rec]))[0]!;

  it.skipIf(skip)('attacks: a PIN the terminal did not check, a template of another person, an unknown person: review, nothing changes', async () => {
    const before = await central.repo.tx((r) => r.getPerson('P1'));
    const p2 = await enrolCustomer(central, t1, 'P2', 'A2');
    // Record 1 is P1's enrolment: no PIN was checked in it.
    expect((await ingest(update('P1', { pinSeq: 1 }))).reason).toMatch(/^TEMPLATE_UPDATE_PIN_UNPROVEN/);
    // P2's enrolled template offered as the one P1's update extends (poisoning P1 with P2's palm).
    expect((await ingest(update('P1', { digest: createHash('sha256').update(p2.template).digest('hex') }))).reason).toMatch(/^TEMPLATE_UPDATE_WRONG_TEMPLATE/);
    expect((await ingest(update('P404'))).reason).toMatch(/^CUSTOMER_UNKNOWN/);
    expect((await central.repo.tx((r) => r.getPerson('P1')))?.templates).toEqual(before?.templates);
  });

  it.skipIf(skip)('a PIN proven by a purchase that checked it, and a plain update: accepted, awaiting the capture; a replay changes nothing', async () => {
    await central.creditAccount('A1', 10_000, 'SYP');
    const buy = t1.chain.next({ type: 'purchase', operatorId: 'op-1', purchaseId: 'PU-1', customerId: 'P1', accountId: 'A1', amountMinor: 100, currency: 'SYP', pinVerified: true, offline: false });
    expect(await ingest(buy as never)).toMatchObject({ status: 'accepted' });
    const withPin = update('P1', { pinSeq: buy.seq });
    const r1 = await ingest(withPin);
    expect(r1).toMatchObject({ status: 'accepted' });
    expect(await ingest(update('P1'))).toMatchObject({ status: 'accepted' });
    expect((await central.repo.tx((r) => r.getPerson('P1')))?.templates).toBeDefined();
    const replay = await ingest(withPin);
    expect(replay.status).not.toBe('accepted');
    // The chain goes on: the next record is taken.
    expect((await enrolCustomer(central, t1, 'P3', 'A3')).result).toMatchObject({ status: 'accepted' });
  });
});
