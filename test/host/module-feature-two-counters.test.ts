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
import { SqliteBank } from '../../src/host/adapters/sqlite-bank.ts';
import { enrolmentFeature, ModuleFeatureCapture, ModuleUserSync } from '../../src/host/module-sync.ts';
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
  await server.central.grantOperator(id, { operatorId: 'op-enrol', name: 'Enroller', role: 'enroller', active: true });
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
    // The signed record pins the feature, beside templates (as a module that gives an image and a feature would):
    // synthetic ones here. The template-less case, a module that gives no image, is the test below.
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

// Template-less (issue 14 §2): counter A's module gives no image, so A's enrolment is its module's features alone,
// through the bank's seam the screens use (captures checked against each other, the local duplicate check, one
// feature pinned, no templates). The centre confirms it by its feature duplicate check; the feed makes the person
// active on A, whose module then identifies them, and brings the feature to B, whose module identifies them too.
describe('a person enrolled by module features alone (no templates) is identified at the same counter and at another', () => {
  it('A captures features on its module, the bank pins one, the centre confirms it, A and B identify the person after the feed', async () => {
    const a = await counter('TC');
    const b = await counter('TD');
    const personId = 'P-rojin';
    // Three captures of each hand, each the module's feature of the palm laid (its VERIFY, then the capture's feature).
    const captures: Record<'left' | 'right', ModuleFeatureCapture[]> = { left: [], right: [] };
    await withPalm(a, personId, async () => {
      for (const hand of ['left', 'right'] as const) for (let i = 0; i < 3; i++) captures[hand].push(await a.modules.captureFeature({ palmTimeoutS: 3 }));
    });
    expect(captures.left[0]!.family).toBe(SIM_FAMILY);
    expect(a.modules.duplicatesOf([...captures.left, ...captures.right])).toEqual([]); // nobody here holds this palm
    expect([...(await a.client.users())]).toEqual([]); // nothing was enrolled on the module by capturing
    const bank = new SqliteBank<ModuleFeatureCapture>({ terminal: a.terminal, encode: (c) => c.feature, moduleFeatureOf: (c) => enrolmentFeature(c) });
    const saved = await bank.saveEnrolment({ draft: { nameAr: 'روجين', nameLatin: 'Rojîn Elî', idNumber: 'id-2', phone: '', employer: '', accountId: `acc-${personId}` }, templates: captures, operatorId: 'op-enrol', overrideBy: null, pin: null });
    const rec = JSON.parse(a.terminal.store.journal.lastOfType('enrolment')!.body) as { personId: string; templateDigests: string[]; moduleFeature: { family: string; digest: string } };
    expect(rec).toMatchObject({ personId: saved.personId, templateDigests: [], moduleFeature: { family: SIM_FAMILY, digest: sha(captures.left[0]!.feature) } });
    expect(a.terminal.store.templates.byPerson(saved.personId)).toEqual([]);

    a.sync.start();
    await expect.poll(async () => (await server.central.repo.tx((r) => r.getPerson(saved.personId)))?.status, { timeout: 20_000 }).toBe('confirmed');
    // Counter A: the feed makes the person active; the next sync loads the feature onto A's module, which identifies them.
    await expect.poll(() => a.terminal.store.people.get(saved.personId)?.status, { timeout: 20_000 }).toBe('active');
    expect((await a.modules.sync()).loaded).toContain(saved.personId); // with the region's earlier module people
    expect(await withPalm(a, personId, () => a.modules.identify({ palmTimeoutS: 3 }))).toMatchObject({ personId: saved.personId, via: 'host_match' });
    // Counter B, same family: the feature arrives with the feed (no templates), and B's module identifies the person.
    await expect(withPalm(b, personId, () => b.modules.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
    b.sync.start();
    await expect.poll(() => b.terminal.store.moduleFeatures.get(saved.personId, SIM_FAMILY)?.digest, { timeout: 20_000 }).toBe(rec.moduleFeature.digest);
    expect(b.terminal.store.templates.byPerson(saved.personId)).toEqual([]);
    expect((await b.modules.sync()).loaded).toContain(saved.personId); // with the region's earlier module people
    expect(await withPalm(b, personId, () => b.modules.identify({ palmTimeoutS: 3 }))).toMatchObject({ personId: saved.personId, via: 'host_match' });
    await expect(withPalm(b, 'P-stranger', () => b.modules.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
  }, 120_000);
});
