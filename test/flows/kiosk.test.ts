// The whole kiosk in-process: SQLite store + signed ledger, the simulated scanner over the HID protocol through
// the real ScannerClient, the FlowHost. What the e2e tests drive through the browser, without the browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { verifyJournal } from '../../src/ledger/verify-journal.ts';

let dir: string;
let k: Kiosk;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-kiosk-'));
  k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true } });
});
afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(operator = 'op-cashier', pin = '1234') {
  k.host.sessionSend({ type: 'login.start' });
  k.present({ identity: operator });
  await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
  k.host.sessionSend({ type: 'auth.submit', pin });
  await k.host.waitForSession((s) => s.step === 'active');
}

describe('kiosk in-process', () => {
  it('refuses flows before login', () => {
    expect(() => k.host.start('payout')).toThrow(expect.objectContaining({ code: 'SESSION_LOCKED' }));
  });

  it('logs in with palm + PIN and pays a salary once over the simulated scanner', async () => {
    await login();
    const f = k.host.start('payout');
    k.present({ identity: 'emp-ahmad' });
    const review = await k.host.waitFor(f.flowId, (s) => s.step === 'review');
    expect('totals' in review && review.totals).toEqual([{ minor: 30_000_000, currency: 'SYP' }]);
    k.host.send(f.flowId, { type: 'cash.confirmed' });
    k.host.send(f.flowId, { type: 'cash.confirmed' });
    await k.host.waitFor(f.flowId, (s) => s.step === 'confirm');
    k.present({ identity: 'emp-ahmad' });
    expect(await k.host.waitFor(f.flowId, (s) => s.step === 'receipt')).toMatchObject({ confirmed: true });
    expect(k.drawerOpens()).toBe(1);
    expect(k.terminal.store.db.prepare(`SELECT count(*) FROM journal WHERE type='salary_payout'`).pluck().get()).toBe(2);
  });

  it('recognises palms by their veins: every demo palm enrolled from synthetic captures, a stranger is unknown', async () => {
    expect(k.identifier.size).toBe(16); // 11 people + 3 operators + 2 enrolled from one palm
    expect(k.placeholders[0]!.description).toContain('real palm-vein pipeline');
    const f = k.host.start('payout');
    k.present({ identity: 'stranger' });
    expect(await k.host.waitFor(f.flowId, (s) => s.step === 'refused')).toMatchObject({ reason: 'unknown-palm' });
  });

  it('an ambiguous palm and a palm too far are told apart', async () => {
    const f = k.host.start('payout');
    k.present({ identity: 'twin' });
    expect(await k.host.waitFor(f.flowId, (s) => s.step === 'refused')).toMatchObject({ reason: 'ambiguous' });
    const g = k.host.start('statement');
    k.present({ identity: 'emp-ahmad', distanceMm: 150 });
    expect(await k.host.waitFor(g.flowId, (s) => s.step === 'palm' && s.ftaReason !== null)).toMatchObject({ ftaReason: 'too-far' });
    k.present({ identity: 'emp-ahmad' });
    const shown = await k.host.waitFor(g.flowId, (s) => s.step === 'shown');
    expect(shown.step === 'shown' && 'entries' in shown && shown.entries.map((e) => e.kind)).toEqual(['payout', 'payout']);
  });

  it('a payout with the link down is recorded, queued, and uploaded when the link returns', async () => {
    await k.link!.sync.drained(10_000);
    k.setLinkUp(false);
    const f = k.host.start('payout');
    k.present({ identity: 'emp-hevi' });
    await k.host.waitFor(f.flowId, (s) => s.step === 'review');
    k.host.send(f.flowId, { type: 'cash.confirmed' });
    await k.host.waitFor(f.flowId, (s) => s.step === 'confirm');
    await expect.poll(() => k.status.link.status().state, { timeout: 10_000 }).toBe('down');
    expect(k.status.queue.status().length).toBeGreaterThan(0);
    k.setLinkUp(true);
    await k.link!.sync.drained(15_000);
    expect(k.status.queue.status().length).toBe(0);
    expect(k.status.link.status().state).toBe('up');
    k.host.send(f.flowId, { type: 'confirm.skip' });
  });

  it('locking closes the running flows', async () => {
    const f = k.host.start('purchase');
    k.host.sessionSend({ type: 'lock' });
    expect(() => k.host.get(f.flowId)).toThrow(expect.objectContaining({ code: 'FLOW_UNKNOWN' }));
    expect(verifyJournal(k.terminal.store, k.terminal.keys.publicKey).ok).toBe(true);
  });
});
