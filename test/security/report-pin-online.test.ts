// Issue 17: a person's monthly report was served to any terminal of the person's region for a typed person id (the
// palm and PIN were asked only by the counter), so a rooted terminal could read every report of its region. Now the
// centre re-checks what the terminal claims: each request is a `report_request` record signed by the terminal, its
// request id used once, the person of the terminal's region, the person's PIN sealed to the centre for that very
// request and checked against the centre's verifier with attempts and lockout, and a rate per terminal — counted in
// the database, so a second centre process on the same database sees the same attempts and the same rate.
// Each attack here is a real terminal key talking HTTP to a real centre on loopback (SQLite, and PostgreSQL when
// PALMPAY_TEST_PG is set).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPin } from '../../src/protocol/pin.ts';
import { sealedPinDigest, sealReportPin, verifyReportPinKey } from '../../src/protocol/report-pin.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import type { SignedRecord } from '../../src/protocol/record.ts';
import { ChainWriter } from '../../bench/sync/loadgen.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import type { Central } from '../../src/server/service.ts';
import { CentreClient, CentreRefusal } from '../../src/sync/client.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const PIN = '4321';
const month = new Date().toISOString().slice(0, 7);

/**
 * T0 of region R1 (its supervisor sup-1 approves) enrols each person (account `A-<person>`) and sets their PIN to
 * PIN at a supervised counter: the people whose reports are asked for. Returns T0 and each accepted pin_set.
 */
async function enrolWithPin(central: Central, people: readonly string[]): Promise<{ enroller: TestTerminal; pinSets: SignedRecord[] }> {
  const enroller = await registeredTerminal(central, 'T0', { region: 'R1', supervisors: ['sup-1'], operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' } });
  const verifier = await hashPin(PIN);
  const pinSets: SignedRecord[] = [];
  for (const p of people) {
    await enrolCustomer(central, enroller, p, `A-${p}`);
    const rec = enroller.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: `PS-${p}`, personId: p, pinHash: verifier, approvedBy: 'sup-1' });
    const [set] = await central.ingest('T0', [rec]);
    expect(set).toMatchObject({ status: 'accepted' });
    pinSets.push(rec);
  }
  return { enroller, pinSets };
}

