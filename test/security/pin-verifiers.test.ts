// A customer PIN's verifier comes from a terminal that signs whatever it likes (issue 17: a payer chooses their PIN
// at enrolment, or at a supervised counter). The centre judges it once (src/protocol/pin-verifier.ts) before it is
// stored and sent to every counter of the region. Attacks first, on both backends:
// - a `pin_set` or an `enrolment` carrying a malformed, a weak (scrypt N < 2^15) or a too costly verifier: review
//   with PIN_VERIFIER_MALFORMED / _WEAK / _TOO_COSTLY, nothing stored, nothing in any feed;
// - a verifier for a person of another region (a pin_set from that region's counter, a re-enrolment there of the
//   same person id): refused, the person's PIN unchanged;
// - replacing an existing person's PIN through a re-enrolment record (the same person id, or a new id with the same
//   palm): the PIN stays the one the person chose, and a duplicate enrolment's PIN is stored for nobody.
// Then the honest path: a PIN chosen at enrolment is stored only once the enrolment is confirmed (templates
// uploaded, no duplicate), and reaches the region's counters in the `customer_pin` feed event; a deferred PIN stores nothing.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPin } from '../../src/ledger/pin.ts';
import type { RecordBody } from '../../src/protocol/record.ts';
import { customerPinOf } from '../../src/server/customer-pins.ts';
import { Central } from '../../src/server/service.ts';
import { sql } from '../../src/server/sql.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

