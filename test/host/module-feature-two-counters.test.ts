// Issue 14 §2 end to end: two counters, each with its own simulated palm module that matches on its own
// (`palmpay sim serial --dialect palm --features-only`, its own process on a socat pty, driven through the real
// SerialPort), and a real centre over loopback HTTP. Counter A enrols a person on its module (ModuleUserSync.enrol:
// ENROLL_SINGLE, the feature read back, sealed); its signed enrolment record pins the feature's family and digest;
// the feature goes to the centre with the templates; counter B of the same region gets it from the feed, loads it
// onto its own module, and that module identifies the person (the verdict confirmed by the host's match).
// Without the feature travelling, B's module holds nobody and the palm is unknown there.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerClient } from '../../drivers/client/client.ts';
import { SIM_FAMILY } from '../../drivers/serial-module/feature-families.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { ModuleUserSync } from '../../src/host/module-sync.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

const BIN = new URL('../../bin/palmpay.js', import.meta.url).pathname;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Counter {
  id: string;
  sim: ChildProcess;
  client: ScannerClient;
  terminal: Terminal;
  sync: Sync;
  modules: ModuleUserSync;
}

let dir: string;
let cleanup: () => void;
let server: RunningServer;
const counters: Counter[] = [];

async function say(c: Counter, line: string): Promise<void> {
  c.sim.stdin!.write(`${line}\n`);
  await new Promise((r) => setTimeout(r, 150));
}
async function withPalm<T>(c: Counter, id: string, fn: () => Promise<T>): Promise<T> {
  await say(c, `present ${id}`);
  try {
    return await fn();
  } finally {
    await say(c, 'remove');
  }
}

async function counter(id: string): Promise<Counter> {
  const sim = spawn('node', [BIN, 'sim', 'serial', '--dialect', 'palm', '--features-only', '--max-users', '5', '--no-auto', '--size', '320x240'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: sim.stdout! }).once('line', (l) => resolve(l.trim()));
    sim.once('exit', (code) => reject(new Error(`sim exited ${code}`)));
  });
  const client = new ScannerClient(new SerialTransport({ path: port }), { serial: { exchangeTimeoutMs: 300 } });
  await client.open({ timeoutMs: 5000 });
  const terminal = makeTerminal(join(dir, id), id);
  const { code } = await server.central.addTerminal({ id, name: `counter ${id}`, branch: `B-${id}`, region: 'R1' });
  await registerWithCentre({ store: terminal.store, serverUrl: server.url, code, signer: terminal.keys.signer, sealer: terminal.keys.sealer });
  const sync = createSync({ store: terminal.store, serverUrl: server.url, keys: { terminalId: id, signer: terminal.keys.signer, sealer: terminal.keys.sealer }, ledger: terminal.ledger, feedIntervalMs: 300 });
  const modules = new ModuleUserSync({ client, store: terminal.store, sealer: terminal.keys.sealer, log: () => undefined });
  const c = { id, sim, client, terminal, sync, modules };
  counters.push(c);
  return c;
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
}, 60_000);

afterAll(async () => {
  for (const c of counters) {
    await c.sync.stop();
    await c.client.close().catch(() => undefined);
    c.terminal.close();
    if (c.sim.exitCode === null) {
      c.sim.kill('SIGTERM');
      await new Promise((r) => c.sim.once('exit', r));
    }
  }
  await server?.close();
  cleanup?.();
});

describe('a person enrolled on counter A’s palm module is identified by counter B’s module of the same family', () => {
  it('A enrols on its module, the centre takes the pinned feature, B gets it from the feed and its module identifies the person', async () => {
    const a = await counter('TA');
    const b = await counter('TB');
    const personId = 'P-hevin';
    // Counter A: the person provisional, the palm enrolled on A's module (its feature sealed in A's store).
    a.terminal.store.people.upsert({ personId, name: 'Hêvîn Şêxo', idNumber: 'id-1', phone: null, employerId: null, status: 'provisional', updatedAtMs: Date.now() });
    const enrolled = await withPalm(a, personId, () => a.modules.enrol(personId, { timeoutS: 3 }));
    expect(enrolled.family).toBe(SIM_FAMILY);
    expect(a.terminal.store.moduleFeatures.get(personId, SIM_FAMILY)?.digest).toBe(enrolled.digest);
    // The signed record pins the feature. The centre's duplicate check still needs templates (a module that gives
    // no image gives none: see README, what is left), so this counter's record carries synthetic ones too.
    const templates = (['left', 'right'] as const).map((hand) => enrolmentBytes(personId, hand));
    a.terminal.store.transaction(() => {
      for (const [i, bytes] of templates.entries()) {
        const templateId = randomUUID();
        a.terminal.store.templates.add({ templateId, personId, hand: i === 0 ? 'left' : 'right', sealed: a.terminal.keys.sealer.seal(bytes, templateId), digest: sha(bytes), provisional: true, createdAtMs: Date.now() });
      }
      a.terminal.ledger.append({
        type: 'enrolment', operatorId: 'op-enrol', enrolmentId: randomUUID(), personId, person: { name: 'Hêvîn Şêxo', idNumber: 'id-1', accountId: `acc-${personId}` },
        templateDigests: templates.map(sha), hands: ['left', 'right'], consent: { given: true, method: 'verbal', textVersion: 'consent-v1' }, provisional: true, pinDeferred: true,
        moduleFeature: { family: enrolled.family, digest: enrolled.digest },
      });
    });
    a.sync.start();
    await expect.poll(async () => (await server.central.repo.tx((r) => r.getPerson(personId)))?.status, { timeout: 20_000 }).toBe('confirmed');

    // Counter B: nobody on its module yet; the palm is unknown there.
    expect((await b.modules.sync()).loaded).toEqual([]);
    await expect(withPalm(b, personId, () => b.modules.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
    b.sync.start();
    await expect.poll(() => b.terminal.store.moduleFeatures.get(personId, SIM_FAMILY)?.digest, { timeout: 20_000 }).toBe(enrolled.digest);
    const r = await b.modules.sync();
    expect(r.loaded).toEqual([personId]);
    expect(await withPalm(b, personId, () => b.modules.identify({ palmTimeoutS: 3 }))).toMatchObject({ personId, via: 'host_match' });
    // Another palm on B's module is still nobody.
    await expect(withPalm(b, 'P-stranger', () => b.modules.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
  }, 120_000);
});
