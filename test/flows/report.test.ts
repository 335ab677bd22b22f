// The financial report at the counter (issue 17) as a pure reducer: palm → a month → the person's own PIN → the
// centre's report (or why not), printable; never a typed person id. The PIN is in the state only while it is checked
// here: gone once the request (which seals it to the centre) is on its way, and on cancel. Then a real centre on loopback answers the
// counter's signed request: the report of a person of its region, "not found" for another region, and
// "unreachable" with the link down.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/flows/machine.ts';
import { reduceReport, reportMonths, startReport, type CounterReport, type ReportEvent, type ReportState } from '../../src/flows/report.ts';
import { reportReceipt } from '../../src/flows/receipts.ts';
import type { Person } from '../../src/flows/types.ts';
import { UiEvent } from '../../src/flows/ui-events.ts';
import { centreReports } from '../../src/host/adapters/centre-reports.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';
import { ChainWriter } from '../../bench/sync/loadgen.ts';
import { hashPin } from '../../src/protocol/pin.ts';

const P: Person = { id: 'P1', nameAr: 'هيفي', nameLatin: 'Hevi', status: 'active', accountId: 'A1' };
const REPORT: CounterReport = {
  person: 'P1', status: 'confirmed', month: '2026-11', asOfMs: Date.UTC(2026, 11, 6, 3, 0),
  accounts: [{ account: 'acct:A1', role: 'customer', currency: 'SYP', opening_minor: 100_000, fees_minor: 0, closing_minor: 70_000, movements: [{ at: Date.UTC(2026, 10, 3), kind: 'bill', amount_minor: -30_000, currency: 'SYP', reference: 'T1#4', balance_after_minor: 70_000 }] }],
  failed_direct_debits: [],
};
const start = () => startReport({ operatorId: 'op-1', thisMonth: '2026-12' }).state;
const steps = (events: ReportEvent[], s: ReportState = start()) => run(reduceReport, s, events);
const identified: ReportEvent[] = [{ type: 'palm.identified', outcome: { kind: 'match', personId: 'P1' } }, { type: 'person.loaded', person: P, pinSet: true }];
const toPin: ReportEvent[] = [...identified, { type: 'month.choose', month: '2026-11' }];
const toFetch: ReportEvent[] = [...toPin, { type: 'pin.submit', pin: '4321' }, { type: 'pin.result', result: { ok: true } }];
/** Every string anywhere in a state: the PIN must be none of them. */
const holdsPin = (s: unknown, pin: string): boolean => JSON.stringify(s).includes(`"${pin}"`);

