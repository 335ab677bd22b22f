// The order of a customer's PINs at a counter (issue 17f): the centre keeps "the later record stands" (the record's
// own time, then its terminal and seq: src/server/customer-pins.ts), and the terminal applies the same order to the
// verifiers its feed brings (Ledger.applyCustomerPin). Each verifier carries the version of the record that set it,
// kept sealed with the PIN state (local-trust.ts). Over real loopback HTTP, two counters of one region. Attacks first:
// - a PIN set at this counter, then a feed page built before the centre ingested it (the centre's older verifier):
//   the new PIN still works here, the old one (perhaps why it was changed) does not;
// - a lockout is not lifted by the same verifier re-sent, nor by an older one;
// - a local user editing (or erasing) the stored version is caught: LOCAL_STATE_TAMPERED.
// Then the honest path: a newer verifier from another counter replaces the one held, and starts its attempts afresh;
// a PIN row from before versions (none held) counts as the oldest and is replaced by any versioned verifier.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setCustomerPin } from '../../src/host/adapters/counter-records.ts';
import { LocalTrust } from '../../src/ledger/local-trust.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { hashPin, verifyPinHash } from '../../src/ledger/pin.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import { CentreClient, registerWithCentre } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';

describe('the order of a customer’s PIN verifiers at a counter', () => {
  let dir: string;
  let cleanup: () => void;
  let server: RunningServer;
  let t1: Terminal;
  let t2: Terminal;
  const clients = new Map<string, CentreClient>();
  let oldPin: string;
  let newPin: string;
  /** Each counter's clock offset from the real one (the records' own times decide the order). */
  const skew = { T1: 0, T2: 0 };
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
    t1 = makeTerminal(join(dir, 't1'), 'T1', { now: () => Date.now() + skew.T1 });
    t2 = makeTerminal(join(dir, 't2'), 'T2', { now: () => Date.now() + skew.T2 });
    for (const t of [t1, t2]) {
      const id = t.ledger.terminalId;
      const { code } = await server.central.addTerminal({ id, name: 'counter', branch: 'B1', region: 'R1' });
      await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
      t.store.people.upsert({ personId: 'P1', name: 'Rojîn', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: Date.now() });
      await server.central.grantOperator(id, { operatorId: 'op-cashier', name: 'Cash', role: 'cashier', active: true });
      await server.central.grantOperator(id, { operatorId: `sup-${id}`, name: 'Sara', role: 'supervisor', active: true });
      t.ledger.operators.add({ operatorId: `sup-${id}`, name: 'Sara', role: 'supervisor', pinHash: 'x' });
      clients.set(id, new CentreClient({ baseUrl: server.url, credentials: { terminalId: id, sign: (m) => t.keys.signer.sign(m) } }));
    }
    await server.central.repo.tx((r) => r.insertPerson({ id: 'P1', region: 'R1', status: 'confirmed', account_id: 'A1', terminal_id: 'T1', seq: 0, digests: '[]', templates: null, duplicate_of: null, created_at: Date.now(), updated_at: Date.now() }));
    oldPin ??= await hashPin('1111');
    newPin ??= await hashPin('2580');
    skew.T1 = 0;
    skew.T2 = 0;
  });
  afterEach(async () => {
    t1.close();
    t2.close();
    await server.close();
    cleanup();
  });

  let n = 0;
  /** A supervised pin_set at this counter: signed and stored here at once; the centre hears of it only when `send`. */
  const setPin = async (t: Terminal, pinHash: string, send: boolean) => {
    const id = t.ledger.terminalId;
    const rec = t.ledger.append({ type: 'pin_set', operatorId: 'op-cashier', pinSetId: `PS-${++n}`, personId: 'P1', pinHash, approvedBy: `sup-${id}` });
    if (send) expect((await server.central.ingest(id, [rec]))[0]).toMatchObject({ status: 'accepted' });
    return rec;
  };
  const pull = (t: Terminal, fromStart = false) => {
    if (fromStart) t.store.settings.set('sync.feedCursor', 0); // the centre sends every event again
    const id = t.ledger.terminalId;
    return pullFeed({ store: t.store, client: clients.get(id)!, terminalId: id, sealer: t.keys.sealer, onCustomerPin: (p, h, v) => t.ledger.applyCustomerPin(p, h, v) });
  };
  const works = async (t: Terminal, pin: string) => verifyPinHash(pin, t.ledger.customerPins.get('P1')!.pinHash!);
  const locked = (t: Terminal) => t.ledger.customerPins.get('P1')!.lockedUntilMs > Date.now();

  it('attack: a PIN set at this counter, then a feed page with the centre’s older verifier: the new PIN still works, the old one not', async () => {
    await setPin(t2, oldPin, true); // the old PIN, set earlier at another counter; the centre has it
    skew.T1 = 60_000;
    const rec = await setPin(t1, newPin, false); // changed here, later (offline, or the page was built before the upload)
    await pull(t1);
    expect(await works(t1, '2580')).toBe(true);
    expect(await works(t1, '1111')).toBe(false);
    // The centre ingests it afterwards: the same verifier comes back and changes nothing; the region follows.
    expect((await server.central.ingest('T1', [rec]))[0]).toMatchObject({ status: 'accepted' });
    await pull(t1);
    await pull(t2);
    for (const t of [t1, t2]) expect(await works(t, '2580')).toBe(true);
  });

  it('attack: a lockout is lifted neither by the same verifier sent again nor by an older one', async () => {
    await setPin(t2, oldPin, true);
    skew.T1 = 60_000;
    const rec = await setPin(t1, newPin, false);
    t1.ledger.customerPins.setAttempts('P1', 3, Date.now() + 3_600_000); // wrong PINs at this counter
    await pull(t1); // the older verifier
    expect(locked(t1)).toBe(true);
    await server.central.ingest('T1', [rec]);
    await pull(t1); // this counter's own verifier, from the centre
    await pull(t1, true); // and every event again
    expect(locked(t1)).toBe(true);
    expect(t1.ledger.customerPins.get('P1')!.failed).toBe(3);
  });

  it('attack: a local user editing or erasing the stored version is caught (LOCAL_STATE_TAMPERED)', async () => {
    await setPin(t1, newPin, false);
    const edits = [
      'UPDATE people SET pin_at_ms = pin_at_ms + 3600000 WHERE person_id = ?', // "newer", so the centre's copy is ignored
      'UPDATE people SET pin_seq = pin_seq + 1 WHERE person_id = ?',
      "UPDATE people SET pin_terminal_id = 'T9' WHERE person_id = ?",
      'UPDATE people SET pin_at_ms = NULL, pin_terminal_id = NULL, pin_seq = NULL WHERE person_id = ?', // "oldest", so any copy replaces it
    ];
    for (const edit of edits) {
      const before = t1.store.db.prepare('SELECT pin_at_ms, pin_terminal_id, pin_seq FROM people WHERE person_id = ?').get('P1') as Record<string, unknown>;
      t1.store.db.prepare(edit).run('P1');
      expect(() => t1.ledger.customerPins.get('P1')).toThrow(expect.objectContaining({ code: 'LOCAL_STATE_TAMPERED' }));
      t1.store.db.prepare('UPDATE people SET pin_at_ms = ?, pin_terminal_id = ?, pin_seq = ? WHERE person_id = ?').run(before.pin_at_ms, before.pin_terminal_id, before.pin_seq, 'P1');
      expect(t1.ledger.customerPins.get('P1')!.pinHash).toBe(newPin);
    }
  });

  it('a newer verifier set at another counter replaces the one held here and starts its attempts afresh', async () => {
    await setPin(t1, oldPin, true);
    t1.ledger.customerPins.setAttempts('P1', 3, Date.now() + 3_600_000);
    skew.T2 = 60_000;
    await setPin(t2, newPin, true); // the person changed it at another counter, later
    await pull(t1);
    expect(await works(t1, '2580')).toBe(true);
    expect(await works(t1, '1111')).toBe(false);
    expect(locked(t1)).toBe(false);
    expect(t1.ledger.customerPins.get('P1')).toMatchObject({ failed: 0, version: { terminalId: 'T2' } });
  });

  it('a pin_set signed here before the PIN held (this clock behind another counter’s): refused (PIN_SET_OUT_OF_ORDER), nothing signed', async () => {
    skew.T2 = 60_000;
    await setPin(t2, newPin, true);
    await pull(t1);
    const head = t1.ledger.head().seq;
    await expect(setPin(t1, oldPin, false)).rejects.toMatchObject({ code: 'PIN_SET_OUT_OF_ORDER' });
    expect(t1.ledger.head().seq).toBe(head);
    expect(await works(t1, '2580')).toBe(true);
    // At the counter's screen: its own reason, not a store error (host/adapters/counter-records.ts).
    const deps = { terminal: t1, meta: () => { throw new Error('nothing is signed'); }, operatorName: () => { throw new Error('nothing is signed'); } };
    const person = { id: 'P1', nameAr: 'روجين', nameLatin: 'Rojîn', status: 'active' as const };
    expect(await setCustomerPin(deps, person, { requestId: 'rq-late', operatorId: 'op-cashier', personId: 'P1', pin: '3917', approvedBy: 'sup-T1' })).toEqual({ ok: false, reason: 'pin-out-of-order' });
    expect(t1.ledger.head().seq).toBe(head);
  });

  it('a PIN row from before versions counts as the oldest: a versioned verifier replaces it, keeping attempts when it is the same verifier', async () => {
    // Written as an older PalmPay wrote it: sealed over the hash and lockout only, no version (then two wrong PINs).
    const trust = new LocalTrust(t1.keys);
    const legacy = { pinHash: oldPin, failed: 0, lockedUntilMs: 0 };
    t1.store.people.setPin('P1', { ...legacy, version: null, seal: trust.mac('customer-pin', 'P1', legacy) });
    t1.ledger.customerPins.setAttempts('P1', 2, 0);
    expect(t1.ledger.customerPins.get('P1')).toMatchObject({ pinHash: oldPin, failed: 2, version: null });
    t1.ledger.applyCustomerPin('P1', oldPin); // an event from an older centre, without a version: the same verifier
    expect(t1.ledger.customerPins.get('P1')!.failed).toBe(2);
    await setPin(t2, newPin, true);
    await pull(t1);
    expect(await works(t1, '2580')).toBe(true);
    expect(t1.ledger.customerPins.get('P1')).toMatchObject({ failed: 0, version: { terminalId: 'T2', seq: 1 } });
    // A verifier without a version never replaces a versioned one.
    t1.ledger.applyCustomerPin('P1', oldPin);
    expect(await works(t1, '2580')).toBe(true);
  });
});
