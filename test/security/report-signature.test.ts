// The person's financial report (POST /v1/reports) is printed at the counter as a financial document. The terminal
// trusts the system's CAs (no TLS pin) and `--insecure-http` exists, so a network attacker on the path must not be
// able to change it or answer with an older one: the centre signs each report for the terminal and the request it
// answers, and the terminal checks that with the centre key pinned at registration. The attacker here is a real
// loopback proxy between the counter and a real centre.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centreReports } from '../../src/host/adapters/centre-reports.ts';
import type { Person } from '../../src/flows/types.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';
import { ChainWriter } from '../../bench/sync/loadgen.ts';
import { hashPin } from '../../src/protocol/pin.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';

const P: Person = { id: 'P1', nameAr: 'هيفي', nameLatin: 'Hevi', status: 'active', accountId: 'A1' };

describe('a report changed or replayed on the way is not believed', () => {
  let dir: string;
  let server: RunningServer;
  let store: Store;
  let sync: Sync;
  let proxy: Server;
  /** What the attacker does with the centre's answer (JSON text in, JSON text out). */
  let tamper: (body: string) => string = (b) => b;
  let kept: string | undefined;
  let chain: ChainWriter;
  /** The counter's request for P1's report this month, with the right PIN (a fresh signed record each time). */
  const ask = () => sync.report({ personId: 'P1', month, pin: '4321', sign: ({ requestId, sealedPinDigest }) => chain.next({ type: 'report_request', operatorId: 'op-1', requestId, personId: 'P1', month, sealedPinDigest }) });
  const month = new Date().toISOString().slice(0, 7);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-report-sig-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
    const enroller = await registeredTerminal(server.central, 'T0', { region: 'R1', supervisors: ['sup-1'], operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' } });
    await enrolCustomer(server.central, enroller, 'P1', 'A1');
    await server.central.ingest('T0', [enroller.chain.next({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: 'PS-1', personId: 'P1', pinHash: await hashPin('4321'), approvedBy: 'sup-1' })]);
    await server.central.creditAccount('A1', 123_456, 'SYP');
    proxy = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const sent = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers: Record<string, string> = { authorization: String(req.headers.authorization ?? '') };
        if (sent) headers['content-type'] = 'application/json';
        const up = await fetch(new URL(req.url!, server.url), { method: req.method, headers, body: sent });
        const body = tamper(await up.text());
        res.writeHead(up.status, { 'content-type': 'application/json' }).end(body);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    store = openStore(join(dir, 'terminal.db'));
    const signer = signerFromSecretKey(randomBytes(32));
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer }); // the key pinned from the real centre
    await server.central.grantOperator('T1', { operatorId: 'op-1', name: 'op-1', role: 'cashier', active: true }); // who asks for the report
    sync = createSync({ store, serverUrl: viaProxy, signer });
    chain = new ChainWriter('T1', signer);
  });
  afterAll(async () => {
    store.close();
    proxy.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the report-PIN key swapped on the way (so the attacker could open the PIN) is REPORT_PIN_KEY_FORGED: no PIN leaves the counter', async () => {
    const attacker = newEncKeyPair().publicHex;
    tamper = (b) => (b.includes('"key"') ? JSON.stringify({ ...(JSON.parse(b) as object), key: attacker }) : b);
    const before = await server.central.reports.accessLog('P1');
    await expect(ask()).rejects.toMatchObject({ code: 'REPORT_PIN_KEY_FORGED' });
    expect(await server.central.reports.accessLog('P1')).toEqual(before); // the request was never sent
  });

  it('untouched, the signed report is shown', async () => {
    tamper = (b) => (kept = b);
    expect(await ask()).toMatchObject({ person: 'P1', accounts: [{ closing_minor: 123_456 }] });
  });

  it('a closing balance raised on the way is REPORT_FORGED; the counter shows nothing', async () => {
    tamper = (b) => b.replace('"closing_minor":123456', '"closing_minor":99999999');
    await expect(ask()).rejects.toMatchObject({ code: 'REPORT_FORGED' });
    const r = await centreReports({ sync, terminalId: 'T1', append: (d) => chain.next(d) }).report({ personId: 'P1', month, person: P, operatorId: 'op-1', pin: '4321' }, new AbortController().signal);
    expect(r).toEqual({ ok: false, reason: 'centre-unreachable' });
  });

  it('the proof stripped is REPORT_MALFORMED/UNSIGNED; an older genuine answer replayed is REPORT_REPLAYED', async () => {
    tamper = (b) => JSON.stringify({ ...(JSON.parse(b) as object), proof: undefined });
    await expect(ask()).rejects.toMatchObject({ code: 'REPORT_MALFORMED' });
    await server.central.creditAccount('A1', 1, 'SYP'); // the balance has changed since the kept answer
    tamper = () => kept!;
    await expect(ask()).rejects.toMatchObject({ code: 'REPORT_REPLAYED' });
    tamper = (b) => b;
    expect(await ask()).toMatchObject({ accounts: [{ closing_minor: 123_457 }] });
  });
});
