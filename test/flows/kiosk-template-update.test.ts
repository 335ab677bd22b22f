// Template update wired into the whole kiosk (on by default; off with templateUpdates: false or
// PALMPAY_TEMPLATE_UPDATES=off): a customer identified in a flow while an operator is signed in may leave an update
// slot, a template_update record signed for that operator and a queued capture; the operator's own palm sign-in
// never does (no session yet). Real store, ledger, simulated scanner and the link to the embedded centre.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, templateUpdatesEnabled, type Kiosk } from '../../src/host/compose.ts';
import { pendingCaptures } from '../../src/sync/index.ts';
import { sql } from '../../src/server/sql.ts';
import type { RunningServer } from '../../src/server/index.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';

let dir: string;
let k: Kiosk;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-tu-'));
  k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true } }); // templateUpdates: the default
});
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

const updates = () =>
  (k.terminal.store.db.prepare(`SELECT body FROM journal WHERE type = 'template_update' ORDER BY seq`).pluck().all() as string[]).map(
    (b) => JSON.parse(b) as { operatorId: string; personId: string; updateId: string },
  );

describe('kiosk template update', () => {
  it('the operator sign-in updates nothing; customers identified in a flow do, signed for the operator, sealed at rest', async () => {
    k.host.sessionSend({ type: 'login.start' });
    k.present({ identity: 'op-cashier' });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    expect(updates()).toEqual([]); // identified, but nobody is signed in to sign an update
    k.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await k.host.waitForSession((s) => s.step === 'active');

    for (let i = 0; i < 4; i++) {
      const f = k.host.start('statement');
      k.present({ identity: 'emp-ahmad' });
      await k.host.waitFor(f.flowId, (s) => s.step === 'shown');
    }
    const recs = updates();
    expect(recs.length).toBeGreaterThan(0);
    for (const r of recs) expect(r.operatorId).toBe('op-cashier');
    const personId = recs[0]!.personId;
    expect(new Set(recs.map((r) => r.personId))).toEqual(new Set([personId]));
    const slots = k.terminal.store.db.prepare('SELECT update_id FROM template_updates WHERE person_id = ?').pluck().all(personId) as string[];
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.length).toBeLessThanOrEqual(2);
    for (const id of slots) expect(recs.map((r) => r.updateId)).toContain(id);
    expect(verifyJournal(k.terminal.store, k.terminal.keys.publicKey).ok).toBe(true);
    // The embedded centre takes the records (nothing refused as malformed or out of chain), then each capture,
    // which it re-decides on its own copies of the demo palms: the admitted slots come back in the feed.
    await k.link!.sync.drained(15_000);
    await k.link!.sync.pullFeed();
    expect(pendingCaptures(k.terminal.store)).toEqual([]);
    const centre = (k.link as unknown as { centre: RunningServer }).centre.central; // the demo's embedded centre
    const decided = await centre.repo.db.tx((c) => c.all<{ update_id: string; status: string; reason: string | null }>(sql`SELECT update_id, status, reason FROM template_updates`));
    expect(decided.map((d) => d.update_id).sort()).toEqual(recs.map((r) => r.updateId).sort());
    const applied = decided.filter((d) => d.status === 'applied').map((d) => d.update_id);
    expect(applied.length).toBeGreaterThan(0);
    const kept = k.terminal.store.db.prepare('SELECT update_id FROM template_updates WHERE person_id = ?').pluck().all(personId) as string[];
    for (const id of kept) expect(applied).toContain(id); // the counter now holds the centre's slots
  });
});

describe('the template update switch', () => {
  it('on by default; the kiosk option wins; PALMPAY_TEMPLATE_UPDATES=off turns it off; anything else is refused', () => {
    expect(templateUpdatesEnabled(undefined, undefined)).toBe(true);
    expect(templateUpdatesEnabled(undefined, 'on')).toBe(true);
    expect(templateUpdatesEnabled(undefined, 'off')).toBe(false);
    expect(templateUpdatesEnabled(false, undefined)).toBe(false);
    expect(templateUpdatesEnabled(true, 'off')).toBe(true);
    expect(() => templateUpdatesEnabled(undefined, 'no')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