describe.each(backends)('the centre checks every report request and the PIN itself (%s)', (kind) => {
  let a: RunningServer;
  let b: RunningServer; // a second centre process on the same database
  let cleanup: () => Promise<void>;
  let t1: TestTerminal; // region R1: the counter (rooted or honest)
  let t2: TestTerminal; // region R2
  let pinKey: string;
  let enroller: TestTerminal; // T0: enrols and sets PINs (its supervisor approves)
  let p5PinSet: SignedRecord; // the pin_set that gave P5 the PIN it has

  beforeAll(async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    a = await startServer({ db: db.url, port: 0, reportsPerMinute: 1000, reportsPerDay: 1000 });
    b = await startServer({ db: db.url, port: 0, reportsPerMinute: 1000, reportsPerDay: 1000 });
    const enrolled = await enrolWithPin(a.central, ['P1', 'P2', 'P3', 'P4', 'P5']);
    enroller = enrolled.enroller;
    p5PinSet = enrolled.pinSets[4]!;
    await a.central.creditAccount('A-P1', 5_000, 'SYP');
    t1 = await registeredTerminal(a.central, 'T1', { region: 'R1', url: a.url });
    t2 = await registeredTerminal(a.central, 'T2', { region: 'R2', url: a.url });
    pinKey = verifyReportPinKey(a.central.identity.publicKeyHex, await t1.client!.reportPinKey());
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cleanup?.();
  });

  /** A request as the counter builds it: the PIN sealed for this request, the record pinning the box, signed. */
  const build = (t: TestTerminal, personId: string, pin: string, o: { month?: string; requestId?: string } = {}) => {
    const requestId = o.requestId ?? randomUUID();
    const m = o.month ?? month;
    const sealedPin = sealReportPin(pinKey, { terminalId: t.id, requestId, personId, month: m }, pin);
    const record = t.chain.next({ type: 'report_request', operatorId: 'op-1', requestId, personId, month: m, sealedPinDigest: sealedPinDigest(sealedPin) });
    return { record: record as SignedRecord, sealedPin };
  };
  const clientAt = (t: TestTerminal, srv: RunningServer) => new CentreClient({ baseUrl: srv.url, credentials: { terminalId: t.id, sign: (m) => t.signer.sign(m) } });
  const send = (t: TestTerminal, personId: string, body: { record: unknown; sealedPin: string }, srv = a) => clientAt(t, srv).report(personId, body as never);
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof CentreRefusal) return { status: err.status, code: err.remoteCode, attemptsLeft: err.attemptsLeft };
      throw err;
    }
    throw new Error('the centre served the report');
  };
  const log = (personId: string) => a.central.reports.accessLog(personId);

  it('honest: the right PIN, sealed for this request → the report, and the access log says who read it', async () => {
    const { response } = await send(t1, 'P1', build(t1, 'P1', PIN));
    expect(response).toMatchObject({ person: 'P1', month, accounts: [{ closing_minor: 5_000 }] });
    expect(await log('P1')).toEqual([expect.objectContaining({ terminal_id: 'T1', operator_id: 'op-1', person_id: 'P1', month, outcome: 'served' })]);
  });

  it('attack: a rooted terminal asks for another person of its region without their PIN: nothing, the old GET is gone', async () => {
    const old = await fetch(`${a.url}/v1/reports/P3?month=${month}`);
    expect(old.status).toBe(404);
    expect(await refusal(send(t1, 'P3', build(t1, 'P3', '0000')))).toEqual({ status: 403, code: 'REPORT_PIN_WRONG', attemptsLeft: 4 });
    const noPin = build(t1, 'P3', PIN);
    expect(await refusal(send(t1, 'P3', { record: noPin.record, sealedPin: '' }))).toMatchObject({ status: 400, code: 'REPORT_REQUEST_INVALID' });
    expect(await refusal(send(t1, 'P3', { record: noPin.record } as never))).toMatchObject({ status: 400, code: 'REPORT_REQUEST_INVALID' });
  });

  it('attack: the same signed request sent again (a fresh HTTP signature, even at another centre process) → REPORT_REPLAYED', async () => {
    const req = build(t1, 'P1', PIN);
    await send(t1, 'P1', req);
    expect(await refusal(send(t1, 'P1', req))).toMatchObject({ status: 409, code: 'REPORT_REPLAYED' });
    expect(await refusal(send(t1, 'P1', req, b))).toMatchObject({ status: 409, code: 'REPORT_REPLAYED' });
  });

  it('attack: a wrong PIN N times, spread over two centre processes → locked; then even the right PIN is refused', async () => {
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await refusal(send(t1, 'P2', build(t1, 'P2', '9999'), i % 2 ? b : a)));
    expect(seen.map((s) => s.code)).toEqual(['REPORT_PIN_WRONG', 'REPORT_PIN_WRONG', 'REPORT_PIN_WRONG', 'REPORT_PIN_WRONG', 'REPORT_PIN_LOCKED']);
    expect(seen.slice(0, 4).map((s) => s.attemptsLeft)).toEqual([4, 3, 2, 1]);
    expect(await refusal(send(t1, 'P2', build(t1, 'P2', PIN), b))).toMatchObject({ status: 423, code: 'REPORT_PIN_LOCKED' });
    const outcomes = (await log('P2')).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['pin-locked', 'pin-locked', 'pin-wrong', 'pin-wrong', 'pin-wrong', 'pin-wrong']);
  });

  it('a new PIN set at a supervised counter lifts the lockout; an older or replayed pin_set does not', async () => {
    for (let i = 0; i < 5; i++) await refusal(send(t1, 'P5', build(t1, 'P5', '9999')));
    expect(await refusal(send(t1, 'P5', build(t1, 'P5', PIN)))).toMatchObject({ code: 'REPORT_PIN_LOCKED' });
    const NEW_PIN = '8642';
    const newVerifier = await hashPin(NEW_PIN);
    // The very pin_set that set the PIN, sent again: a duplicate, nothing changes.
    await a.central.ingest('T0', [p5PinSet]);
    expect(await refusal(send(t1, 'P5', build(t1, 'P5', PIN)))).toMatchObject({ code: 'REPORT_PIN_LOCKED' });
    // A pin_set signed before the stored one (another counter, offline, arriving late): it does not become the PIN,
    // so it lifts nothing, whatever verifier it carries.
    const late = await registeredTerminal(a.central, 'T5', { region: 'R1', supervisors: ['sup-5'], operators: { 'op-cashier': 'cashier' } });
    const older = late.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: 'PS-P5-old', personId: 'P5', pinHash: newVerifier, approvedBy: 'sup-5' }, p5PinSet.hlc.ms - 60_000);
    expect((await a.central.ingest('T5', [older]))[0]).toMatchObject({ status: 'accepted' });
    expect(await refusal(send(t1, 'P5', build(t1, 'P5', NEW_PIN)))).toMatchObject({ code: 'REPORT_PIN_LOCKED' });
    // A newer pin_set becomes the PIN: the person may try again at once, with the new PIN only.
    const newer = enroller.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: 'PS-P5-new', personId: 'P5', pinHash: newVerifier, approvedBy: 'sup-1' });
    expect((await a.central.ingest('T0', [newer]))[0]).toMatchObject({ status: 'accepted' });
    expect(await refusal(send(t1, 'P5', build(t1, 'P5', PIN), b))).toMatchObject({ code: 'REPORT_PIN_WRONG', attemptsLeft: 4 });
    expect((await send(t1, 'P5', build(t1, 'P5', NEW_PIN))).response).toMatchObject({ person: 'P5' });
  });

  it('attack: a terminal of another region, even with the right PIN → REPORT_NOT_FOUND (as for nobody)', async () => {
    expect(await refusal(send(t2, 'P1', build(t2, 'P1', PIN)))).toMatchObject({ status: 404, code: 'REPORT_NOT_FOUND' });
    expect(await refusal(send(t2, 'NOBODY', build(t2, 'NOBODY', PIN)))).toMatchObject({ status: 404, code: 'REPORT_NOT_FOUND' });
  });

  it('attack: a forged signature (another key, or fields changed after signing) → REPORT_SIGNATURE_INVALID, nothing logged', async () => {
    const stranger = new ChainWriter('T1', signerFromSecretKey(Buffer.alloc(32, 7)));
    const requestId = randomUUID();
    const sealedPin = sealReportPin(pinKey, { terminalId: 'T1', requestId, personId: 'P4', month }, PIN);
    const forged = stranger.next({ type: 'report_request', operatorId: 'op-1', requestId, personId: 'P4', month, sealedPinDigest: sealedPinDigest(sealedPin) });
    expect(await refusal(send(t1, 'P4', { record: forged, sealedPin }))).toMatchObject({ status: 401, code: 'REPORT_SIGNATURE_INVALID' });
    const honest = build(t1, 'P4', PIN);
    const edited = { ...honest.record, operatorId: 'op-2' };
    expect(await refusal(send(t1, 'P4', { record: edited, sealedPin: honest.sealedPin }))).toMatchObject({ status: 401, code: 'REPORT_SIGNATURE_INVALID' });
    // A record naming another person than the path, or signed as another terminal, is refused too.
    expect(await refusal(send(t1, 'P1', honest))).toMatchObject({ status: 400, code: 'REPORT_REQUEST_INVALID' });
    expect(await refusal(send(t2, 'P4', honest))).toMatchObject({ status: 400, code: 'REPORT_REQUEST_INVALID' });
    expect(await log('P4')).toEqual([]);
  });

  it('attack: a sealed PIN lifted from one request into another (new request id, other month, other person) → REPORT_PIN_UNBOUND', async () => {
    const original = build(t1, 'P4', PIN);
    const lift = (personId: string, m: string) => {
      const record = t1.chain.next({ type: 'report_request', operatorId: 'op-1', requestId: randomUUID(), personId, month: m, sealedPinDigest: sealedPinDigest(original.sealedPin) });
      return send(t1, personId, { record, sealedPin: original.sealedPin });
    };
    expect(await refusal(lift('P4', month))).toMatchObject({ status: 400, code: 'REPORT_PIN_UNBOUND' });
    expect(await refusal(lift('P4', '2020-01'))).toMatchObject({ status: 400, code: 'REPORT_PIN_UNBOUND' });
    expect(await refusal(lift('P3', month))).toMatchObject({ status: 400, code: 'REPORT_PIN_UNBOUND' });
    // The box swapped under a record that pins another box.
    const other = build(t1, 'P4', PIN);
    expect(await refusal(send(t1, 'P4', { record: other.record, sealedPin: original.sealedPin }))).toMatchObject({ status: 400, code: 'REPORT_PIN_UNBOUND' });
    // The untouched original still works once.
    expect((await send(t1, 'P4', original)).response).toMatchObject({ person: 'P4' });
  });
});

