// The palm index's flat storage (palm-index.ts): digests kept under a 32-bit key and confirmed on the row, people
// numbered once with their entries numbered person × 32 + template, and people leaving and coming back to the
// gallery through the change log. Each test fails if the index trusted the key alone or kept a stale entry.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { coarseCode } from '../../src/biometrics/identify/coarse-code.ts';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import { CentreIndex, idHash } from '../../src/server/palm-index.ts';
import { Central } from '../../src/server/service.ts';
import { keyDirFor, loadCentreKeys, openTemplates, sealTemplates } from '../../src/server/keys.ts';
import { join, openSqlDb, sql } from '../../src/server/sql.ts';
import { ENTRY_CODE_BYTES } from '../../src/biometrics/identify/kernel/kernel.ts';
import { tempDb } from './helpers.ts';
import { enrolmentTemplate } from '../support/synthetic-codes.ts';
import type { Template } from '../../src/biometrics/types.ts';

const NO_POLL = 1e9;
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (t: Template) => Buffer.from(encodeTemplate(t));

/**
 * A confirmed person with these templates, unpublished (the catch-up publishes): sealed as the centre stores them
 * when `key` (its template key) is given, else plaintext in the column of before migration 18, which Central.open
 * moves into the sealed blob.
 */
function personRow(id: string, seq: number, templates: Template[], opts: { digests?: string[]; key?: Buffer } = {}) {
  const digests = opts.digests ?? templates.map((t) => digest(bytesOf(t)));
  const sealed = opts.key ? sealTemplates(opts.key, id, templates.map(bytesOf)) : null;
  const plain = opts.key ? null : JSON.stringify(templates.map((t) => bytesOf(t).toString('base64')));
  const codes = Buffer.concat(templates.map((t) => coarseCode(t)));
  return sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, templates_json, codes, code_hands, created_at, updated_at, change_pos)
    VALUES (${id}, 'R1', 'confirmed', 'GALLERY', ${seq}, ${JSON.stringify(digests)}, ${sealed}, ${plain}, ${codes}, ${JSON.stringify(templates.map((t) => t.hand))}, 1, 1, NULL)`;
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A migrated SQLite centre with these rows stored, its index loaded. */
async function centreWith(rows: ReturnType<typeof personRow>[]): Promise<{ central: Central; run: (q: ReturnType<typeof sql>) => Promise<void>; key: Buffer }> {
  const db = await tempDb('sqlite');
  await (await Central.open(db.url)).close();
  const conn = await openSqlDb(db.url, { poolMax: 1 });
  const run = async (q: ReturnType<typeof sql>) => void (await conn.tx((c) => c.run(q)));
  for (const r of rows) await run(r);
  const central = await Central.open(db.url);
  cleanups.push(async () => {
    await central.close();
    await conn.close();
    await db.cleanup();
  });
  await central.startIndex(NO_POLL);
  return { central, run, key: Buffer.from(loadCentreKeys(keyDirFor(db.url)).templateKey, 'base64') };
}

describe('the palm index on flat storage', () => {
  it('takes a digest sharing only the 32-bit key for no exact duplicate, and the real digest for one', async () => {
    const probe = enrolmentTemplate('probe palm');
    const probeDigest = digest(bytesOf(probe));
    // Another palm whose stored digest shares the probe's first 32 bits and differs after them.
    const twinKey = probeDigest.slice(0, 8) + (probeDigest[8] === '0' ? '1' : '0') + probeDigest.slice(9);
    const { central, run, key } = await centreWith([personRow('KEYTWIN', 1, [enrolmentTemplate('other palm')], { digests: [twinKey] })]);
    expect(central.palmIndex.stats()).toMatchObject({ persons: 1, entries: 1 });
    expect(await central.palmIndex.findDuplicate('PROBE', [bytesOf(probe)])).toBeUndefined();
    await run(personRow('SAME', 2, [probe], { key }));
    await central.palmIndex.catchUp();
    expect(await central.palmIndex.findDuplicate('PROBE', [bytesOf(probe)])).toEqual({ personId: 'SAME', score: 0 });
    // The enrolment itself is never its own duplicate.
    expect(await central.palmIndex.findDuplicate('SAME', [bytesOf(probe)])).toBeUndefined();
  });

  it('a person of two hands leaves the index when out of the gallery and comes back whole', async () => {
    const left = enrolmentTemplate('two hands', 'left');
    const right = enrolmentTemplate('two hands', 'right');
    const others = Array.from({ length: 20 }, (_, i) => personRow(`O${i}`, 10 + i, [enrolmentTemplate(`other ${i}`)]));
    const { central, run } = await centreWith([personRow('BOTH', 1, [left, right]), ...others]);
    expect(central.palmIndex.stats()).toMatchObject({ persons: 21, entries: 22 });
    // A second session of the right hand: found by stage 1 and the matcher, not by digest.
    const again = enrolmentTemplate('two hands', 'right', 1);
    expect(digest(bytesOf(again))).not.toBe(digest(bytesOf(right)));
    expect((await central.palmIndex.findDuplicate('NEW', [bytesOf(again)]))?.personId).toBe('BOTH');

    await run(sql`UPDATE persons SET status = 'revoked', change_pos = NULL WHERE id = 'BOTH'`);
    await central.palmIndex.catchUp();
    expect(central.palmIndex.stats()).toMatchObject({ persons: 20, entries: 20 });
    expect(await central.palmIndex.findDuplicate('NEW', [bytesOf(again)])).toBeUndefined();
    expect(await central.palmIndex.findDuplicate('NEW', [bytesOf(left)])).toBeUndefined();

    await run(sql`UPDATE persons SET status = 'confirmed', change_pos = NULL WHERE id = 'BOTH'`);
    await central.palmIndex.catchUp();
    expect(central.palmIndex.stats()).toMatchObject({ persons: 21, entries: 22 });
    expect(await central.palmIndex.findDuplicate('NEW', [bytesOf(left)])).toEqual({ personId: 'BOTH', score: 0 });
    expect((await central.palmIndex.findDuplicate('NEW', [bytesOf(again)]))?.personId).toBe('BOTH');
  });

  it('a person of more templates than hands (two kept in the per-person arrays, the rest beside them) is found by each digest, and leaves whole', async () => {
    const templates = [enrolmentTemplate('many a', 'left'), enrolmentTemplate('many b', 'right'), enrolmentTemplate('many c', 'left'), enrolmentTemplate('many d', 'right')];
    const { central, run } = await centreWith([personRow('MANY', 1, templates), personRow('ONE', 2, [enrolmentTemplate('one')])]);
    expect(central.palmIndex.stats()).toMatchObject({ persons: 2, entries: 5 });
    for (const t of templates) expect(await central.palmIndex.findDuplicate('NEW', [bytesOf(t)])).toEqual({ personId: 'MANY', score: 0 });
    await run(sql`UPDATE persons SET status = 'revoked', change_pos = NULL WHERE id = 'MANY'`);
    await central.palmIndex.catchUp();
    expect(central.palmIndex.stats()).toMatchObject({ persons: 1, entries: 1 });
    for (const t of templates) expect(await central.palmIndex.findDuplicate('NEW', [bytesOf(t)])).toBeUndefined();
  });

  it('two person ids of one hash (under its seed) stay two people: each found as itself, one leaving the other in place', async () => {
    const seed = 12345;
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `P-${i}`;
      const other = byHash.get(idHash(id, seed));
      if (other !== undefined) pair = [other, id];
      else byHash.set(idHash(id, seed), id);
    }
    const [a, b] = pair;
    const ta = enrolmentTemplate('hash twin a');
    const tb = enrolmentTemplate('hash twin b');
    const { central, run, key } = await centreWith([]);
    await run(personRow(a, 1, [ta], { key }));
    await run(personRow(b, 2, [tb], { key }));
    const index = new CentreIndex(central.repo, (id, stored) => openTemplates(key, id, stored), seed);
    await index.catchUp();
    expect(index.stats()).toMatchObject({ persons: 2, entries: 2 });
    expect(await index.findDuplicate('NEW', [bytesOf(ta)])).toEqual({ personId: a, score: 0 });
    expect(await index.findDuplicate('NEW', [bytesOf(tb)])).toEqual({ personId: b, score: 0 });
    await run(sql`UPDATE persons SET status = 'revoked', change_pos = NULL WHERE id = ${a}`);
    await central.repo.catchUp('persons');
    await index.catchUp();
    expect(index.stats()).toMatchObject({ persons: 1, entries: 1 });
    expect(await index.findDuplicate('NEW', [bytesOf(ta)])).toBeUndefined();
    expect(await index.findDuplicate('NEW', [bytesOf(tb)])).toEqual({ personId: b, score: 0 });
  });

  it('loads a change log of several pages, read ahead while each is applied, ending on a full page, then the row after it', async () => {
    const PAGES = 2 * 20_000; // palm-index.ts reads the change log 20 000 rows a page
    const row = (i: number) => sql`(${`P${i}`}, 'R1', 'confirmed', 'GALLERY', ${i + 1}, ${JSON.stringify([digest(Buffer.from(`p${i}`))])}, ${Buffer.alloc(16, 1)}, NULL, ${Buffer.alloc(ENTRY_CODE_BYTES, i % 251)}, '["left"]', 1, 1, NULL)`;
    const insert = (from: number, to: number) =>
      sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, templates_json, codes, code_hands, created_at, updated_at, change_pos) VALUES ${join(Array.from({ length: to - from }, (_, k) => row(from + k)))}`;
    const chunks = Array.from({ length: PAGES / 500 }, (_, c) => insert(c * 500, (c + 1) * 500));
    const { central, run } = await centreWith(chunks);
    expect(central.palmIndex.stats()).toMatchObject({ persons: PAGES, entries: PAGES });
    await run(insert(PAGES, PAGES + 1));
    await central.palmIndex.catchUp();
    expect(central.palmIndex.stats()).toMatchObject({ persons: PAGES + 1, entries: PAGES + 1 });
  }, 60_000);
});
