// The kiosk composed on a serial module that matches on its own (features only, no images), over a real socat pty:
// at each start the module's table is reconciled with the store (a user left on the module that the store does not
// know is deleted; the people with a module feature are loaded under pseudonyms). A module that gives images is
// left alone (the terminal matches those palms itself).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SIM_FAMILY } from '../../drivers/serial-module/feature-families.ts';
import { simFeature } from '../../drivers/sim/device-common.ts';
import type { PtyPair } from '../../drivers/sim/pty.ts';
import { SimSerialModule } from '../../drivers/sim/serial-module.ts';
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import { syntheticSource } from '../../drivers/sim/sources.ts';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { sealModuleFeature } from '../../src/host/module-sync.ts';
import { tempDir } from '../ledger/helpers.ts';

const W = 320;
const H = 240;
const sims: SimulatedScanner[] = [];
const dirs: Array<() => void> = [];
afterAll(async () => {
  for (const s of sims) await s.stop();
  for (const c of dirs) c();
});

async function startSim(images: boolean, maxUsers?: number): Promise<{ sim: SimulatedScanner; module: SimSerialModule; pty: PtyPair }> {
  const sim = new SimulatedScanner({ protocol: 'serial', dialect: 'palm', width: W, height: H, images, ...(maxUsers ? { maxUsers } : {}) });
  sims.push(sim);
  const pty = await sim.startPty();
  return { sim, module: sim.device as SimSerialModule, pty };
}

async function kioskOn(dir: string, path: string, logs: string[]): Promise<Kiosk> {
  return createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, scanner: { kind: 'serial', path }, link: false, backupDir: false, hooks: { log: (l: string, err?: unknown) => logs.push(err ? `${l}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}` : l) } });
}

async function settledLog(logs: string[], what: RegExp): Promise<void> {
  const end = Date.now() + 20_000;
  while (!logs.some((l) => what.test(l))) {
    if (Date.now() > end) throw new Error(`no log line ${what} in:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function settled(k: Kiosk, logs: string[], what: RegExp): Promise<void> {
  const end = Date.now() + 20_000;
  while (!logs.some((l) => what.test(l))) {
    if (Date.now() > end) throw new Error(`no log line ${what} in:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await k.palmModule!.idle();
}

describe('the kiosk on a palm module that matches on its own', () => {
  it('reconciles at start: an unknown user deleted, the store\'s people loaded by feature under pseudonyms', async () => {
    const { sim, module, pty } = await startSim(false);
    const t = tempDir('palmpay-module-kiosk-');
    dirs.push(t.cleanup);
    // Left on the module by someone else (or a lost enrolment): not in the store.
    module.users.set(7, { name: 'intruder', admin: false, identity: 'mallory', feature: new Uint8Array(8) });
    const logs: string[] = [];
    let kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /palm module .* reconciled/);
    expect(logs.join('\n')).toContain('matches on its own');
    expect([...module.users.keys()]).toEqual([]);

    // Two people get module features (as the feed or an enrolment here would store them); at the next start they are on the module.
    const store = kiosk.terminal.store;
    const source = syntheticSource({ width: W, height: H });
    const people = ['emp-ahmad', 'emp-hevi', 'op-cashier'].filter((p) => store.people.get(p)?.status === 'active' || store.operators.get(p));
    expect(people).toHaveLength(3);
    for (const p of people) store.moduleFeatures.put(sealModuleFeature(kiosk.terminal.keys.sealer, p, SIM_FAMILY, simFeature(await source.image(p, 1, 0), p), 1));
    const sync = kiosk.palmModule!.current()!;
    const names = people.map((p) => sync.pseudonymOf(p)).sort();
    await kiosk.close();

    logs.length = 0;
    kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /palm module .* reconciled/);
    expect([...module.users.values()].map((u) => u.name).sort()).toEqual(names);
    expect(logs.join('\n')).toMatch(/reconciled: loaded 3, deleted 0, kept 0/);
    expect(kiosk.status.scanner.status()).toEqual({ state: 'ready', kind: 'serial', placeholder: false });

    // The screens read palms through the module: a forged verdict (the line claims the customer while the cashier
    // lays her palm) signs nobody in; the cashier's own verdict, confirmed by the host's match, does.
    const step = () => (kiosk.host.session().state as { auth?: { step: string } }).auth?.step;
    await kiosk.host.sessionSend({ type: 'login.start' });
    const ahmadId = [...module.users].find(([, u]) => u.name === kiosk.palmModule!.current()!.pseudonymOf('emp-ahmad'))![0];
    module.claimNext = ahmadId;
    sim.present({ identity: 'op-cashier', captures: 1, holdMs: 3000 });
    await settledLog(logs, /palm refused \(VERDICT_CONTRADICTED/);
    expect(step()).not.toBe('pin');
    sim.present({ identity: 'op-cashier', captures: 1, holdMs: 3000 });
    const end = Date.now() + 20_000;
    while (step() !== 'pin' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(step()).toBe('pin');
    await kiosk.close();
  }, 120_000);

  it('a full table shows on the status bar (table-full) and in the log, with how many are not on the module', async () => {
    const { pty } = await startSim(false, 1);
    const t = tempDir('palmpay-module-kiosk-');
    dirs.push(t.cleanup);
    const logs: string[] = [];
    let kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /palm module .* reconciled/);
    const source = syntheticSource({ width: W, height: H });
    for (const p of ['emp-ahmad', 'emp-hevi']) kiosk.terminal.store.moduleFeatures.put(sealModuleFeature(kiosk.terminal.keys.sealer, p, SIM_FAMILY, simFeature(await source.image(p, 1, 0), p), 1));
    await kiosk.close();
    logs.length = 0;
    kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    const seen: unknown[] = [];
    kiosk.status.scanner.onChange((s) => seen.push(s.module));
    await settled(kiosk, logs, /palm module .* reconciled/);
    expect(kiosk.status.scanner.status().module).toBe('table-full');
    expect(seen).toContain('table-full');
    expect(logs.join('\n')).toMatch(/TABLE FULL: 1 not on the module \(MODULE_TABLE_FULL\)/);
    await kiosk.close();
  }, 120_000);

  it('reconciles again after a reconnect: a user added while the module was unplugged is deleted', async () => {
    const { module, pty } = await startSim(false);
    const t = tempDir('palmpay-module-kiosk-');
    dirs.push(t.cleanup);
    const logs: string[] = [];
    const kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /palm module .* reconciled/);
    await pty.unplug();
    module.users.set(9, { name: 'added-by-hand', admin: false, identity: 'mallory', feature: new Uint8Array(8) });
    const before = logs.filter((l) => /reconciled/.test(l)).length;
    await pty.replug();
    const end = Date.now() + 20_000;
    while (logs.filter((l) => /reconciled/.test(l)).length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await kiosk.palmModule!.idle();
    expect([...module.users.keys()]).toEqual([]);
    await kiosk.close();
  }, 120_000);

  it('leaves a module that gives images alone (the terminal matches those palms itself)', async () => {
    const { module, pty } = await startSim(true);
    const t = tempDir('palmpay-module-kiosk-');
    dirs.push(t.cleanup);
    module.users.set(3, { name: 'pp-kept', admin: false, identity: 'x', feature: Uint8Array.from(randomBytes(8)) });
    const logs: string[] = [];
    const kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /gives images/);
    expect(kiosk.palmModule!.current()).toBeNull();
    expect([...module.users.keys()]).toEqual([3]);
    await kiosk.close();
  }, 120_000);
});

