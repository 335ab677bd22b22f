// The first operator from the counter's own screen (issue 14): `kiosk.enrolOperator`, driven through the dispatcher
// every transport uses, on a running kiosk (the lock screen's palm sign-in already reading the scanner) linked to a
// real centre (SQLite) over loopback HTTP. Each refusal is its own code; the sign-in's read stops while the
// operator's palms are captured (else it swallows them and the enrolment never gets its captures) and starts again
// after; the operator then signs in with palm and PIN. Refused while someone is signed in; the code is never logged.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_CODE_PATTERN, type Handlers } from '../../src/api/index.ts';
import type { EnrolmentState } from '../../src/flows/enrolment.ts';
import { DEFAULT_KIOSK_CONFIG } from '../../src/flows/kiosk.ts';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { createDispatcher, type Dispatch } from '../../src/host/dispatch.ts';
import { kioskHandlers } from '../../src/host/kiosk-handlers.ts';
import { provisionWithCentre } from '../../src/host/provision.ts';
import { readConfigFile, resolveConfig } from '../../src/host/terminal-config.ts';
import { hashPin } from '../../src/ledger/pin.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { silentLogger } from '../../src/util/log.ts';

const PIN = '2580';
const draft = { nameAr: 'روجدا', nameLatin: 'Rojda Ali', idNumber: '0100200300', phone: '+963912345678', employer: 'BRANCH', accountId: '' };
let root: string;
let srv: RunningServer;
let k: Kiosk;
let api: Dispatch;
const logged: string[] = [];
let skewMs = 0; // the kiosk's clock, moved on to pass its idle time

const ok = <T>(r: Awaited<ReturnType<Dispatch>>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.output as T;
};
const enrolState = async (flowId: string, steps: string[]) => (await k.host.waitFor(flowId, (s) => steps.includes((s as EnrolmentState).step), 60_000)) as EnrolmentState;

