// The counter's side of a salary lease handover, attacked (the centre's side: lease-handover-redteam.test.ts). Once
// a counter has signed the `lease_release` of a lease, the centre may grant the voucher elsewhere at any moment: the
// counter must never pay under that lease again, whatever its store says later — a lease row put back from a copy
// taken before (a local user), or the same lease arriving again from an older feed page (a cursor reset).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Terminal } from '../../src/ledger/open.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openKeyStore, provisionIdentity } from '../../src/ledger/keystore.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { voucherFeed } from '../../src/server/leases.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';

describe('a counter never pays under a lease it gave back', () => {
  let t: Terminal;
  let cleanup: () => void;
  const voucher = { voucherId: 'V-1', personId: 'P-1', accountId: 'A-1', period: '2026-11', amountMinor: 750_000, currency: 'SYP' as const, status: 'open' as const, updatedAtMs: 1 };
  const lease = { voucherId: 'V-1', leaseId: 'L-1', terminalId: 'T-1', grantedAtMs: 0, expiresAtMs: 9e15 };
  const pay = () => t.ledger.payVoucher({ voucherId: 'V-1', personId: 'P-1', operatorId: 'op-1' });
  beforeEach(() => {
    const d = tempDir();
    cleanup = d.cleanup;
    t = makeTerminal(d.dir, 'T-1');
    t.ledger.centreCopies.putVoucher(voucher);
    t.ledger.centreCopies.putLease(lease);
  });
  afterEach(() => {
    t.close();
    cleanup();
  });

  it('a lease row put back from a copy taken before the release (its seal still holds) pays nothing', () => {
    const db = (t.store as unknown as { db: import('better-sqlite3').Database }).db;
    const copy = db.prepare('SELECT * FROM voucher_leases WHERE voucher_id = ?').get('V-1') as Record<string, unknown>;
    expect(t.ledger.releaseLease('V-1', 'L-1')).toMatchObject({ type: 'lease_release', leaseId: 'L-1' });
    db.prepare('INSERT INTO voucher_leases (voucher_id, lease_id, terminal_id, granted_at_ms, expires_at_ms, seal) VALUES (@voucher_id, @lease_id, @terminal_id, @granted_at_ms, @expires_at_ms, @seal)').run(copy);
    expect(t.ledger.centreCopies.lease('V-1')?.leaseId).toBe('L-1'); // the row is the centre's, sealed: it reads fine
    expect(pay).toThrow(expect.objectContaining({ code: 'VOUCHER_REFUSED', reason: 'not-leased-here' }));
    expect([...t.store.journal.iterate()].map((r) => r.type)).toEqual(['lease_release']);
  });

  it('a counter that paid gives no lease back, whatever the voucher row says (edited to "open", or reopened by a void)', () => {
    // The centre would refuse such a release (the payout comes first in the chain); the counter signs none at all:
    // what it paid is in its signed journal, not in a column a local user can edit.
    const db = (t.store as unknown as { db: import('better-sqlite3').Database }).db;
    const paid = pay();
    t.ledger.append({ type: 'void', operatorId: 'op-1', approvedBy: 'sup-1', voidId: 'VD-1', targetTerminalId: 'T-1', targetSeq: paid.seq, targetType: 'salary_payout', targetId: 'V-1', amountMinor: 750_000, currency: 'SYP', reason: 'wrong person' });
    expect(t.store.vouchers.get('V-1')?.status).toBe('open'); // the counter reopened it
    db.prepare("UPDATE vouchers SET status = 'open', paid_seq = NULL WHERE voucher_id = 'V-1'").run(); // or a local user did
    expect(t.ledger.releaseLease('V-1', 'L-1')).toBeUndefined();
    expect(t.store.vouchers.lease('V-1')).toBeUndefined(); // dropped all the same: it cannot pay here any more
    expect([...t.store.journal.iterate()].map((r) => r.type)).toEqual(['salary_payout', 'void']);
  });

  it('the released lease arriving again from an older feed page pays nothing; a fresh lease pays', () => {
    t.ledger.releaseLease('V-1', 'L-1');
    t.ledger.centreCopies.putLease(lease); // the `voucher` event of L-1 applied again (feed cursor reset)
    expect(pay).toThrow(expect.objectContaining({ reason: 'not-leased-here' }));
    t.ledger.centreCopies.putLease({ ...lease, leaseId: 'L-2' }); // the centre granted it back (a cancelled move)
    expect(pay()).toMatchObject({ type: 'salary_payout', leaseId: 'L-2' });
  });
});

describe('a withdrawal the counter cannot give back does not stop its feed', () => {
  let dir: string;
  let server: RunningServer;
  const open: Array<{ sync: Sync; store: Store }> = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palmpay-lease-counter-'));
    server = await startServer({ db: `sqlite:${join(dir, 'centre.db')}`, port: 0 });
  });
  afterEach(async () => {
    for (const c of open.splice(0)) {
      await c.sync.stop();
      c.store.close();
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function counter(id: string) {
    const protector = filePermissionsProtector();
    const home = join(dir, id);
    provisionIdentity(home, id, protector);
    const keys = openKeyStore(home, protector);
    const store = openStore(join(home, 'terminal.db'));
    const ledger = Ledger.open(store, keys);
    const { code } = await server.central.addTerminal({ id, name: id, branch: 'B1', region: 'R1' });
    await registerWithCentre({ store, serverUrl: server.url, code, signer: keys.signer, sealer: keys.sealer });
    const sync = createSync({ store, serverUrl: server.url, keys, ledger });
    open.push({ sync, store });
    return { id, store, ledger, sync };
  }

  it('a voucher whose id is no record id (a person id of 60 characters): its withdrawal is applied, and later events still arrive', async () => {
    // The payroll file took person ids up to 64 characters; `V-2026-11-` made the voucher id longer than a record id
    // may be, so no record can name it (an import now refuses such a line). Giving its lease back threw inside the
    // page: that page, and every one after it (revocations, limits, new vouchers), was refused for ever.
    const person = `E${'x'.repeat(59)}`;
    const long = `V-2026-11-${person}`;
    const holder = await counter('T1');
    const other = await counter('T2');
    await expect(server.central.importPayroll(`period,person,amount,currency,branch\n2026-11,${person},150000,SYP,B1`)).rejects.toMatchObject({ code: 'PAYROLL_INVALID' });
    await server.central.repo.tx(async (r) => {
      // …as a centre before that check imported it.
      const v = { id: long, period: '2026-11', person_id: person, amount: 150000, currency: 'SYP', branch: 'B1', lease_terminal: holder.id, lease_id: 'L-long', status: 'open' as const, redeemed_by: null, created_at: Date.now() };
      await r.insertVoucher(v);
      await r.appendFeed(`terminal:${holder.id}`, 'voucher', long, voucherFeed(v), Date.now());
    });
    await holder.sync.pullFeed();
    expect(holder.store.vouchers.lease(long)).toBeDefined();
    await server.central.moveLease(long, other.id);
    await server.central.importPayroll('period,person,amount,currency,branch\n2026-12,E2,150000,SYP,B1\n2026-12,E3,150000,SYP,B1');
    await holder.sync.pullFeed();
    expect(holder.store.vouchers.lease(long)).toBeUndefined();
    expect(holder.store.vouchers.get('V-2026-12-E2') ?? holder.store.vouchers.get('V-2026-12-E3')).toBeDefined();
  });
});