describe.each(backends)('the report rate per terminal is one count for every centre process (%s)', (kind) => {
  it('past --reports-per-minute, at either process → REPORT_RATE_LIMITED; another terminal is not affected', async () => {
    const db = await tempDb(kind);
    // One clock for both processes, 40 s into a minute: the refusals below fall in that minute, then in the next.
    let clock = Math.floor(Date.now() / 60_000) * 60_000 + 40_000;
    const opts = { db: db.url, port: 0, reportsPerMinute: 3, reportsPerDay: 200, now: () => clock };
    const a = await startServer(opts);
    const b = await startServer(opts);
    try {
      await enrolWithPin(a.central, ['P1']);
      const t1 = await registeredTerminal(a.central, 'T1', { region: 'R1', url: a.url });
      const t3 = await registeredTerminal(a.central, 'T3', { region: 'R1', url: a.url });
      const key = verifyReportPinKey(a.central.identity.publicKeyHex, await t1.client!.reportPinKey());
      const ask = async (t: TestTerminal, srv: RunningServer) => {
        const requestId = randomUUID();
        const sealedPin = sealReportPin(key, { terminalId: t.id, requestId, personId: 'P1', month }, PIN);
        const record = t.chain.next({ type: 'report_request', operatorId: 'op-1', requestId, personId: 'P1', month, sealedPinDigest: sealedPinDigest(sealedPin) });
        const client = new CentreClient({ baseUrl: srv.url, credentials: { terminalId: t.id, sign: (m) => t.signer.sign(m) } });
        try {
          await client.report('P1', { record, sealedPin });
          return 'served';
        } catch (err) {
          return err instanceof CentreRefusal ? `${err.status} ${err.remoteCode}` : String(err);
        }
      };
      const seen = [await ask(t1, a), await ask(t1, b), await ask(t1, a), await ask(t1, b), await ask(t1, a)];
      expect(seen).toEqual(['served', 'served', 'served', '429 REPORT_RATE_LIMITED', '429 REPORT_RATE_LIMITED']);
      expect(await ask(t3, b)).toBe('served');
      // The refusals are in the access log, as one row per terminal and minute however many were sent: a rooted
      // terminal hammering the route cannot grow the table, and the row does not count in the rate (nor out of it).
      for (let i = 0; i < 10; i++) expect(await ask(t1, i % 2 ? a : b)).toBe('429 REPORT_RATE_LIMITED');
      const t1Log = () => a.central.reports.accessLog('P1').then((rows) => rows.filter((r) => r.terminal_id === 'T1').map((r) => r.outcome).sort());
      expect(await t1Log()).toEqual(['rate-limited', 'served', 'served', 'served']);
      clock += 30_000; // still within a minute of the served ones, but the next minute: its own row
      expect(await ask(t1, b)).toBe('429 REPORT_RATE_LIMITED');
      expect(await t1Log()).toEqual(['rate-limited', 'rate-limited', 'served', 'served', 'served']);
      clock += 31_000; // the served requests are over a minute old: served again
      expect(await ask(t1, a)).toBe('served');
    } finally {
      await a.close();
      await b.close();
      await db.cleanup();
    }
  }, 60_000);
});

