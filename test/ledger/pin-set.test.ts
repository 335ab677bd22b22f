// A customer's PIN set at a supervised counter (issue 17f), on the real store and signed ledger: the ledger
// re-checks the supervisor (active, a supervisor, not the cashier: the one approver check) and that the person is
// confirmed here, and stores the verifier sealed in the record's own transaction. Attacks first. Then the feed's
// copy from the centre: applied sealed, and the same verifier again leaves a lockout as it is; only a later one
// replaces a PIN set here (test/security/pin-order.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Terminal } from '../../src/ledger/open.ts';
import { hashPin, verifyPinHash } from '../../src/ledger/pin.ts';
import { makeTerminal, tempDir } from './helpers.ts';

const CHEAP = { N: 1024, r: 8, p: 1 };

describe('setting a customer PIN at the terminal', () => {
  let t: Terminal;
  let cleanup: () => void;
  let verifier: string;
  beforeEach(async () => {
    const d = tempDir();
    cleanup = d.cleanup;
    t = makeTerminal(d.dir);
    t.ledger.operators.add({ operatorId: 'sup-1', name: 'Sara', role: 'supervisor', pinHash: 'x' });
    t.ledger.operators.add({ operatorId: 'cash-2', name: 'Lina', role: 'cashier', pinHash: 'x' });
    const person = (personId: string, status: 'active' | 'provisional' | 'blocked') =>
      t.store.people.upsert({ personId, name: personId, idNumber: null, phone: null, employerId: null, status, updatedAtMs: Date.now() });
    t.store.transaction(() => {
      person('P1', 'active');
      person('P-prov', 'provisional');
      person('P-blocked', 'blocked');
    });
    verifier = await hashPin('2580', CHEAP);
  });
  afterEach(() => {
    t.close();
    cleanup();
  });
  let n = 0;
  const pinSet = (personId: string, approvedBy: string) => ({ type: 'pin_set' as const, operatorId: 'op-1', pinSetId: `PS-${++n}`, personId, pinHash: verifier, approvedBy });

  it('attack: no supervisor, the cashier, a cashier, an unknown or unconfirmed person: refused, nothing written', () => {
    expect(() => t.ledger.append({ ...pinSet('P1', 'sup-1'), approvedBy: undefined } as never)).toThrow(/approvedBy/);
    expect(() => t.ledger.append(pinSet('P1', 'op-1'))).toThrow(/approver must not be the cashier/);
    expect(() => t.ledger.append(pinSet('P1', 'cash-2'))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    expect(() => t.ledger.append(pinSet('P1', 'nobody'))).toThrow(expect.objectContaining({ code: 'OVERRIDE_REFUSED' }));
    for (const p of ['P404', 'P-prov', 'P-blocked']) expect(() => t.ledger.append(pinSet(p, 'sup-1'))).toThrow(expect.objectContaining({ code: 'PERSON_NOT_CONFIRMED' }));
    expect(() => t.ledger.append({ ...pinSet('P1', 'sup-1'), pinHash: '2580' })).toThrow(/scrypt PIN verifier/); // never a PIN in clear
    expect(t.store.journal.count()).toBe(0);
    expect(t.ledger.customerPins.get('P1')?.pinHash ?? null).toBeNull();
  });

  it('approved by a supervisor: one signed record in the outbox, and the verifier stored sealed at once', async () => {
    const draft = pinSet('P1', 'sup-1');
    const rec = t.ledger.append(draft);
    expect(rec).toMatchObject({ type: 'pin_set', personId: 'P1', approvedBy: 'sup-1', pinHash: verifier });
    expect(t.store.outbox.countAbove(0)).toBe(1);
    const stored = t.ledger.customerPins.get('P1')!;
    expect(stored.pinHash).toBe(verifier);
    expect(await verifyPinHash('2580', stored.pinHash!)).toBe(true);
    // The same request again is one PIN set, not two.
    expect(() => t.ledger.append({ ...pinSet('P1', 'sup-1'), pinSetId: draft.pinSetId })).toThrow(expect.objectContaining({ code: 'RECORD_DUPLICATE' }));
  });

  it("the centre's copy from the feed: stored sealed; the same verifier again keeps a lockout; an unknown person is skipped", () => {
    t.ledger.applyCustomerPin('P1', verifier);
    expect(t.ledger.customerPins.get('P1')!.pinHash).toBe(verifier);
    t.ledger.customerPins.setAttempts('P1', 0, Date.now() + 60_000); // locked out after wrong PINs
    t.ledger.applyCustomerPin('P1', verifier); // the person's event re-sent with the same verifier
    expect(t.ledger.customerPins.get('P1')!.lockedUntilMs).toBeGreaterThan(Date.now());
    t.ledger.applyCustomerPin('P404', verifier);
    expect(t.store.people.getPin('P404')).toBeUndefined();
  });

  it('a new PIN lifts a lockout: set at this supervised counter, or a new verifier from the feed; never the same verifier again', async () => {
    t.ledger.applyCustomerPin('P1', verifier);
    const locked = () => t.ledger.customerPins.get('P1')!.lockedUntilMs > Date.now();
    t.ledger.customerPins.setAttempts('P1', 0, Date.now() + 60_000);
    t.ledger.append(pinSet('P1', 'sup-1')); // the same verifier, but a new PIN set under a supervisor's eyes
    expect(locked()).toBe(false);
    t.ledger.customerPins.setAttempts('P1', 3, Date.now() + 60_000);
    t.ledger.applyCustomerPin('P1', verifier);
    expect(locked()).toBe(true);
    const other = await hashPin('1470', CHEAP);
    t.ledger.applyCustomerPin('P1', other); // a centre that sends no version: older than the PIN set here, ignored
    expect(locked()).toBe(true);
    t.ledger.applyCustomerPin('P1', other, { atMs: Date.now() + 1000, terminalId: 'T-2', seq: 7 }); // set later at another counter, sent by the centre
    expect(t.ledger.customerPins.get('P1')).toMatchObject({ pinHash: other, failed: 0, lockedUntilMs: 0 });
  });
});
