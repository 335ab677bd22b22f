// The kiosk's 1:N index at rest (src/host/adapters/palm-index.ts): a terminal restarts and identifies through the
// sealed index snapshot; a tampered snapshot is rebuilt from the rows and still identifies; a template stored
// after the snapshot was written is found; a revocation from the centre's feed drops the person's entries.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { encodePalm, fuseCaptures, PalmIdentifier, templateFromFrame, type Template } from '../../src/host/adapters/palm.ts';
import { enrolStoredRow, loadPalmIndex, loadPalmIndexInSlices, PALM_SNAPSHOT_FILE, SnapshotKeeper, writePalmSnapshot } from '../../src/host/adapters/palm-index.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { pullFeed, SETTINGS } from '../../src/sync/feed.ts';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';

const IDS = ['a', 'b', 'c', 'd', 'e'];

function capture(identity: string, sample: number, shot: number): Template {
  const r = templateFromFrame(syntheticPalm(identity, sample, shot, 320, 240));
  if (!r.ok) throw new Error(`${identity}: failure to acquire (${r.reason})`);
  return r.template;
}
const enrolled = (id: string) => fuseCaptures([0, 1, 2].map((s) => ({ ...capture(`pi-${id}`, 1 + (s % 2), s), hand: 'left' as const })));
const probe = (id: string) => capture(`pi-${id}`, 2, 7);

let dir: string;
let t: Terminal;
const deps = () => ({ store: t.store, sealer: t.keys.sealer, file: join(dir, PALM_SNAPSHOT_FILE) });

function storeTemplate(personId: string, templateId: string, template: Template): void {
  const bytes = encodePalm(template);
  t.store.people.upsert({ personId, name: personId, idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: 0 });
  t.store.templates.add({
    templateId, personId, hand: 'left', sealed: t.keys.sealer.seal(bytes, templateId),
    digest: createHash('sha256').update(bytes).digest('hex'), provisional: false, createdAtMs: 0,
  });
}