describe('report flow (pure)', () => {
  it('palm → month → own PIN → the centre’s report → print; the person comes from the palm, never a typed id', () => {
    const atMonth = steps(identified);
    expect(atMonth.state).toMatchObject({ step: 'month', months: reportMonths('2026-12') });
    expect(startReport({ operatorId: 'op-1', thisMonth: '2026-12' }).effects).toEqual([{ type: 'identifyPalm' }]);
    expect(steps(toPin).state).toMatchObject({ step: 'pin', month: '2026-11', wrong: false });
    const fetching = steps(toFetch);
    expect(fetching.effects).toEqual([{ type: 'loadPerson', personId: 'P1' }, { type: 'verifyCustomerPin', personId: 'P1', pin: '4321' },
      // The PIN goes with the request: the centre checks it again (sealed to it by the host adapter).
      { type: 'fetchReport', personId: 'P1', month: '2026-11', person: P, operatorId: 'op-1', pin: '4321' }]);
    const receipt = reportReceipt({ terminalId: 'T1', operatorId: 'op-1', at: '2026-12-06T03:00:00.000Z' }, P, REPORT);
    const shown = reduceReport(fetching.state, { type: 'report.fetched', result: { ok: true, report: REPORT, receipt } });
    expect(shown.state).toMatchObject({ step: 'shown', report: REPORT });
    expect(reduceReport(shown.state, { type: 'print' }).effects).toEqual([{ type: 'print', receipt }]);
    // Another month, no palm again; its PIN is asked again (the counter no longer holds it).
    const other = run(reduceReport, shown.state, [{ type: 'back' }, { type: 'month.choose', month: '2026-10' }]);
    expect(other.state).toMatchObject({ step: 'pin', month: '2026-10' });
    // No screen event can name a person: the schema has no such field for any event.
    expect(UiEvent.safeParse({ type: 'month.choose', month: '2026-11', personId: 'P2' }).success).toBe(false);
    expect(UiEvent.safeParse({ type: 'month.choose', month: '2026-13' }).success).toBe(false);
  });

  it('the PIN is held only while it is checked here: gone once the sealed request is on its way, after any answer, and on cancel', () => {
    const checking = steps(toFetch.slice(0, -1)).state;
    expect(checking).toMatchObject({ step: 'checking-pin', pin: '4321' });
    const fetching = steps(toFetch).state;
    expect(fetching.step).toBe('fetching');
    expect(holdsPin(fetching, '4321')).toBe(false);
    const receipt = reportReceipt({ terminalId: 'T1', operatorId: 'op-1', at: '2026-12-06T03:00:00.000Z' }, P, REPORT);
    for (const result of [{ ok: true, report: REPORT, receipt }, { ok: false, reason: 'centre-unreachable' }, { ok: false, reason: 'pin-wrong', attemptsLeft: 3 }] as const) {
      expect(holdsPin(reduceReport(fetching, { type: 'report.fetched', result }).state, '4321')).toBe(false);
    }
    // Cancel at every step that may hold it, the check under way included: the flow ends and forgets it.
    for (const s of [checking, steps(toPin).state, fetching]) {
      const cancelled = reduceReport(s, { type: 'cancel' }).state;
      expect(cancelled.step).toBe('finished');
      expect(holdsPin(cancelled, '4321')).toBe(false);
    }
    // The check's answer arriving after a cancel changes nothing and sends nothing.
    const late = reduceReport(reduceReport(checking, { type: 'cancel' }).state, { type: 'pin.result', result: { ok: true } });
    expect(late.effects).toEqual([]);
  });

  it('a month that was not offered is ignored', () => {
    const s = steps(identified).state;
    expect(reduceReport(s, { type: 'month.choose', month: '2020-01' })).toEqual({ state: s, effects: [] });
  });

  it('reportMonths counts back across the year', () => {
    expect(reportMonths('2026-02', 4)).toEqual(['2026-02', '2026-01', '2025-12', '2025-11']);
  });

  it.each([
    ['pin-not-set', P, false],
    ['person-revoked', { ...P, status: 'revoked' }, true],
    ['person-provisional', { ...P, status: 'provisional' }, true],
  ] as const)('refuses %s before any PIN is asked', (reason, person, pinSet) => {
    const r = steps([{ type: 'palm.identified', outcome: { kind: 'match', personId: 'P1' } }, { type: 'person.loaded', person: person as Person, pinSet }]);
    expect(r.state).toMatchObject({ step: 'refused', reason });
    expect(r.effects.map((f) => f.type)).not.toContain('verifyCustomerPin');
  });

  it('a wrong PIN asks again; a locked PIN refuses; the report is never fetched without the PIN', () => {
    const asked = steps(toFetch.slice(0, -1)).state;
    const wrong = reduceReport(asked, { type: 'pin.result', result: { ok: false, attemptsLeft: 2 } });
    expect(wrong.state).toMatchObject({ step: 'pin', wrong: true, attemptsLeft: 2, month: '2026-11' });
    expect(holdsPin(wrong.state, '4321')).toBe(false);
    const locked = reduceReport(asked, { type: 'pin.result', result: { ok: false, locked: true } });
    expect(locked.state).toMatchObject({ step: 'refused', reason: 'pin-locked' });
    expect(reduceReport(steps(toPin).state, { type: 'month.choose', month: '2026-12' }).effects).toEqual([]); // at the PIN step
  });

  it('the centre unreachable: said so; "again" returns to the months without the palm', () => {
    const f = steps(toFetch).state;
    const down = reduceReport(f, { type: 'report.fetched', result: { ok: false, reason: 'centre-unreachable' } });
    expect(down.state).toMatchObject({ step: 'refused', reason: 'centre-unreachable' });
    expect(reduceReport(down.state, { type: 'retry' }).state).toMatchObject({ step: 'month' });
  });

  it('the centre finds the PIN wrong: asked again, then the same month at once; its other refusals end the flow', () => {
    const f = steps(toFetch).state;
    const wrong = reduceReport(f, { type: 'report.fetched', result: { ok: false, reason: 'pin-wrong', attemptsLeft: 3 } });
    expect(wrong.state).toMatchObject({ step: 'pin', wrong: true, attemptsLeft: 3, month: '2026-11' });
    const again = run(reduceReport, wrong.state, [{ type: 'pin.submit', pin: '1111' }, { type: 'pin.result', result: { ok: true } }]);
    expect(again.state).toMatchObject({ step: 'fetching', month: '2026-11' });
    expect(again.effects.at(-1)).toEqual({ type: 'fetchReport', personId: 'P1', month: '2026-11', person: P, operatorId: 'op-1', pin: '1111' });
    for (const reason of ['pin-locked', 'pin-not-set', 'rate-limited', 'request-refused', 'report-not-found'] as const) {
      const r = reduceReport(f, { type: 'report.fetched', result: { ok: false, reason } });
      expect(r.state).toMatchObject({ step: 'refused', reason });
      expect(reduceReport(r.state, { type: 'retry' }).state).toEqual(r.state); // no way back to the months
    }
  });

  it('the printed report: opening, each movement signed, fee 0, closing; no receipt number', () => {
    const r = reportReceipt({ terminalId: 'T1', operatorId: 'op-1', at: '2026-12-06T03:00:00.000Z' }, P, REPORT);
    expect(r).toMatchObject({ kind: 'report', seq: 0, recordId: 'report:P1:2026-11' });
    expect(r.lines.map((l) => [l.label, l.amount?.minor])).toEqual([
      ['receipt.report.month', undefined], ['receipt.report.account', undefined], ['receipt.report.opening', 100_000],
      ['receipt.report.kind.bill', -30_000], ['receipt.fee', 0], ['receipt.report.closing', 70_000],
    ]);
  });
});

