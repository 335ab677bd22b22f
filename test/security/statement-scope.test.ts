// Statements are given only to the person present (issue 13, item 8): at the counter a statement is shown for the
// person the palm identified at that moment, never for a person id someone types. Driven through the host API
// (the dispatcher every transport uses: the table's schemas decide what a screen may send), on the demo kiosk.
// At the centre, no terminal can ask for a statement by a typed id at all (the route is gone): the counter's
// statement is built from its own signed journal after the palm, and the admin reads one with the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handlers } from '../../src/api/index.ts';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { createDispatcher, type Dispatch } from '../../src/host/dispatch.ts';
import { kioskHandlers } from '../../src/host/kiosk-handlers.ts';
import type { StatementState } from '../../src/flows/statement.ts';
import { authorizationHeader } from '../../src/protocol/crypto.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { silentLogger } from '../../src/util/log.ts';
import { enrolCustomer, registeredTerminal, tempDb } from '../server/helpers.ts';

let dir: string;
let k: Kiosk;
let api: Dispatch;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-statement-scope-'));
  k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: false });
  api = createDispatcher(kioskHandlers(k, { testHooks: true, demo: true }) as unknown as Handlers, silentLogger());
  await api('kiosk.sessionSend', { event: { type: 'login.start' } });
  k.present({ identity: 'op-cashier' });
  await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
  await api('kiosk.sessionSend', { event: { type: 'auth.submit', pin: '1234' } });
  await k.host.waitForSession((s) => s.step === 'active');
}, 120_000);
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startStatement(): Promise<string> {
  const r = await api('kiosk.start', { kind: 'statement' });
  if (!r.ok) throw new Error(r.error.code);
  return (r.output as { flowId: string }).flowId;
}

describe('a statement at the counter is for the person whose palm is on the scanner', () => {
  it('a screen cannot name the person: a typed id, an identification or a loaded statement sent as an event is BAD_INPUT', async () => {
    const flowId = await startStatement();
    expect(await api('kiosk.start', { kind: 'statement', personId: 'cust-zin' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    const events: unknown[] = [
      { type: 'palm.identified', outcome: { kind: 'match', personId: 'cust-zin' } },
      { type: 'statement.loaded', person: { id: 'cust-zin', nameAr: '', nameLatin: '', status: 'active' }, entries: [] },
      { type: 'retry', personId: 'cust-zin' },
      { type: 'done', personId: 'cust-zin' },
    ];
    for (const event of events) expect(await api('kiosk.send', { flowId, event })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    // Nothing was loaded: the flow still waits for a palm.
    expect(await api('kiosk.get', { flowId })).toMatchObject({ ok: true, output: { state: { step: 'palm' } } });
    // A receipt number typed into the statement is ignored (the statement takes no typed input at all).
    expect(await api('kiosk.send', { flowId, event: { type: 'reference.set', reference: '1' } })).toMatchObject({ ok: true, output: { state: { step: 'palm' } } });
    await api('kiosk.send', { flowId, event: { type: 'cancel' } });
  });

  it('the palm decides whose statement is shown, each time anew', async () => {
    const a = await startStatement();
    k.present({ identity: 'emp-ahmad' });
    const shown = (await k.host.waitFor(a, (s) => s.step === 'shown')) as Extract<StatementState, { step: 'shown' }>;
    expect(shown.person.id).toBe('emp-ahmad');
    await api('kiosk.send', { flowId: a, event: { type: 'done' } });
    // The finished flow is gone: its statement cannot be read again by id.
    expect(await api('kiosk.get', { flowId: a })).toMatchObject({ ok: false, error: { code: 'FLOW_UNKNOWN' } });

    const b = await startStatement();
    k.present({ identity: 'cust-zin' });
    const next = (await k.host.waitFor(b, (s) => s.step === 'shown')) as Extract<StatementState, { step: 'shown' }>;
    expect(next.person.id).toBe('cust-zin');
    await api('kiosk.send', { flowId: b, event: { type: 'done' } });

    // A hand nobody enrolled gets no statement at all.
    const c = await startStatement();
    k.present({ identity: 'stranger' });
    expect(await k.host.waitFor(c, (s) => s.step === 'refused')).toMatchObject({ reason: 'unknown-palm' });
  });

  it('a statement left on the screen goes when the counter locks', async () => {
    const flowId = await startStatement();
    k.present({ identity: 'emp-ahmad' });
    await k.host.waitFor(flowId, (s) => s.step === 'shown');
    await api('kiosk.sessionSend', { event: { type: 'lock' } });
    expect(await api('kiosk.get', { flowId })).toMatchObject({ ok: false, error: { code: 'FLOW_UNKNOWN' } });
  });
});

describe('the centre gives no terminal a statement by a typed person id', () => {
  let srv: RunningServer;
  let cleanup: () => Promise<void>;
  afterAll(async () => {
    await srv?.close();
    await cleanup?.();
  });
  it('GET /v1/statements/:person, correctly signed by a terminal of the same region, is not served', async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    srv = await startServer({ db: db.url, port: 0 });
    const t = await registeredTerminal(srv.central, 'T1', { url: srv.url });
    await enrolCustomer(srv.central, t, 'P1', 'A1'); // a person of this terminal's own region
    const path = '/v1/statements/P1';
    const res = await fetch(`${srv.url}${path}`, { headers: { authorization: authorizationHeader('T1', Date.now(), (m) => t.signer.sign(m), 'GET', path, '') } });
    expect(res.status).toBe(404);
    expect(JSON.stringify(await res.json())).not.toMatch(/payouts|balances/);
  });
});
