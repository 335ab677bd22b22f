// Palm modules that match on their own (issue 14 §2), end to end: `palmpay sim serial --dialect palm --features-only`
// runs as its own process on a socat pty (a module that gives features and verdicts, no images, three users at
// most), the host's ModuleUserSync drives it through the real SerialPort against a real SQLite store. Proves: the
// store's people are enrolled on the module by feature under pseudonyms; a revoked person is deleted; a verdict
// maps to the right person; a forged verdict and an edited table are refused or repaired; a full table and a
// feature of another format are typed errors, never silent.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerClient } from '../../drivers/client/client.ts';
import { SIM_FAMILY, checkFeatureFor } from '../../drivers/serial-module/feature-families.ts';
import { simFeature } from '../../drivers/sim/device-common.ts';
import { syntheticSource } from '../../drivers/sim/sources.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { ModuleUserSync, sealModuleFeature, watchPalmModule, type ModuleSyncReport } from '../../src/host/module-sync.ts';
import { secretboxSealer } from '../../src/ledger/sealer.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { tempDir } from '../ledger/helpers.ts';

const BIN = new URL('../../bin/palmpay.js', import.meta.url).pathname;
const W = 320;
const H = 240;

let sim: ChildProcess;
let client: ScannerClient;
let store: Store;
let sync: ModuleUserSync;
let cleanup: () => void;
const sealer = secretboxSealer(randomBytes(32));
const logs: string[] = [];
/** A line on the simulator's stdin; stdin and the pty are two channels, so give it time to land before the next exchange. */
async function say(line: string): Promise<void> {
  sim.stdin!.write(`${line}\n`);
  await new Promise((r) => setTimeout(r, 150));
}

function person(id: string, status: 'active' | 'blocked' = 'active'): void {
  store.people.upsert({ personId: id, name: `Name of ${id}`, idNumber: null, phone: null, employerId: null, status, updatedAtMs: 1 });
}

/** A feature of `id`'s palm in the module family's format, as another terminal of the family would have stored it. */
async function featureOf(id: string): Promise<Uint8Array> {
  return simFeature(await syntheticSource({ width: W, height: H }).image(id, 2, 0), id);
}

/** What the feed's person_revoked does to the store (src/sync/feed.ts). */
function revoke(id: string): void {
  store.transaction(() => {
    person(id, 'blocked');
    store.templates.deletePerson(id);
    store.moduleFeatures.deletePerson(id);
  });
}

async function withPalm<T>(id: string, fn: () => Promise<T>): Promise<T> {
  await say(`present ${id}`);
  try {
    return await fn();
  } finally {
    await say('remove');
  }
}

const userOf = (r: ModuleSyncReport, personId: string) => store.moduleFeatures.users(r.moduleKey).find((u) => u.personId === personId)?.userId;

