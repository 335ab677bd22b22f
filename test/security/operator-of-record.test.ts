// Rule 16: the centre re-checks who made each record. A counter opens its flows by the role the centre granted its
// operator there (src/protocol/operator-roles.ts); a counter whose store was edited or whose key is misused signs
// whatever operator id it likes. So every record that moves money or identity must name an operator the centre
// granted, at that terminal, a role that covers the record's work, still active: else it goes to review, typed,
// and moves nothing.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPin } from '../../src/protocol/pin.ts';
import { sealedPinDigest, sealReportPin, verifyReportPinKey } from '../../src/protocol/report-pin.ts';
import { startServer } from '../../src/server/index.ts';
import { sql } from '../../src/server/sql.ts';
import { CentreRefusal } from '../../src/sync/client.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { dutyOfRecord, roleMayDo, OPERATOR_ROLES } from '../../src/protocol/operator-roles.ts';
import { RECORD_TYPES, type RecordDraft, type SignedRecord } from '../../src/protocol/record.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';
import { PG_URL } from '../server/helpers.ts';
import { balances, enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const purchaseBy = (operatorId: string, n: number): RecordDraft => ({ ...(purchaseDraft('T1', n, 'P1', 'A1', 5_000) as Extract<RecordDraft, { type: 'purchase' }>), operatorId });
const enrolmentBy = (operatorId: string, personId: string): RecordDraft => ({
  type: 'enrolment', operatorId, enrolmentId: `E-${personId}`, personId, person: { name: 'New Person', idNumber: `ID-${personId}`, accountId: `A-${personId}` },
  templateDigests: [createHash('sha256').update(enrolmentBytes(personId)).digest('hex')], hands: ['left'],
  consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
});

describe.each(backends)('the operator of every record is re-checked at the centre (%s)', (kind) => {
  let c: Centre;
  let t1: TestTerminal;
  beforeEach(async () => {
    c = await openCentre(kind);
    t1 = await registeredTerminal(c.central, 'T1', { region: 'R1', operators: { 'op-1': 'supervisor', 'cash-1': 'cashier', 'enrol-1': 'enroller', 'pay-1': 'paymaster' } });
    await registeredTerminal(c.central, 'T2', { region: 'R1', operators: { 'cash-elsewhere': 'cashier' } });
    await enrolCustomer(c.central, t1, 'P1', 'A1');
    await c.central.creditAccount('A1', 1_000_000, 'SYP');
  });
  afterEach(async () => c.close());

  async function sentToReview(draft: RecordDraft): Promise<SignedRecord> {
    const rec = t1.chain.next(draft);
    const before = await balances(c.central);
    const [res] = await c.central.ingest('T1', [rec]);
    expect(res).toMatchObject({ seq: rec.seq, status: 'review' });
    expect(refusalCodeOf(res!.reason)).toBe('OPERATOR_NOT_GRANTED');
    expect(await balances(c.central)).toEqual(before);
    return rec;
  }
  const accepted = async (draft: RecordDraft) => expect((await c.central.ingest('T1', [t1.chain.next(draft)]))[0]).toMatchObject({ status: 'accepted' });

  it('a purchase by an operator the counter made up, or one granted at another counter, moves no money', async () => {
    await sentToReview(purchaseBy('mallory', 1));
    await sentToReview(purchaseBy('cash-elsewhere', 2));
    await accepted(purchaseBy('cash-1', 3));
    await accepted(purchaseBy('pay-1', 4)); // a paymaster works the till as a cashier does
  });

  it('each role signs only its own work: an enroller takes no money, a cashier enrols no one', async () => {
    await sentToReview(purchaseBy('enrol-1', 1));
    await sentToReview(enrolmentBy('cash-1', 'P-new'));
    expect(await c.central.repo.tx((r) => r.getPerson('P-new'))).toBeUndefined();
    await accepted(enrolmentBy('enrol-1', 'P-new2'));
    await accepted(enrolmentBy('op-1', 'P-new3')); // a supervisor may do all of it
  });

  it('a withdrawn grant signs nothing more; granted again, it does', async () => {
    await accepted(purchaseBy('cash-1', 1));
    await c.central.grantOperator('T1', { operatorId: 'cash-1', name: 'C', role: 'cashier', active: false });
    await sentToReview(purchaseBy('cash-1', 2));
    await c.central.grantOperator('T1', { operatorId: 'cash-1', name: 'C', role: 'enroller', active: true });
    await sentToReview(purchaseBy('cash-1', 3)); // re-granted, but no longer for the till
    await c.central.grantOperator('T1', { operatorId: 'cash-1', name: 'C', role: 'cashier', active: true });
    await accepted(purchaseBy('cash-1', 4));
  });

  it('a palm update by an operator the counter made up is refused, and its capture is answered so, not kept waiting', async () => {
    const capture = randomBytes(64);
    const rec = await sentToReview({
      type: 'template_update', operatorId: 'mallory', updateId: 'U-1', personId: 'P1', hand: 'left',
      enrolledDigest: createHash('sha256').update(enrolmentBytes('P1')).digest('hex'), captureDigest: createHash('sha256').update(capture).digest('hex'), anchorScore: 9_000, pinVerified: false,
    });
    const terminal = (await c.central.repo.tx((r) => r.getTerminal('T1')))!;
    const answer = await c.central.uploadTemplateCapture(terminal, 'U-1', capture.toString('base64'));
    expect(answer).toMatchObject({ status: 'refused' });
    expect(refusalCodeOf((answer as { reason: string }).reason)).toBe('OPERATOR_NOT_GRANTED');
    expect(rec.type).toBe('template_update');
  });

  it('the terminal’s own operator id cannot be granted to anyone', async () => {
    await expect(c.central.grantOperator('T1', { operatorId: 'system', name: 'S', role: 'supervisor', active: true })).rejects.toMatchObject({ code: 'OPERATOR_INVALID' });
    await sentToReview(purchaseBy('system', 1));
    // A grant of it made before this rule: it signs no one's work, and it can still be withdrawn.
    await c.central.repo.tx((r) => r.putOperatorGrant({ terminal_id: 'T1', operator_id: 'system', name: 'S', role: 'supervisor', active: 1, updated_at: Date.now() }));
    await sentToReview(purchaseBy('system', 2));
    await c.central.grantOperator('T1', { operatorId: 'system', name: 'S', role: 'supervisor', active: false });
  });
});

describe('a report asked for by an operator the centre never granted', () => {
  it('is refused before the PIN is tried: REPORT_OPERATOR_NOT_GRANTED, the PIN’s attempts untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palmpay-report-operator-'));
    const server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    try {
      const enroller = await registeredTerminal(server.central, 'T0', { region: 'R1', supervisors: ['sup-1'] });
      await enrolCustomer(server.central, enroller, 'P1', 'A1');
      const [set] = await server.central.ingest('T0', [enroller.chain.next({ type: 'pin_set', operatorId: 'op-1', pinSetId: 'PS-1', personId: 'P1', pinHash: await hashPin('4321'), approvedBy: 'sup-1' })]);
      expect(set).toMatchObject({ status: 'accepted' });
      const t1 = await registeredTerminal(server.central, 'T1', { region: 'R1', url: server.url });
      const pinKey = verifyReportPinKey(server.central.identity.publicKeyHex, await t1.client!.reportPinKey());
      const ask = (operatorId: string) => {
        const requestId = randomUUID();
        const month = new Date().toISOString().slice(0, 7);
        const sealedPin = sealReportPin(pinKey, { terminalId: 'T1', requestId, personId: 'P1', month }, '4321');
        const record = t1.chain.next({ type: 'report_request', operatorId, requestId, personId: 'P1', month, sealedPinDigest: sealedPinDigest(sealedPin) });
        return t1.client!.report('P1', { record, sealedPin } as never);
      };
      const err = await ask('mallory').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CentreRefusal);
      expect(err).toMatchObject({ status: 403, remoteCode: 'REPORT_OPERATOR_NOT_GRANTED' });
      const pin = await server.central.repo.tx((r) => r.conn.get<{ failed: number | string }>(sql`SELECT failed FROM customer_pins WHERE person_id = ${'P1'}`));
      expect(Number(pin?.failed ?? 0)).toBe(0);
      expect((await ask('op-1')).response).toMatchObject({ person: 'P1' });
      expect((await server.central.reports.accessLog('P1')).map((row) => [row.operator_id, row.outcome])).toEqual(expect.arrayContaining([['mallory', 'operator-not-granted'], ['op-1', 'served']]));
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the work each record is', () => {
  it('every record type needs a role that some grant covers, or is the terminal’s own', () => {
    for (const type of RECORD_TYPES) {
      const duty = dutyOfRecord({ type });
      if (duty === 'none') expect(type).toBe('lease_release');
      else expect(OPERATOR_ROLES.some((role) => roleMayDo(role, duty))).toBe(true);
    }
    expect(dutyOfRecord({ type: 'enrolment' })).toBe('enroller');
    expect(dutyOfRecord({ type: 'enrolment', enrolCodeId: 'code-1' })).toBe('any'); // an operator's own palm (rule 14)
    expect(roleMayDo('enroller', 'cashier')).toBe(false);
    expect(roleMayDo('cashier', 'supervisor')).toBe(false);
  });
});
