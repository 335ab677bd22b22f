// A local user reads the centre's files (issue 13, item 6): the database must be 0600 in a 0700 folder, and must
// hold neither the centre's private key nor any template in the clear; the key file (outside the database) is 0600.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { KEY_FILE } from '../../src/server/keys.ts';
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
    // what an older version left behind: the key in meta, templates as plaintext base64
    await central.repo.tx(async (r) => {
      await r.setMeta('server_key', pkcs8);
      await r.setPersonTemplates('P1', JSON.stringify([template.toString('base64')]), 1);
    });
    await central.close();
    rmSync(join(root, KEY_FILE));
    const again = await Central.open(`sqlite:${file}`);
    try {
      expect(again.identity.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')).toBe(pkcs8);
      expect(await again.repo.tx((r) => r.getMeta('server_key'))).toBeUndefined();
      expect((await again.repo.tx((r) => r.getPerson('P1')))!.templates).toMatch(/^\["s1:/);
    } finally {
      await again.close();
    }
    expect(readFileSync(file).includes(Buffer.from(pkcs8))).toBe(false);
  });
});