beforeAll(async () => {
  sim = spawn('node', [BIN, 'sim', 'serial', '--dialect', 'palm', '--features-only', '--max-users', '3', '--no-auto', '--size', `${W}x${H}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: sim.stdout! }).once('line', (l) => resolve(l.trim()));
    sim.once('exit', (c) => reject(new Error(`sim exited ${c}`)));
  });
  const dir = tempDir('palmpay-module-sync-');
  cleanup = dir.cleanup;
  store = openStore(join(dir.dir, 'terminal.db'));
  client = new ScannerClient(new SerialTransport({ path: port }), { serial: { exchangeTimeoutMs: 300 } });
  await client.open({ timeoutMs: 5000 });
  sync = new ModuleUserSync({ client, store, sealer, log: (l) => logs.push(l) });
}, 60_000);

afterAll(async () => {
  await client?.close();
  store?.close();
  if (sim && sim.exitCode === null) {
    sim.kill('SIGTERM');
    await new Promise((r) => sim.once('exit', r));
  }
  cleanup?.();
});

describe('a palm module that matches on its own, over a pty, as its own process', () => {
  it('enrolment here stores the module feature sealed; the module holds pseudonyms, never names or ids', async () => {
    for (const id of ['alice', 'bob', 'carol', 'dave', 'erin']) person(id);
    const { userId } = await withPalm('alice', () => sync.enrol('alice', { timeoutS: 3 }));
    const row = store.moduleFeatures.get('alice', SIM_FAMILY)!;
    expect(row.sealed.length).toBeGreaterThan(1000);
    expect(Buffer.from(row.sealed).includes(Buffer.from('PSF1'))).toBe(false); // sealed, not the plain feature
    const users = await client.users();
    expect(users).toEqual([{ userId, name: sync.pseudonymOf('alice'), admin: false }]);
    expect(users[0]!.name).not.toMatch(/alice|Name/);
  }, 30_000);

  it('a replaced (empty) module gets the store back by feature transfer; a feature from another terminal is loaded too', async () => {
    store.moduleFeatures.put(sealModuleFeature(sealer, 'bob', SIM_FAMILY, await featureOf('bob'), 2));
    store.moduleFeatures.put(sealModuleFeature(sealer, 'carol', SIM_FAMILY, await featureOf('carol'), 2));
    await client.deleteAll(); // the module was swapped for a new one
    const r = await sync.reconcile();
    expect(r.loaded.sort()).toEqual(['alice', 'bob', 'carol']);
    expect(r.full).toBeNull();
    const names = (await client.users()).map((u) => u.name).sort();
    expect(names).toEqual(['alice', 'bob', 'carol'].map((p) => sync.pseudonymOf(p)).sort());
  }, 30_000);

  it("VERIFY maps to the right person, confirmed by the host's match of the capture feature", async () => {
    for (const id of ['carol', 'alice', 'bob']) {
      const who = await withPalm(id, () => sync.identify({ palmTimeoutS: 3 }));
      expect(who).toMatchObject({ personId: id, via: 'host_match' });
    }
  }, 30_000);

  it('a forged verdict (the line claims alice while carol lays her palm) is refused: VERDICT_CONTRADICTED', async () => {
    const r = await sync.sync();
    await say(`claim ${userOf(r, 'alice')}`);
    await expect(withPalm('carol', () => sync.identify({ palmTimeoutS: 3, pinVerified: () => true }))).rejects.toMatchObject({ code: 'VERDICT_CONTRADICTED', personId: 'alice' });
    // A claim of a user this terminal never loaded is refused too.
    await say('claim 900');
    await expect(withPalm('carol', () => sync.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_USER_UNKNOWN' });
  }, 30_000);

  it('a table edited with a screwdriver (carol\'s feature under alice\'s user) is found at start-up and repaired', async () => {
    const before = await sync.sync();
    const aliceId = userOf(before, 'alice')!;
    await client.putFeature(aliceId, sync.pseudonymOf('alice'), await featureOf('carol'));
    const r = await sync.reconcile();
    expect(r.deleted).toContain(aliceId);
    expect(r.loaded).toEqual(['alice']);
    const held = await client.getFeature(userOf(r, 'alice')!);
    expect(Buffer.from(held).equals(Buffer.from(sealer.open(store.moduleFeatures.get('alice', SIM_FAMILY)!.sealed, `module-feature:alice:${SIM_FAMILY}`)))).toBe(true);
    expect(await withPalm('alice', () => sync.identify({ palmTimeoutS: 3 }))).toMatchObject({ personId: 'alice' });
  }, 30_000);

  it('a revocation from the feed deletes the user on the module; the palm is then unknown', async () => {
    const bobId = userOf(await sync.sync(), 'bob')!;
    revoke('bob');
    const r = await sync.sync();
    expect(r.deleted).toEqual([bobId]);
    expect((await client.users()).map((u) => u.userId)).not.toContain(bobId);
    await expect(withPalm('bob', () => sync.identify({ palmTimeoutS: 3 }))).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
  }, 30_000);

  it('a full table is MODULE_TABLE_FULL in the report, the log and the status, with who is not on the module', async () => {
    store.moduleFeatures.put(sealModuleFeature(sealer, 'dave', SIM_FAMILY, await featureOf('dave'), 3));
    store.moduleFeatures.put(sealModuleFeature(sealer, 'erin', SIM_FAMILY, await featureOf('erin'), 3));
    const r = await sync.sync();
    expect(r.loaded).toEqual(['dave']); // the third place (bob's, freed by his revocation)
    expect(r.full?.error.code).toBe('MODULE_TABLE_FULL');
    expect(r.full?.notLoaded).toEqual(['erin']);
    expect(sync.problem()).toMatchObject({ code: 'MODULE_TABLE_FULL' });
    expect(logs.at(-1)).toContain('TABLE FULL');
    expect(await client.users()).toHaveLength(3);
  }, 30_000);

  it('a full re-sync deletes everything and loads the store again (still refusing the one that does not fit)', async () => {
    revoke('dave');
    const r = await sync.resyncAll();
    expect(r.loaded.sort()).toEqual(['alice', 'carol', 'erin']);
    expect(r.full).toBeNull();
    expect(sync.problem()).toBeNull();
    expect(await withPalm('erin', () => sync.identify({ palmTimeoutS: 3 }))).toMatchObject({ personId: 'erin', via: 'host_match' });
  }, 30_000);

  it('a feature of another format is refused before anything is sent: MODULE_FEATURE_FOREIGN', async () => {
    revoke('erin');
    person('frank');
    const foreign = Uint8Array.from(randomBytes(1044));
    store.moduleFeatures.put(sealModuleFeature(sealer, 'frank', SIM_FAMILY, foreign, 4));
    const r = await sync.sync();
    expect(r.refused).toEqual([expect.objectContaining({ personId: 'frank', code: 'MODULE_FEATURE_FOREIGN' })]);
    expect(sync.problem()).toMatchObject({ code: 'MODULE_FEATURE_FOREIGN' });
    expect((await client.users()).map((u) => u.name)).not.toContain(sync.pseudonymOf('frank'));
    expect(() => checkFeatureFor(SIM_FAMILY, 'ZK-PV20', foreign)).toThrow(expect.objectContaining({ code: 'MODULE_FEATURE_FOREIGN' }));
  }, 30_000);

  it("driven by the feed: a committed page's revocation reaches the module without anyone calling the sync", async () => {
    const feed = new EventEmitter();
    const watch = watchPalmModule({ scanner: { moduleClient: () => client, onChange: () => () => {} }, store, sealer, log: (l) => logs.push(l), feed: feed as never });
    await watch.idle(); // start-up: discovery and reconcile
    const sync2 = watch.current()!;
    const carolName = sync2.pseudonymOf('carol');
    expect((await client.users()).map((u) => u.name)).toContain(carolName);
    revoke('carol');
    feed.emit('palms', { added: [], revoked: ['carol'] });
    await watch.idle();
    expect((await client.users()).map((u) => u.name)).not.toContain(carolName);
    watch.close();
  }, 30_000);
});
