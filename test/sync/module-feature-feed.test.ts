// Issue 14 §2: a person enrolled at a counter whose palm module matches on its own is known to the region's other
// counters with a module of the same family only through that module's feature blob. The signed enrolment record
// pins the feature's digest; the counter sends the blob with the templates; the centre checks it against the pin
// and the family's format, keeps it sealed, and the feed's person event brings it (sealed for each terminal) to the
// region's counters, which check the digest again before keeping it sealed in `module_features`. Over real
// loopback HTTP with a real centre; attacks first: a feature that is not the pinned one, a foreign family or
// format, a feature unasked for, a terminal of another region, a feed whose feature does not match its digest.
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeSimFeature, SIM_FAMILY } from '../../drivers/serial-module/feature-families.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { loadCentreKeys, sealModuleFeature } from '../../src/server/keys.ts';
import { sql } from '../../src/server/sql.ts';
import { moduleFeatureBinding } from '../../src/store/module-features.ts';
import { CentreClient, CentreRefusal } from '../../src/sync/client.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const feature = (who: string) => Buffer.from(encodeSimFeature(who, new Uint8Array(1024).fill(who.length)));

describe.each(['sqlite', 'postgres'] as const)('a palm module feature travels with its enrolment to the region’s counters (centre on %s)', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let dir: string;
  let cleanup: () => void;
  let dropDb: () => Promise<void>;
  let server: RunningServer;
  const terminals: Record<string, Terminal> = {};
  const syncs: Record<string, Sync> = {};
  const codes: Record<string, string> = {};

  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    if (skip) return;
    const db = await tempDb(kind);
    dropDb = db.cleanup;
    server = await startServer({ db: db.url, port: 0, keyDir: join(dir, 'centre') });
    for (const [id, region] of [['T1', 'R1'], ['T2', 'R1'], ['T3', 'R2']] as const) {
      const t = makeTerminal(join(dir, id), id);
      terminals[id] = t;
      const { code } = await server.central.addTerminal({ id, name: `counter ${id}`, branch: `B-${id}`, region });
      codes[id] = code;
      await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
      await server.central.grantOperator(id, { operatorId: 'op-enrol', name: 'Enroller', role: 'enroller', active: true });
      syncs[id] = createSync({ store: t.store, serverUrl: server.url, keys: { terminalId: id, signer: t.keys.signer, sealer: t.keys.sealer }, ledger: t.ledger, feedIntervalMs: 300 });
    }
  });
  afterEach(async () => {
    if (!skip) {
      for (const s of Object.values(syncs)) await s.stop();
      for (const t of Object.values(terminals)) t.close();
      await server.close();
      await dropDb();
    }
    cleanup();
  });

  /**
   * What an enrolment at T1 writes: the provisional person, their sealed templates and module feature (unless
   * `keep` says not: the uploader then never sends them, and the test sends its own), and the signed record.
   */
  function enrol(personId: string, o: { pin?: { family: string; digest: string }; feature?: Buffer; keep?: boolean } = {}) {
    const t1 = terminals.T1!;
    const hands = ['left', 'right'] as const;
    const templates = hands.map((hand) => enrolmentBytes(personId, hand));
    const keep = o.keep ?? true;
    t1.store.transaction(() => {
      t1.store.people.upsert({ personId, name: 'Hêvîn Şêxo', idNumber: `id-${personId}`, phone: null, employerId: null, status: 'provisional', updatedAtMs: Date.now() });
      if (keep) {
        for (const [i, bytes] of templates.entries()) {
          const templateId = randomUUID();
          t1.store.templates.add({ templateId, personId, hand: hands[i]!, sealed: t1.keys.sealer.seal(bytes, templateId), digest: sha(bytes), provisional: true, createdAtMs: Date.now() });
        }
        if (o.feature) t1.store.moduleFeatures.put({ personId, family: SIM_FAMILY, sealed: t1.keys.sealer.seal(o.feature, moduleFeatureBinding(personId, SIM_FAMILY)), digest: sha(o.feature), createdAtMs: Date.now() });
      }
      t1.ledger.append({
        type: 'enrolment', operatorId: 'op-enrol', enrolmentId: randomUUID(), personId, person: { name: 'Hêvîn Şêxo', idNumber: `id-${personId}`, accountId: `acc-${personId}` },
        templateDigests: templates.map(sha), hands: [...hands],
        consent: { given: true, method: 'verbal', textVersion: 'consent-v1' }, provisional: true, pinDeferred: true,
        ...(o.pin ? { moduleFeature: o.pin } : {}),
      });
    });
    return templates.map((b) => b.toString('base64'));
  }
  const client = (id: string) => {
    const t = terminals[id]!;
    return new CentreClient({ baseUrl: server.url, credentials: { terminalId: id, sign: (m) => t.keys.signer.sign(m) } });
  };
  const centrePerson = (id: string) => server.central.repo.tx((r) => r.getPerson(id));
  const centreFeatures = (id: string) => server.central.repo.tx((r) => r.conn.all<{ family: string; digest: string; sealed: string }>(sql`SELECT family, digest, sealed FROM person_module_features WHERE person_id = ${id}`));
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CentreRefusal);
    return (err as CentreRefusal).remoteCode;
  };

  it.skipIf(skip)('the centre keeps the pinned feature sealed; the region’s other counter gets it, another region’s does not', async () => {
    const f = feature('P-mod');
    enrol('P-mod', { pin: { family: SIM_FAMILY, digest: sha(f) }, feature: f });
    syncs.T1!.start();
    await expect.poll(async () => (await centrePerson('P-mod'))?.status, { timeout: 20_000 }).toBe('confirmed');
    const [row, ...more] = await centreFeatures('P-mod');
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({ family: SIM_FAMILY, digest: sha(f) });
    // Sealed at rest: neither the blob nor any long run of it is in the column.
    expect(row!.sealed.startsWith('s1:')).toBe(true);
    expect(row!.sealed).not.toContain(f.toString('base64').slice(0, 24));
    expect(Buffer.from(row!.sealed.slice(3), 'base64').includes(f.subarray(0, 20))).toBe(false);

    syncs.T2!.start();
    syncs.T3!.start();
    await expect.poll(() => terminals.T2!.store.people.get('P-mod')?.status, { timeout: 20_000 }).toBe('active');
    const got = terminals.T2!.store.moduleFeatures.get('P-mod', SIM_FAMILY);
    expect(got?.digest).toBe(sha(f));
    expect(Buffer.from(terminals.T2!.keys.sealer.open(got!.sealed, moduleFeatureBinding('P-mod', SIM_FAMILY)))).toEqual(f);
    expect(terminals.T2!.store.moduleFeatures.activeOf(SIM_FAMILY).map((x) => x.personId)).toEqual(['P-mod']);
    // T3 is in another region: neither the person nor the feature.
    await expect.poll(() => terminals.T3!.store.settings.get<number>('sync.feedAtMs') ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(terminals.T3!.store.people.get('P-mod')).toBeUndefined();
    expect(terminals.T3!.store.moduleFeatures.get('P-mod', SIM_FAMILY)).toBeUndefined();
    // The enrolling counter keeps its own row (the feed's copy has the same digest).
    await expect.poll(() => terminals.T1!.store.people.get('P-mod')?.status, { timeout: 20_000 }).toBe('active');
    expect(terminals.T1!.store.moduleFeatures.get('P-mod', SIM_FAMILY)?.digest).toBe(sha(f));
  }, 60_000);

  it.skipIf(skip)('refuses a feature that is not the pinned one, a foreign family or format, one missing or unasked for, and another region’s upload: nothing stored', async () => {
    const pinned = feature('P-a');
    const other = feature('P-b'); // a real feature of the family, just not the one the record pinned
    const tA = enrol('P-a', { pin: { family: SIM_FAMILY, digest: sha(pinned) }, keep: false });
    const notPsf = Buffer.alloc(1044, 7); // the family's size, not its format
    const tF = enrol('P-f', { pin: { family: SIM_FAMILY, digest: sha(notPsf) }, keep: false });
    const tU = enrol('P-u', { keep: false }); // pins no feature
    syncs.T1!.start();
    for (const id of ['P-a', 'P-f', 'P-u']) await expect.poll(async () => (await centrePerson(id))?.status, { timeout: 20_000 }).toBe('provisional');
    const c1 = client('T1');
    const b64 = (b: Buffer) => b.toString('base64');

    expect(await refusal(c1.uploadTemplates('P-a', tA, { family: SIM_FAMILY, feature: b64(other) }))).toBe('MODULE_FEATURE_DIGEST_MISMATCH');
    expect(await refusal(c1.uploadTemplates('P-a', tA, { family: 'OtherVendor-X1', feature: b64(pinned) }))).toBe('MODULE_FEATURE_FOREIGN');
    expect(await refusal(c1.uploadTemplates('P-a', tA))).toBe('MODULE_FEATURE_MISSING');
    expect(await refusal(c1.uploadTemplates('P-f', tF, { family: SIM_FAMILY, feature: b64(notPsf) }))).toBe('MODULE_FEATURE_FOREIGN');
    expect(await refusal(c1.uploadTemplates('P-u', tU, { family: SIM_FAMILY, feature: b64(other) }))).toBe('MODULE_FEATURE_UNPINNED');
    // A counter of another region sends the right blob for T1's person: not its enrolment.
    expect(await refusal(client('T3').uploadTemplates('P-a', tA, { family: SIM_FAMILY, feature: b64(pinned) }))).toBe('PERSON_NOT_YOURS');
    for (const id of ['P-a', 'P-f', 'P-u']) {
      expect(await centreFeatures(id)).toEqual([]);
      const p = await centrePerson(id);
      expect(p?.templates).toBeNull(); // the templates were refused with it
      expect(p?.status).toBe('provisional');
    }
    // The pinned blob is taken.
    expect((await c1.uploadTemplates('P-a', tA, { family: SIM_FAMILY, feature: b64(pinned) })).status).toBe('confirmed');
    expect((await centreFeatures('P-a')).map((r) => r.digest)).toEqual([sha(pinned)]);
  }, 60_000);

  it.skipIf(skip)('a counter refuses a feed feature whose digest is not the pinned one and keeps nothing of it', async () => {
    const f = feature('P-t');
    enrol('P-t', { pin: { family: SIM_FAMILY, digest: sha(f) }, feature: f });
    syncs.T1!.start();
    await expect.poll(async () => (await centrePerson('P-t'))?.status, { timeout: 20_000 }).toBe('confirmed');
    // The centre's row replaced by someone holding the template key: another real feature of the family, sealed
    // properly for this person, its digest column edited to match. The feed's digest is the signed record's.
    const swapped = feature('P-other');
    await server.central.repo.tx((r) => r.conn.run(sql`UPDATE person_module_features SET digest = ${sha(swapped)}, sealed = ${sealModuleFeature(Buffer.from(loadCentreKeys(join(dir, 'centre')).templateKey, 'base64'), 'P-t', SIM_FAMILY, swapped)} WHERE person_id = ${'P-t'}`));
    const refused: Array<{ personId: string; code: string }> = [];
    syncs.T2!.on('moduleFeatureRefused', (r) => refused.push(r));
    syncs.T2!.start();
    await expect.poll(() => terminals.T2!.store.people.get('P-t')?.status, { timeout: 20_000 }).toBe('active');
    expect(terminals.T2!.store.moduleFeatures.get('P-t', SIM_FAMILY)).toBeUndefined();
    expect(terminals.T2!.store.moduleFeatures.activeOf(SIM_FAMILY)).toEqual([]);
    expect(refused).toEqual([expect.objectContaining({ personId: 'P-t', code: 'MODULE_FEATURE_DIGEST_MISMATCH' })]);
  }, 60_000);
});
