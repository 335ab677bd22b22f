// Template update wired into the whole kiosk (compose option templateUpdates): a customer identified in a flow while
// an operator is signed in may leave an update slot and a template_update record signed for that operator; the
// operator's own palm sign-in never does (no session yet). Real store, ledger, simulated scanner and the link to
// the embedded centre, which keeps the record for review.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';

let dir: string;
let k: Kiosk;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-tu-'));
  k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true }, templateUpdates: true });
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
    // The embedded centre takes the records into review: nothing is refused as malformed or out of chain.
    await k.link!.sync.drained(15_000);
  });
});