beforeAll(async () => {
  process.env.PALMPAY_KEY_PROTECTOR = 'file';
  root = mkdtempSync(join(tmpdir(), 'palmpay-operator-screen-'));
  srv = await startServer({ db: `sqlite:${join(root, 'centre.db')}`, port: 0 });
  const { code } = await srv.central.addTerminal({ id: 'T-SCREEN', name: 'new counter', branch: 'B1', region: 'R1' });
  const data = join(root, 'counter');
  mkdirSync(data, { mode: 0o700 });
  await provisionWithCentre({ dataDir: data, centre: srv.url, code, terminalId: 'T-SCREEN' });
  await srv.central.grantOperator('T-SCREEN', { operatorId: 'OP-ROJDA', name: 'روجدا / Rojda Ali', role: 'supervisor', active: true, pinHash: await hashPin(PIN) });
  const config = resolveConfig(readConfigFile(data), { scanner: 'sim' });
  k = await createKiosk({
    dataDir: data, scanner: config.scanner, centre: config.centre, link: true, plainKeyFile: true, backupDir: false,
    hooks: { log: (msg, err) => logged.push(`${msg} ${String(err)} ${JSON.stringify(err ?? null)}`), now: () => Date.now() + skewMs },
  });
  api = createDispatcher(kioskHandlers(k, { testHooks: false, demo: false }) as unknown as Handlers, silentLogger());
}, 120_000);
afterAll(async () => {
  await k?.close();
  await srv?.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

describe('enrolling the first operator from the locked sign-in screen', () => {
  it('each refusal is its own code, and the sign-in goes on reading meanwhile', async () => {
    ok(await api('kiosk.sessionSend', { event: { type: 'login.start' } }));
    expect(await api('kiosk.enrolOperator', { code: 'short' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await api('kiosk.enrolOperator', { code: 'AAAAAAAAAAAA' })).toMatchObject({ ok: false, error: { code: 'OPERATOR_CODE_INVALID' } });
    const expired = await srv.central.issueOperatorCode('T-SCREEN', 'OP-ROJDA', 1);
    expect(expired.code).toMatch(OPERATOR_CODE_PATTERN); // the screen's format is the one the centre issues
    await new Promise((r) => setTimeout(r, 20));
    expect(await api('kiosk.enrolOperator', { code: expired.code })).toMatchObject({ ok: false, error: { code: 'OPERATOR_CODE_EXPIRED' } });
    expect(k.host.session().state.step).toBe('login'); // a refused code leaves the sign-in as it was
  }, 60_000);

  it('an operator enrolment left alone ends after the idle time, and the sign-in reads the scanner again', async () => {
    const { code } = await srv.central.issueOperatorCode('T-SCREEN', 'OP-ROJDA');
    const view = ok<{ flowId: string }>(await api('kiosk.enrolOperator', { code }));
    expect(k.host.operatorEnrolmentRunning).toBe(true);
    skewMs += DEFAULT_KIOSK_CONFIG.idleMs; // the screen was reloaded, or the technician walked away
    await k.host.waitFor(view.flowId, (s) => s.step === 'finished', 5_000).catch(() => {});
    await expect.poll(() => k.host.operatorEnrolmentRunning, { timeout: 5_000 }).toBe(false);
    expect(await api('kiosk.get', { flowId: view.flowId })).toMatchObject({ ok: false, error: { code: 'FLOW_UNKNOWN' } });
    expect(ok<{ state: { step: string } }>(await api('kiosk.sessionSend', { event: { type: 'login.start' } })).state.step).toBe('login');
  }, 30_000);

  it('enrols the operator the centre names while the sign-in waits, then the operator signs in with palm and PIN', async () => {
    const { code, codeId } = await srv.central.issueOperatorCode('T-SCREEN', 'OP-ROJDA');
    expect(k.host.session().state).toMatchObject({ step: 'login', auth: { step: 'palm' } });
    const view = ok<{ flowId: string; kind: string; state: EnrolmentState }>(await api('kiosk.enrolOperator', { code }));
    expect(view).toMatchObject({ kind: 'enrolment', state: { step: 'form', enrolAs: { personId: 'OP-ROJDA', enrolCodeId: codeId, who: { name: 'روجدا / Rojda Ali', role: 'supervisor' } } } });
    // The sign-in's scanner read stopped, and the lock screen cannot start another while the operator enrols.
    expect(k.host.session().state.step).toBe('locked');
    expect(ok<{ state: { step: string } }>(await api('kiosk.sessionSend', { event: { type: 'login.start' } })).state.step).toBe('locked');

    const { flowId } = view;
    ok(await api('kiosk.send', { flowId, event: { type: 'form.submit', draft } }));
    ok(await api('kiosk.send', { flowId, event: { type: 'consent.given' } }));
    // Six palms, one capture each: every one must reach the enrolment (a sign-in reading too would take some).
    k.present(...Array.from({ length: 6 }, () => ({ identity: 'rojda', captures: 1 })));
    const review = await enrolState(flowId, ['review', 'duplicate', 'failed']);
    expect(review).toMatchObject({ step: 'review' });
    ok(await api('kiosk.send', { flowId, event: { type: 'capture.finish' } }));
    const done = await enrolState(flowId, ['enrolled', 'duplicate', 'failed']);
    expect(done).toMatchObject({ step: 'enrolled', personId: 'OP-ROJDA', pinChosen: false });
    ok(await api('kiosk.send', { flowId, event: { type: 'done' } }));
    expect(k.host.operatorEnrolmentRunning).toBe(false);

    // Back on the lock screen: the sign-in starts again and the operator signs in.
    ok(await api('kiosk.sessionSend', { event: { type: 'login.start' } }));
    k.present({ identity: 'rojda', captures: 3, holdMs: 5000 });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin', 60_000);
    ok(await api('kiosk.sessionSend', { event: { type: 'auth.submit', pin: PIN } }));
    expect(await k.host.waitForSession((s) => s.step === 'active' || s.step === 'locked', 30_000)).toMatchObject({ step: 'active', operator: { id: 'OP-ROJDA' } });

    // The record reaches the centre with the code's id, which is then used.
    k.link!.sync.kick();
    await k.link!.sync.drained(30_000);
    await expect.poll(async () => (await srv.central.listOperatorCodes()).find((c) => c.id === codeId)?.status, { timeout: 30_000 }).toBe('used');
    expect(logged.join('\n')).not.toContain(code);
  }, 240_000);

  it('is refused while an operator is signed in, before any code reaches the centre', async () => {
    // Not OPERATOR_CODE_INVALID: the session is checked before the centre is asked (no claim, no throttle count).
    expect(await api('kiosk.enrolOperator', { code: 'BBBBBBBBBBBB' })).toMatchObject({ ok: false, error: { code: 'SESSION_ACTIVE' } });
    expect(k.host.session().state.step).toBe('active');
    expect(k.host.operatorEnrolmentRunning).toBe(false);
    ok(await api('kiosk.sessionSend', { event: { type: 'lock' } }));
  });

  it('guessing is throttled, and an unreachable centre is its own answer', async () => {
    let last = '';
    for (let i = 0; i < 12 && last !== 'OPERATOR_CODE_THROTTLED'; i++) {
      const r = await api('kiosk.enrolOperator', { code: `guess${String(i).padStart(7, '0')}` });
      last = r.ok ? 'ok' : r.error.code;
    }
    expect(last).toBe('OPERATOR_CODE_THROTTLED');
    await srv.close();
    expect(await api('kiosk.enrolOperator', { code: 'CCCCCCCCCCCC' })).toMatchObject({ ok: false, error: { code: 'CENTRE_UNREACHABLE' } });
  }, 60_000);
});