/** A verifier whose shape is right but whose cost is N (no real hash: the centre only parses it). */
const withCost = (N: number, r = 8, p = 1) => `scrypt$${N}$${r}$${p}$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('customer PIN verifiers from terminals, on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let t1: TestTerminal;
  let t2: TestTerminal;
  let far: TestTerminal;
  let cleanup: () => Promise<void>;
  let strong: string;
  let other: string;

  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    const operators = { 'op-1': 'supervisor', 'op-cashier': 'cashier', 'op-enrol': 'enroller' } as const;
    t1 = await registeredTerminal(central, 'T1', { region: 'R1', supervisors: ['op-super'], operators });
    t2 = await registeredTerminal(central, 'T2', { region: 'R1', supervisors: ['op-super2'], operators });
    far = await registeredTerminal(central, 'T9', { region: 'R2', supervisors: ['op-far'], operators });
    strong ??= await hashPin('2580');
    other ??= await hashPin('3691');
  }, 30_000);
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  let n = 0;
  const ingest = async (t: TestTerminal, rec: ReturnType<TestTerminal['chain']['next']>) => (await central.ingest(t.id, [rec]))[0]!;
  const pinSet = (t: TestTerminal, personId: string, pinHash: string, approvedBy = 'op-super') =>
    t.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: `PS-${++n}`, personId, pinHash, approvedBy });
  /** A signed enrolment record (templates uploaded separately, as a terminal does): with a PIN verifier, deferred, or neither. */
  const enrolment = (t: TestTerminal, personId: string, pin: { pinHash: string } | { pinDeferred: true } | object, template: Buffer = enrolmentBytes(personId), accountId?: string) => ({
    template,
    rec: t.chain.next({
      type: 'enrolment', operatorId: 'op-enrol', enrolmentId: `E-${++n}`, personId,
      person: { name: 'Test Person', idNumber: `X${n}`, ...(accountId ? { accountId } : {}) }, templateDigests: [createHash('sha256').update(template).digest('hex')],
      hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true, ...pin,
    } as Extract<RecordBody, { type: 'enrolment' }>),
  });
  const upload = async (t: TestTerminal, personId: string, template: Buffer) =>
    central.uploadTemplates((await central.repo.tx((r) => r.getTerminal(t.id)))!, personId, [template.toString('base64')]);
  const pinOf = (personId: string) => central.repo.tx((r) => customerPinOf(r.conn, personId));
  const storedPins = () => central.repo.tx(async (r) => Number((await r.conn.get<{ n: number }>(sql`SELECT count(*) AS n FROM customer_pins`))!.n));
  const pinEvents = async (id: string) => {
    const terminal = (await central.repo.tx((r) => r.getTerminal(id)))!;
    return (await central.feed(terminal, 0)).events.filter((e) => e.kind === 'customer_pin' || (e.kind === 'person' && e.data.pinHash !== undefined));
  };

  const bad: Array<[string, () => string, RegExp]> = [
    ['malformed (not scrypt)', () => 'scrypt$32768$8$1$c2FsdA==$aGFzaA==', /^PIN_VERIFIER_MALFORMED/],
    ['malformed (N not a power of two)', () => withCost(40_000), /^PIN_VERIFIER_MALFORMED/],
    ['malformed (hash not 32 bytes)', () => `scrypt$32768$8$1$${randomBytes(16).toString('base64')}$${randomBytes(8).toString('base64')}`, /^PIN_VERIFIER_MALFORMED/],
    ['weak (N = 2^10, cheap to guess 10^4-10^6 PINs)', () => withCost(1 << 10), /^PIN_VERIFIER_WEAK/],
    ['weak (N = 2^14)', () => withCost(1 << 14), /^PIN_VERIFIER_WEAK/],
    ['too costly (N = 2^24: 16 GiB to check)', () => withCost(1 << 24), /^PIN_VERIFIER_TOO_COSTLY/],
    ['too costly (p = 64: minutes per check)', () => withCost(1 << 15, 8, 64), /^PIN_VERIFIER_TOO_COSTLY/],
  ];

  it.skipIf(skip).each(bad)('attack: a pin_set carrying a %s verifier: review with its typed reason, nothing stored or sent', async (_what, make, reason) => {
    await enrolCustomer(central, t1, 'P1', 'A1');
    const res = await ingest(t1, pinSet(t1, 'P1', make()));
    expect(res).toMatchObject({ status: 'review' });
    expect(res.reason).toMatch(reason);
    expect(await storedPins()).toBe(0);
    expect(await pinEvents('T2')).toEqual([]);
  });

  it.skipIf(skip).each(bad)('attack: an enrolment carrying a %s verifier: review with its typed reason; the person is not registered, no PIN', async (_what, make, reason) => {
    const { rec, template } = enrolment(t1, 'P5', { pinHash: make() });
    const res = await ingest(t1, rec);
    expect(res).toMatchObject({ status: 'review' });
    expect(res.reason).toMatch(reason);
    await expect(upload(t1, 'P5', template)).rejects.toMatchObject({ code: 'PERSON_UNKNOWN' });
    expect(await storedPins()).toBe(0);
    expect(await pinEvents('T2')).toEqual([]);
  });

  it.skipIf(skip)('attack: a verifier for a person of another region (pin_set, or a re-enrolment of the same id there): refused, the PIN unchanged', async () => {
    const { rec, template } = enrolment(t1, 'P1', { pinHash: strong });
    expect(await ingest(t1, rec)).toMatchObject({ status: 'accepted' });
    await upload(t1, 'P1', template);
    expect(await pinOf('P1')).toBe(strong);
    const farSet = await ingest(far, pinSet(far, 'P1', other, 'op-far'));
    expect(farSet.reason).toMatch(/^CUSTOMER_UNKNOWN/);
    const again = enrolment(far, 'P1', { pinHash: other });
    expect((await ingest(far, again.rec)).reason).toMatch(/^PERSON_EXISTS/);
    expect(await pinOf('P1')).toBe(strong);
    expect(await pinEvents('T9')).toEqual([]); // nothing of P1 reaches the other region
  });

  it.skipIf(skip)("attack: replacing an existing person's PIN through a re-enrolment record (same id; new id with the same palm): the PIN stays", async () => {
    const { rec, template } = enrolment(t1, 'P1', { pinHash: strong });
    await ingest(t1, rec);
    await upload(t1, 'P1', template);
    expect(await pinOf('P1')).toBe(strong);
    // The same person id again, from another counter of the region: refused whole.
    const same = enrolment(t2, 'P1', { pinHash: other });
    expect((await ingest(t2, same.rec)).reason).toMatch(/^PERSON_EXISTS/);
    await expect(upload(t2, 'P1', same.template)).rejects.toMatchObject({ code: 'PERSON_NOT_YOURS' });
    // A new id with the same palm: held as a possible duplicate, and its PIN is stored for nobody.
    const twin = enrolment(t2, 'P1-again', { pinHash: other }, enrolmentBytes('P1', 'left', 1)); // new captures of P1's palm
    expect(await ingest(t2, twin.rec)).toMatchObject({ status: 'accepted' });
    expect(await upload(t2, 'P1-again', twin.template)).toMatchObject({ status: 'duplicate_review', duplicateOf: 'P1' });
    expect(await pinOf('P1')).toBe(strong);
    expect(await pinOf('P1-again')).toBeUndefined();
    expect((await pinEvents('T2')).map((e) => [e.key, e.data.pinHash])).toEqual([['P1', strong], ['P1', strong]]);
  });

  it.skipIf(skip)('a PIN chosen at enrolment: stored once the enrolment is confirmed, and sent to the region in customer_pin; a deferred PIN stores nothing', async () => {
    const { rec, template } = enrolment(t1, 'P1', { pinHash: strong });
    expect(await ingest(t1, rec)).toMatchObject({ status: 'accepted' });
    expect(await pinOf('P1')).toBeUndefined(); // provisional: not a payer yet
    expect(await pinEvents('T2')).toEqual([]);
    expect(await upload(t1, 'P1', template)).toMatchObject({ status: 'confirmed' });
    expect(await pinOf('P1')).toBe(strong);
    const events = await pinEvents('T2');
    // With the version of the record that set it (the enrolment's time, terminal and seq): how a counter orders it.
    const pinVersion = { atMs: rec.hlc.ms, terminalId: 'T1', seq: rec.seq };
    expect(events.filter((e) => e.kind === 'customer_pin')).toEqual([expect.objectContaining({ key: 'P1', data: { personId: 'P1', pinHash: strong, pinVersion } })]);
    expect(events.find((e) => e.kind === 'person')?.data.pinVersion).toEqual(pinVersion);
    expect(events.find((e) => e.kind === 'person')?.data.pinHash).toBe(strong);
    // A later pin_set at a supervised counter still replaces it (the PIN is the person's to change).
    expect(await ingest(t1, pinSet(t1, 'P1', other))).toMatchObject({ status: 'accepted' });
    expect(await pinOf('P1')).toBe(other);

    const deferred = enrolment(t1, 'P2', { pinDeferred: true });
    expect(await ingest(t1, deferred.rec)).toMatchObject({ status: 'accepted' });
    expect(await upload(t1, 'P2', deferred.template)).toMatchObject({ status: 'confirmed' });
    expect(await pinOf('P2')).toBeUndefined();
  });

  it.skipIf(skip)('two PINs set in one millisecond at two counters: the same one stands whichever arrives first (time, then terminal, then seq)', async () => {
    const at = Date.now() + 60_000; // after every record the two chains signed so far
    const set = (t: TestTerminal, personId: string, pinHash: string, approvedBy: string) =>
      t.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: `PS-${++n}`, personId, pinHash, approvedBy }, at);
    await enrolCustomer(central, t1, 'P1', 'A1');
    await enrolCustomer(central, t1, 'P2', 'A2');
    // P1: T2's record first, then T1's; P2: the other way round. T2's stands for both (same time, "T2" > "T1").
    expect(await ingest(t2, set(t2, 'P1', other, 'op-super2'))).toMatchObject({ status: 'accepted' });
    expect(await ingest(t1, set(t1, 'P1', strong, 'op-super'))).toMatchObject({ status: 'accepted' });
    expect(await ingest(t1, set(t1, 'P2', strong, 'op-super'))).toMatchObject({ status: 'accepted' });
    const t2p2 = set(t2, 'P2', other, 'op-super2');
    expect(await ingest(t2, t2p2)).toMatchObject({ status: 'accepted' });
    expect([await pinOf('P1'), await pinOf('P2')]).toEqual([other, other]);
    // The feed carries each verifier with its record's version: what a counter orders it by (Ledger.applyCustomerPin).
    const last = (await pinEvents('T1')).filter((e) => e.kind === 'customer_pin' && e.key === 'P2').at(-1)!;
    expect(last.data).toEqual({ personId: 'P2', pinHash: other, pinVersion: { atMs: at, terminalId: 'T2', seq: t2p2.seq } });
  });

  it.skipIf(skip)('a customer_pin event published before events carried versions: sent with the stored PIN’s version, or not at all once replaced', async () => {
    await enrolCustomer(central, t1, 'P1', 'A1');
    const rec = pinSet(t1, 'P1', strong);
    expect(await ingest(t1, rec)).toMatchObject({ status: 'accepted' });
    /** The event as an older centre published it (no version), in place of the one published now. */
    const legacy = async (pinHash: string) => {
      await central.repo.tx((r) => r.appendFeed('region:R1', 'customer_pin', 'P1', { personId: 'P1', pinHash }, Date.now()));
      await central.repo.catchUp('feed');
      return (await pinEvents('T2')).filter((e) => e.kind === 'customer_pin').map((e) => e.data);
    };
    const pinVersion = { atMs: rec.hlc.ms, terminalId: 'T1', seq: rec.seq };
    expect(await legacy(strong)).toEqual([{ personId: 'P1', pinHash: strong, pinVersion }]);
    expect(await legacy(other)).toEqual([]); // a verifier the centre no longer holds
  });
});
