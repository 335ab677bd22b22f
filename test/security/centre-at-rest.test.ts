// A local user reads the centre's files (issue 13, item 6): the database must be 0600 in a 0700 folder, and must
// hold neither the centre's private key nor any template in the clear; the key file (outside the database) is 0600.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { createCipheriv, randomBytes } from 'node:crypto';
import { KEY_FILE, loadCentreKeys, openTemplates, sealTemplates } from '../../src/server/keys.ts';
import { openSqlDb, sql } from '../../src/server/sql.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

describe('the centre at rest', () => {
  let root: string;
  beforeEach(() => void (root = mkdtempSync(join(tmpdir(), 'palmpay-rest-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates the database 0600 in a 0700 folder, keeps the keys in a 0600 file outside it, and seals templates', async () => {
    const dir = join(root, 'centre-data');
    const file = join(dir, 'centre.db');
    const central = await Central.open(`sqlite:${file}`);
    const template = enrolmentBytes('P1');
    await enrolCustomer(central, await registeredTerminal(central, 'T1'), 'P1', 'A1', template);
    const pkcs8 = central.identity.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    await central.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(pkcs8))).toBe(false); // no centre key in the database
    expect(bytes.includes(Buffer.from(template.toString('base64')))).toBe(false); // no template in the clear
    expect(bytes.includes(template)).toBe(false);
    // and it all still works after a restart: same identity, templates open for the feed
    const again = await Central.open(`sqlite:${file}`);
    try {
      expect(again.identity.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')).toBe(pkcs8);
      const t = (await again.repo.tx((r) => r.getTerminal('T1')))!;
      const feed = await again.feed(t, 0);
      expect(feed.events.find((e) => e.kind === 'person')?.data.templates).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  it('moves the key of an older centre out of its database and seals its plaintext templates', async () => {
    const file = join(root, 'old.db');
    const central = await Central.open(`sqlite:${file}`);
    const pkcs8 = central.identity.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const template = enrolmentBytes('P1');
    await enrolCustomer(central, await registeredTerminal(central, 'T1'), 'P1', 'A1', template);
    // what an older version left behind: the key in meta, templates as plaintext base64 in the JSON column
    await central.repo.tx(async (r) => {
      await r.setMeta('server_key', pkcs8);
      await r.conn.run(sql`UPDATE persons SET templates = NULL, templates_json = ${JSON.stringify([template.toString('base64')])} WHERE id = 'P1'`);
    });
    await central.close();
    rmSync(join(root, KEY_FILE));
    const again = await Central.open(`sqlite:${file}`);
    try {
      expect(again.identity.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')).toBe(pkcs8);
      expect(await again.repo.tx((r) => r.getMeta('server_key'))).toBeUndefined();
      const key = Buffer.from(loadCentreKeys(root).templateKey, 'base64');
      expect(openTemplates(key, 'P1', (await again.repo.tx((r) => r.getPerson('P1')))!.templates!)).toEqual([template]);
      expect(await again.repo.tx((r) => r.conn.get(sql`SELECT id FROM persons WHERE templates_json IS NOT NULL`))).toBeUndefined();
      const feed = await again.feed((await again.repo.tx((r) => r.getTerminal('T1')))!, 0);
      expect(feed.events.find((e) => e.kind === 'person')?.data.templates).toHaveLength(1); // the counters still get them
    } finally {
      await again.close();
    }
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from(pkcs8))).toBe(false);
    expect(bytes.includes(Buffer.from(template.toString('base64')))).toBe(false); // not left in free pages either
    expect(bytes.includes(template)).toBe(false);
  });

  it('moves templates sealed one by one (before migration 18) into the blob; a row under another key stops the start and stays', async () => {
    const file = join(root, 'v17.db');
    const central = await Central.open(`sqlite:${file}`);
    const template = enrolmentBytes('P1');
    await enrolCustomer(central, await registeredTerminal(central, 'T1'), 'P1', 'A1', template);
    const key = Buffer.from(loadCentreKeys(root).templateKey, 'base64');
    const legacy = JSON.stringify([sealOneByOne(key, 'P1#0', template)]);
    await central.repo.tx((r) => r.conn.run(sql`UPDATE persons SET templates = NULL, templates_json = ${legacy} WHERE id = 'P1'`));
    await central.close();
    // The same row under a key this centre does not hold: refused at start, nothing lost.
    const foreign = JSON.stringify([sealOneByOne(randomBytes(32), 'P1#0', template)]);
    const again = await Central.open(`sqlite:${file}`);
    try {
      expect(openTemplates(key, 'P1', (await again.repo.tx((r) => r.getPerson('P1')))!.templates!)).toEqual([template]);
      await again.repo.tx((r) => r.conn.run(sql`UPDATE persons SET templates = NULL, templates_json = ${foreign} WHERE id = 'P1'`));
    } finally {
      await again.close();
    }
    await expect(Central.open(`sqlite:${file}`)).rejects.toMatchObject({ code: 'TEMPLATE_SEAL_BROKEN' });
    const db = await openSqlDb(`sqlite:${file}`, { poolMax: 1 });
    try {
      expect(await db.tx((c) => c.get(sql`SELECT templates, templates_json FROM persons WHERE id = 'P1'`))).toEqual({ templates: null, templates_json: foreign });
    } finally {
      await db.close();
    }
  });

  it('opens a stored blob only for its own person, unedited, under its own key', () => {
    const key = randomBytes(32);
    const templates = [enrolmentBytes('P1'), enrolmentBytes('P1', 'right')];
    const sealed = sealTemplates(key, 'P1', templates);
    expect(openTemplates(key, 'P1', sealed)).toEqual(templates);
    expect(sealed.includes(templates[0]!.subarray(0, 64))).toBe(false);
    const broken = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: 'TEMPLATE_SEAL_BROKEN' }));
    broken(() => openTemplates(key, 'P2', sealed)); // copied onto another person
    broken(() => openTemplates(randomBytes(32), 'P1', sealed)); // another centre's key
    for (const at of [0, 5, 20, 40, sealed.length - 1]) {
      const edited = Buffer.from(sealed);
      edited[at]! ^= 1;
      broken(() => openTemplates(key, 'P1', edited));
    }
    broken(() => openTemplates(key, 'P1', sealed.subarray(0, sealed.length - 1)));
    broken(() => openTemplates(key, 'P1', Buffer.alloc(0)));
  });
});

/** One template as a centre before migration 18 sealed it: `s1:` + base64(iv ‖ tag ‖ AES-256-GCM), bound to `person#i`. */
function sealOneByOne(key: Buffer, aad: string, plain: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return 's1:' + Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}