describe('report from a real centre (loopback)', () => {
  let dir: string;
  let server: RunningServer;
  let store: Store;
  let sync: Sync;
  let chain: ChainWriter;
  const signal = new AbortController().signal;
  const reader = () => centreReports({ sync, terminalId: 'T1', append: (d) => chain.next(d) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-report-counter-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    const enroller = await registeredTerminal(server.central, 'T0', { region: 'R1', supervisors: ['sup-1'], operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' } });
    await enrolCustomer(server.central, enroller, 'P1', 'A1');
    await server.central.ingest('T0', [enroller.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: 'PS-1', personId: 'P1', pinHash: await hashPin('4321'), approvedBy: 'sup-1' })]);
    const far = await registeredTerminal(server.central, 'T9', { region: 'R9' });
    await enrolCustomer(server.central, far, 'P9', 'A9');
    await server.central.creditAccount('A1', 123_456, 'SYP');
    store = openStore(join(dir, 'terminal.db'));
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer });
    await server.central.grantOperator('T1', { operatorId: 'op-1', name: 'Cashier', role: 'cashier', active: true }); // who asks for the reports
    sync = createSync({ store, serverUrl: server.url, signer });
    chain = new ChainWriter('T1', signer); // the counter's journal, for the signed report requests
  });
  afterAll(async () => {
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the person of its region with the closing balance and the centre’s time; another region is not found', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const before = Date.now();
    const r = await reader().report({ personId: 'P1', month, person: P, operatorId: 'op-1', pin: '4321' }, signal);
    expect(r).toMatchObject({ ok: true, report: { person: 'P1', month, accounts: [{ account: 'acct:A1', opening_minor: 0, closing_minor: 123_456, fees_minor: 0 }] } });
    expect(r.ok && r.report.asOfMs).toBeGreaterThanOrEqual(before - 5_000);
    expect(r.ok && r.receipt.lines.at(-1)).toEqual({ label: 'receipt.report.closing', amount: { minor: 123_456, currency: 'SYP' } });
    expect(await reader().report({ personId: 'P9', month, person: P, operatorId: 'op-1', pin: '4321' }, signal)).toEqual({ ok: false, reason: 'report-not-found' });
    expect(await reader().report({ personId: 'NOBODY', month, person: P, operatorId: 'op-1', pin: '4321' }, signal)).toEqual({ ok: false, reason: 'report-not-found' });
    // The centre checked the PIN: wrong → the tries it left; each request was appended to the journal as signed.
    expect(await reader().report({ personId: 'P1', month, person: P, operatorId: 'op-1', pin: '0000' }, signal)).toEqual({ ok: false, reason: 'pin-wrong', attemptsLeft: 4 });
    expect((await server.central.reports.accessLog('P1')).map((x) => `${x.terminal_id} ${x.operator_id} ${x.outcome}`).sort()).toEqual(['T1 op-1 pin-wrong', 'T1 op-1 served']);
  });

  it('an unsigned request is refused by the centre; the link down is "unreachable"', async () => {
    const res = await fetch(`${server.url}/v1/reports/P1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    const dead = createSync({ store, serverUrl: 'http://127.0.0.1:9', signer: signerFromSecretKey(randomBytes(32)), requestTimeoutMs: 2000 });
    expect(await centreReports({ sync: dead, terminalId: 'T1', append: (d) => chain.next(d) }).report({ personId: 'P1', month: '2026-11', person: P, operatorId: 'op-1', pin: '4321' }, signal)).toEqual({ ok: false, reason: 'centre-unreachable' });
  });
});