describe.each(backends)('a PIN check the centre never finished (its process died mid-check) is settled (%s)', (kind) => {
  it('a stale `checking` row becomes `interrupted`, counted as a wrong try, never a pass; a live check at another process is left alone', async () => {
    const db = await tempDb(kind);
    const opts = { db: db.url, port: 0, reportsPerMinute: 100, reportsPerDay: 1000 };
    const a = await startServer(opts);
    let b: RunningServer | undefined;
    try {
      await enrolWithPin(a.central, ['P1']);
      const t1 = await registeredTerminal(a.central, 'T1', { region: 'R1', url: a.url });
      const t3 = await registeredTerminal(a.central, 'T3', { region: 'R1', url: a.url });
      const t4 = await registeredTerminal(a.central, 'T4', { region: 'R1', url: a.url });
      const key = verifyReportPinKey(a.central.identity.publicKeyHex, await t1.client!.reportPinKey());
      const request = (t: TestTerminal, pin: string) => {
        const requestId = randomUUID();
        const sealedPin = sealReportPin(key, { terminalId: t.id, requestId, personId: 'P1', month }, pin);
        return { record: t.chain.next({ type: 'report_request', operatorId: 'op-1', requestId, personId: 'P1', month, sealedPinDigest: sealedPinDigest(sealedPin) }), sealedPin };
      };
      // What a process that died between the attempt's count and the hash left behind: the real first step
      // (ReportAccess.decide, one committed transaction) and nothing after it.
      const crashMidCheck = async (t: TestTerminal, at: number) => {
        const { record } = request(t, PIN);
        const { hash: _h, sig: _s, ...body } = record;
        const asker = (await a.central.repo.tx((r) => r.getTerminal(t.id)))!;
        const reports = a.central.reports as unknown as { decide: (r: unknown, asker: unknown, rec: unknown, now: number) => Promise<unknown> };
        await a.central.repo.tx((r) => reports.decide(r, asker, body, at));
      };
      const outcomes = async () => (await a.central.reports.accessLog('P1')).map((r) => `${r.terminal_id} ${r.outcome}`).sort();
      const ask = async (t: TestTerminal, pin: string, srv: RunningServer) => {
        try {
          await new CentreClient({ baseUrl: srv.url, credentials: { terminalId: t.id, sign: (m) => t.signer.sign(m) } }).report('P1', request(t, pin));
          return 'served';
        } catch (err) {
          return err instanceof CentreRefusal ? `${err.remoteCode} ${err.attemptsLeft ?? ''}`.trim() : String(err);
        }
      };

      const STALE = Date.now() - 11 * 60_000; // older than any check can run
      await crashMidCheck(t1, STALE);
      expect(await outcomes()).toEqual(['T1 checking']);
      // T1's next request settles its own: the interrupted check was a wrong try (the count stays), this one the 2nd.
      expect(await ask(t1, '9999', a)).toBe('REPORT_PIN_WRONG 3');
      expect(await outcomes()).toEqual(['T1 interrupted', 'T1 pin-wrong']);
      // T3 never asks again: the next centre process to start settles it; T4's check, seconds old, may still be
      // running at another process, and is left as it is.
      await crashMidCheck(t3, STALE);
      await crashMidCheck(t4, Date.now() - 10_000);
      b = await startServer(opts);
      expect(await outcomes()).toEqual(['T1 interrupted', 'T1 pin-wrong', 'T3 interrupted', 'T4 checking']);
      expect(await ask(t3, PIN, b)).toBe('served');
    } finally {
      await a.close();
      await b?.close();
      await db.cleanup();
    }
  }, 60_000);
});