// Issue 14 §2: enrolment through the screens on such a module, the enrolment flow unchanged (form, consent, three
// captures of each hand, duplicate checks): each capture is the module's feature, the record pins the feature and
// no templates, and the feature is kept sealed. The same palm enrolled again is stopped by the local duplicate
// check (the family's host matcher over the features kept here); another palm slipped in among one hand's
// captures is refused at the save (the captures of a hand must agree), and nothing is signed.
describe('enrolment through the screens on a module that gives no image', () => {
  const draft = { nameAr: 'هيفين', nameLatin: 'Hevin Sexo', idNumber: '0100200301', phone: '+963912345670', employer: 'BRANCH', accountId: '' };
  type View = { step: string; candidates?: Array<{ personId: string }> };
  async function enrolOn(kiosk: Kiosk, sim: SimulatedScanner, personId: string, palms: string[]): Promise<View> {
    const { flowId } = kiosk.host.startOperatorEnrolment({ personId, enrolCodeId: `code-${personId}` });
    kiosk.host.send(flowId, { type: 'form.submit', draft });
    kiosk.host.send(flowId, { type: 'consent.given' });
    sim.enqueue(...palms.map((identity) => ({ identity, captures: 1 })));
    const settledAt = (steps: string[]) => kiosk.host.waitFor(flowId, (s) => steps.includes(s.step), 60_000) as Promise<View>;
    const review = await settledAt(['review', 'duplicate', 'failed']);
    if (review.step !== 'review') return review;
    kiosk.host.send(flowId, { type: 'capture.finish' });
    return settledAt(['enrolled', 'duplicate', 'failed']);
  }

  it('pins the module feature and no templates; the same palm again is a duplicate; captures of two palms in one hand are refused', async () => {
    const { sim, pty } = await startSim(false);
    const t = tempDir('palmpay-module-kiosk-');
    dirs.push(t.cleanup);
    const logs: string[] = [];
    const kiosk = await kioskOn(t.dir, pty.hostPath, logs);
    await settled(kiosk, logs, /palm module .* reconciled/);
    const store = kiosk.terminal.store;

    expect(await enrolOn(kiosk, sim, 'OP-HEVIN', Array(6).fill('hevin'))).toMatchObject({ step: 'enrolled' });
    const rec = store.journal.lastOfType('enrolment')!;
    const body = JSON.parse(rec.body) as { personId: string; templateDigests: string[]; hands: string[]; moduleFeature?: { family: string; digest: string } };
    expect(body).toMatchObject({ personId: 'OP-HEVIN', templateDigests: [], hands: ['left', 'right'], moduleFeature: { family: SIM_FAMILY } });
    expect(store.moduleFeatures.get('OP-HEVIN', SIM_FAMILY)?.digest).toBe(body.moduleFeature!.digest);
    expect(store.templates.byPerson('OP-HEVIN')).toEqual([]);

    // The same palm under another id: the first capture's duplicate check names the person enrolled above.
    expect(await enrolOn(kiosk, sim, 'OP-TWIN', ['hevin'])).toMatchObject({ step: 'duplicate', candidates: [{ personId: 'OP-HEVIN' }] });
    // A second palm among the left hand's captures: refused at the save, nothing signed or kept.
    const seqBefore = rec.seq;
    expect(await enrolOn(kiosk, sim, 'OP-MIXED', ['rojin', 'rojin', 'someone-else', 'rojin', 'rojin', 'rojin'])).toMatchObject({ step: 'failed' });
    expect(store.journal.lastOfType('enrolment')!.seq).toBe(seqBefore);
    expect(store.moduleFeatures.get('OP-MIXED', SIM_FAMILY)).toBeUndefined();
    expect(logs.join('\n')).toMatch(/MODULE_CAPTURES_DISAGREE/);
    await kiosk.close();
  }, 180_000);
});
