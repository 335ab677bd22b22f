// Rule 3 (one owner per account) for the account a person has without naming one: an enrolment with no accountId
// pays from, and is sent the allowance of, the account named by its person id (repo.ownersAndRegionsByAccount). A
// terminal that signs whatever it likes must not bind that account to another palm, nor name its person id after
// someone else's account: either would let a second person spend or see the first one's money.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import type { TerminalRow } from '../../src/server/repo.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';
import { PG_URL } from '../server/helpers.ts';
import { balances, enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(backends)('the account a person has by their id has one owner (%s)', (kind) => {
  let c: Centre;
  let home: TestTerminal;
  let away: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    home = await registeredTerminal(c.central, 'T-HOME', { branch: 'B1', region: 'R1' });
    away = await registeredTerminal(c.central, 'T-AWAY', { branch: 'B2', region: 'R2' });
  });
  afterEach(async () => c.close());

  /** The real enrolment path (signed record, then the templates), with `accountId` left out when undefined. */
  async function enrol(t: TestTerminal, personId: string, accountId: string | undefined) {
    const template = enrolmentBytes(personId);
    const rec = t.chain.next({
      type: 'enrolment', operatorId: 'op-1', enrolmentId: `E-${personId}`, personId,
      person: { name: 'Test Person', idNumber: 'X123', ...(accountId !== undefined ? { accountId } : {}) }, templateDigests: [createHash('sha256').update(template).digest('hex')],
      hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
    });
    const [res] = await c.central.ingest(t.id, [rec]);
    const terminal = (await c.central.repo.tx((r) => r.getTerminal(t.id)))!;
    const registry = await c.central.uploadTemplates(terminal, personId, [template.toString('base64')]).catch((e: unknown) => e);
    return { result: res!, registry };
  }
  const feedOf = async (id: string) => {
    const row = (await c.central.repo.tx((r) => r.getTerminal(id))) as TerminalRow;
    return c.central.feed(row, 0, 10_000);
  };

  it('an enrolment naming as its account the person id of someone enrolled without an account is refused, and spends nothing of theirs', async () => {
    expect((await enrol(home, 'P2', undefined)).registry).toMatchObject({ status: 'confirmed' });
    await c.central.creditAccount('P2', 300_000, 'SYP');
    // The centre holds acct:P2 as P2's: its allowance goes to P2's region under P2.
    expect((await feedOf('T-HOME')).events.filter((e) => e.kind === 'allowance').map((e) => e.data)).toContainEqual(expect.objectContaining({ accountId: 'P2', customerId: 'P2', balanceMinor: 300_000 }));
    const before = await balances(c.central);

    const mallory = await enrol(home, 'MALLORY', 'P2');
    expect(mallory.result).toMatchObject({ status: 'review' });
    expect(refusalCodeOf(mallory.result.reason)).toBe('ACCOUNT_ALREADY_OWNED');
    expect(mallory.registry).toMatchObject({ code: 'PERSON_UNKNOWN' });
    expect(await c.central.repo.tx((r) => r.getPerson('MALLORY'))).toBeUndefined();
    const [spent] = await c.central.ingest(home.id, [home.chain.next(purchaseDraft(home.id, 1, 'MALLORY', 'P2', 300_000))]);
    expect(refusalCodeOf(spent!.reason)).toBe('CUSTOMER_UNKNOWN');
    expect(await balances(c.central)).toEqual(before);
  });

  it('an enrolment without an account whose person id is someone else’s account is refused, and that balance never reaches its region', async () => {
    await enrolCustomer(c.central, home, 'P1', 'A1');
    await c.central.creditAccount('A1', 123_456_789, 'SYP');
    const squatter = await enrol(away, 'A1', undefined);
    expect(squatter.result).toMatchObject({ status: 'review' });
    expect(refusalCodeOf(squatter.result.reason)).toBe('ACCOUNT_ALREADY_OWNED');
    await c.central.creditAccount('A1', 1, 'SYP'); // republishes A1's allowance wherever the centre thinks it belongs
    expect(JSON.stringify(await feedOf('T-AWAY'))).not.toMatch(/P1|123456/);
  });

  it('the control: people enrolled without an account, and with accounts of their own, are all confirmed', async () => {
    expect((await enrol(home, 'P3', undefined)).registry).toMatchObject({ status: 'confirmed' });
    expect((await enrol(home, 'P4', 'A4')).registry).toMatchObject({ status: 'confirmed' });
    // Naming one's own person id as one's account is the same account, one owner.
    expect((await enrol(away, 'P5', 'P5')).registry).toMatchObject({ status: 'confirmed' });
  });
});
