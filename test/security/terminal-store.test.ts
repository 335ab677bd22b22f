// A local user reads or edits the terminal's store (issue 13, items 1 and 11, the parts done): the X25519 key that
// opens templates from the feed is stored sealed, and an account already bound to one person is never re-bound
// to another by a feed event.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Link } from '../../src/host/link.ts';
import { startEmbeddedLink } from '../../src/host/demo/link.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { SETTINGS } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';

describe('the terminal store', () => {
  let dir: string;
  let cleanup: () => void;
  let t: Terminal;
  let link: Link | undefined;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    t = makeTerminal(dir);
  });
  afterEach(async () => {
    await link?.close();
    link = undefined;
    t.close();
    cleanup();
  });

  it('keeps the feed key (X25519) sealed under the data key when the kiosk registers with its centre', async () => {
    link = await startEmbeddedLink(t, dir);
    const stored = t.store.settings.get<unknown>(SETTINGS.encKey);
    expect(stored).toMatchObject({ sealed: expect.any(String) });
  });

  it('never re-binds an account to another person (an account has one owner)', () => {
    const now = Date.now();
    for (const personId of ['P1', 'MALLORY']) t.store.people.upsert({ personId, name: personId, idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: now });
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'P1', currency: 'SYP', status: 'active', updatedAtMs: now })).toBe(true);
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'MALLORY', currency: 'SYP', status: 'active', updatedAtMs: now + 1 })).toBe(false);
    expect(t.store.people.getAccount('A1')?.personId).toBe('P1');
    expect(t.store.people.upsertAccountRow({ accountId: 'A1', personId: 'P1', currency: 'SYP', status: 'blocked', updatedAtMs: now + 2 })).toBe(true);
    expect(t.store.people.getAccount('A1')).toMatchObject({ personId: 'P1', status: 'blocked' });
  });
});