/** A "restart": a fresh index over the same store and data folder. */
function restart(): { idf: PalmIdentifier; load: ReturnType<typeof loadPalmIndex> } {
  const idf = new PalmIdentifier();
  return { idf, load: loadPalmIndex(idf, deps()) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-palm-index-'));
  provisionTerminal(dir, 'T-PI', { protector: filePermissionsProtector() });
  t = openTerminal(dir, { protector: filePermissionsProtector() });
  for (const id of IDS.slice(0, 4)) storeTemplate(`p-${id}`, `tpl-${id}`, enrolled(id));
  // A corrupt row: skipped and reported on every path, never matched.
  t.store.templates.add({ templateId: 'tpl-bad', personId: 'p-a', hand: 'left', sealed: t.keys.sealer.seal(new Uint8Array([1, 2, 3]), 'tpl-bad'), digest: '-', provisional: false, createdAtMs: 0 });
});
afterAll(() => {
  t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('palm index snapshot', () => {
  it('first start: no snapshot, rebuilt from the rows; the rewrite is loaded at the next start without opening a row', () => {
    const first = restart();
    expect(first.load).toMatchObject({ path: 'rebuilt', reason: 'missing', opened: 4, stale: true });
    expect(first.load.skipped.map((s) => s.entryId)).toEqual(['tpl-bad']);
    const w = writePalmSnapshot(first.idf, deps());
    expect(w.entries).toBe(4);

    // Restart: every code from the snapshot; templates stay sealed until stage 2 opens them.
    const opens: string[] = [];
    const sealer = t.keys.sealer;
    const counting = { ...sealer, open: (s: Uint8Array, id: string) => (opens.push(id), sealer.open(s, id)) };
    const idf = new PalmIdentifier();
    const load = loadPalmIndex(idf, { ...deps(), sealer: counting });
    expect(load).toMatchObject({ path: 'snapshot', fromSnapshot: 4, opened: 0, dropped: 0, stale: false });
    expect(opens).toEqual(['tpl-bad']); // only the row the snapshot does not cover (still corrupt: skipped again)
    expect(idf.size).toBe(4);
    for (const id of IDS.slice(0, 4)) expect(idf.identify(probe(id))).toEqual({ kind: 'match', personId: `p-${id}` });
    expect(idf.identify(probe('e'))).toEqual({ kind: 'no-match' });
    expect(opens.length).toBeGreaterThan(1); // stage 2 opened candidates on demand
    expect(idf.verify('p-b', probe('b'))).toBe(true);
    expect(idf.verify('p-b', probe('c'))).toBe(false);
  });

  it('a tampered snapshot fails authentication, is rebuilt from the rows, and still identifies correctly', () => {
    const file = deps().file;
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0x01;
    writeFileSync(file, bytes);
    const { idf, load } = restart();
    expect(load.path).toBe('rebuilt');
    expect(load.reason).toMatch(/IDENTIFY_SNAPSHOT_INVALID/);
    expect(load.opened).toBe(4);
    for (const id of IDS.slice(0, 4)) expect(idf.identify(probe(id))).toEqual({ kind: 'match', personId: `p-${id}` });
    writePalmSnapshot(idf, deps());
    expect(restart().load.path).toBe('snapshot');
  });

  it('a snapshot of the older format (version 1, before the screen codes) is refused and rebuilt from the rows', () => {
    const file = deps().file;
    const bytes = readFileSync(file);
    bytes[4] = 1; // the format version byte
    writeFileSync(file, bytes);
    const { idf, load } = restart();
    expect(load.path).toBe('rebuilt');
    expect(load.reason).toMatch(/IDENTIFY_SNAPSHOT_INVALID.*version 1/);
    for (const id of IDS.slice(0, 4)) expect(idf.identify(probe(id))).toEqual({ kind: 'match', personId: `p-${id}` });
    writePalmSnapshot(idf, deps());
    expect(restart().load.path).toBe('snapshot');
  });

  it('a template stored after the snapshot was written is found; a row removed since is dropped', () => {
    storeTemplate('p-e', 'tpl-e', enrolled('e'));
    t.store.templates.deletePerson('p-d');
    const { idf, load } = restart();
    expect(load).toMatchObject({ path: 'snapshot', fromSnapshot: 3, opened: 1, dropped: 1, stale: true });
    expect(idf.identify(probe('e'))).toEqual({ kind: 'match', personId: 'p-e' });
    expect(idf.identify(probe('d'))).toEqual({ kind: 'no-match' });
    // An enrolment made here (indexed under a provisional id) is written into the snapshot under its row id.
    storeTemplate('p-d', 'tpl-d2', enrolled('d'));
    idf.add('p-d', [enrolled('d')]);
    expect(writePalmSnapshot(idf, deps()).entries).toBe(5);
    const again = restart();
    expect(again.load).toMatchObject({ path: 'snapshot', fromSnapshot: 5, opened: 0 });
    expect(again.idf.identify(probe('d'))).toEqual({ kind: 'match', personId: 'p-d' });
  });

  it('loaded in slices (the counter serves its first screen meanwhile): the same index, with the event loop given back between slices', async () => {
    writePalmSnapshot(restart().idf, deps());
    for (const path of ['snapshot', 'rebuilt'] as const) {
      if (path === 'rebuilt') rmSync(join(dir, PALM_SNAPSHOT_FILE));
      const whole = restart();
      const idf = new PalmIdentifier();
      let turns = 0;
      const tick = setInterval(() => turns++, 0);
      const load = await loadPalmIndexInSlices(idf, deps(), 1);
      clearInterval(tick);
      expect(load.path).toBe(path);
      expect([load.fromSnapshot, load.opened, load.dropped, load.skipped]).toEqual([whole.load.fromSnapshot, whole.load.opened, whole.load.dropped, whole.load.skipped]);
      expect(turns).toBeGreaterThan(0); // timers ran during the load
      expect(idf.size).toBe(whole.idf.size);
      for (const id of IDS) expect(idf.identify(probe(id))).toEqual(whole.idf.identify(probe(id)));
    }
    writePalmSnapshot(restart().idf, deps());
  });

  it('rewrites are debounced: many changes, one write', async () => {
    let writes = 0;
    const keeper = new SnapshotKeeper(() => writes++, 20);
    const idf = new PalmIdentifier();
    idf.onChange = () => keeper.schedule();
    enrolStoredRow(idf, deps(), 'tpl-a', 'p-a');
    enrolStoredRow(idf, deps(), 'tpl-b', 'p-b');
    idf.revoke('p-b');
    expect(writes).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(writes).toBe(1);
    idf.revoke('p-a');
    keeper.flush();
    expect(writes).toBe(2);
    expect(keeper.pending).toBe(false);
  });
});

describe('revocation from the centre', () => {
  it('the feed deletes the revoked person’s templates and tells the index, which drops them; a restart agrees', async () => {
    const { idf } = restart();
    expect(idf.identify(probe('c'))).toEqual({ kind: 'match', personId: 'p-c' });
    let written = 0;
    idf.onChange = () => written++;
    // A page the centre signed (feed pages are applied only when signed by the pinned centre key).
    const centre = serverIdentity(newServerKeyPkcs8());
    t.store.settings.set(SETTINGS.serverPublicKey, centre.publicKeyHex);
    const events = [{ seq: 1, kind: 'person_revoked', key: 'p-c', data: { personId: 'p-c' } }];
    const time = signTime(centre, Date.now());
    const proof = signFeedPage(centre.privateKey, { terminalId: 'T-PI', from: 0, to: 1, more: false, eventsSha256: eventsDigest(events), timeMs: time.ms, request: 'r1' });
    const page = { events, cursor: 1, more: false, time, proof, request: 'r1' };
    const client = { feed: async () => page } as unknown as Parameters<typeof pullFeed>[0]['client'];
    const seen: string[][] = [];
    await pullFeed({
      store: t.store, client, terminalId: 'T-PI', sealer: t.keys.sealer,
      onPalms: (c) => {
        seen.push(c.revoked);
        for (const p of c.revoked) idf.revoke(p);
      },
    });
    expect(seen).toEqual([['p-c']]);
    expect(t.store.people.get('p-c')?.status).toBe('blocked');
    expect(t.store.templates.byPerson('p-c')).toEqual([]);
    expect(idf.identify(probe('c'))).toEqual({ kind: 'no-match' });
    expect(idf.verify('p-c', probe('c'))).toBe(false);
    expect(written).toBe(1);
    expect(existsSync(deps().file)).toBe(true);
    // The snapshot still lists p-c (not rewritten yet): the row check drops it at the next start.
    const after = restart();
    expect(after.load).toMatchObject({ path: 'snapshot', dropped: 1 });
    expect(after.idf.identify(probe('c'))).toEqual({ kind: 'no-match' });
    expect(after.idf.identify(probe('a'))).toEqual({ kind: 'match', personId: 'p-a' });
  });
});
