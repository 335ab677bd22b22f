import { describe, expect, it } from 'vitest';
import { afterAttempt, checkPin, hashPin, verifyPinHash, type AttemptState } from '../../src/ledger/pin.ts';
import type { Terminal } from '../../src/ledger/open.ts';

const cheap = { N: 1 << 10, r: 8, p: 1 }; // tests only: the default cost is 2^15

describe('PINs', () => {
  it('hash with scrypt (salted, parameters recorded) and verify', async () => {
    const h = await hashPin('2468', cheap);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await hashPin('2468', cheap)).not.toBe(h);
    expect(await verifyPinHash('2468', h)).toBe(true);
    expect(await verifyPinHash('2469', h)).toBe(false);
    await expect(hashPin('12a4', cheap)).rejects.toMatchObject({ code: 'PIN_FORMAT' });
  });

  it('lock after 5 wrong tries, even against the right PIN, until the lockout ends; success clears the count', async () => {
    const h = await hashPin('2468', cheap);
    let s: AttemptState = { failed: 0, lockedUntilMs: 0 };
    const save = (n: AttemptState) => (s = n);
    const now = 1_000_000;
    for (let i = 1; i <= 4; i++) expect(await checkPin('0000', h, s, save, now)).toEqual({ ok: false, reason: 'WRONG_PIN', attemptsLeft: 5 - i, lockedUntilMs: 0 });
    expect(await checkPin('0000', h, s, save, now)).toMatchObject({ ok: false, reason: 'LOCKED' });
    expect(await checkPin('2468', h, s, save, now + 1000)).toMatchObject({ ok: false, reason: 'LOCKED' });
    expect(await checkPin('2468', h, s, save, now + 15 * 60_000)).toEqual({ ok: true });
    expect(s).toEqual({ failed: 0, lockedUntilMs: 0 });
  });

  it('counts a try before the slow hash runs (a kill mid-check does not give a free guess)', async () => {
    const h = await hashPin('2468', cheap);
    const saved: AttemptState[] = [];
    await checkPin('2468', h, { failed: 2, lockedUntilMs: 0 }, (n) => saved.push(n), 0);
    expect(saved).toEqual([{ failed: 3, lockedUntilMs: 0 }, { failed: 0, lockedUntilMs: 0 }]);
    expect(afterAttempt({ failed: 4, lockedUntilMs: 0 }, false, 10)).toEqual({ failed: 0, lockedUntilMs: 10 + 15 * 60_000 });
  });
});

// The store-backed PIN checks are the terminal's Bank port (SqliteBank.verifyOperatorPin / verifyCustomerPin): the
// one owner, tested here against a real store with a clock the test moves.
describe('PIN checks against the store (SqliteBank)', async () => {
  const { tempDir, makeTerminal, reopen } = await import('./helpers.ts');
  const { SqliteBank } = await import('../../src/host/adapters/sqlite-bank.ts');
  let clock = 0;
  const bankOf = (t: Terminal) => new SqliteBank({ terminal: t, encode: () => new Uint8Array(), now: () => clock });

  it('operator attempts survive a restart; lockout; an unknown operator cannot pass', async () => {
    const d = tempDir();
    let t = makeTerminal(d.dir);
    try {
      clock = 0;
      t.ledger.operators.add({ operatorId: 'op-1', name: 'Cashier', role: 'cashier', pinHash: await hashPin('1357', cheap) });
      expect(await bankOf(t).verifyOperatorPin('op-1', '0000')).toEqual({ ok: false, attemptsLeft: 4 });
      t.close();
      t = reopen(d.dir);
      const bank = bankOf(t);
      for (let i = 0; i < 3; i++) await bank.verifyOperatorPin('op-1', '0000');
      expect(await bank.verifyOperatorPin('op-1', '0000')).toEqual({ ok: false, locked: true });
      clock = 1;
      expect(await bank.verifyOperatorPin('op-1', '1357')).toEqual({ ok: false, locked: true });
      clock = 15 * 60_000;
      expect(await bank.verifyOperatorPin('op-1', '1357')).toEqual({ ok: true });
      expect(await bank.verifyOperatorPin('nobody', '1357')).toEqual({ ok: false, locked: true });
    } finally {
      t.close();
      d.cleanup();
    }
  });

  it('customer PIN: checked, counted; no PIN on file cannot pass', async () => {
    const d = tempDir();
    const t = makeTerminal(d.dir);
    try {
      clock = 0;
      const bank = bankOf(t);
      t.store.people.upsert({ personId: 'P-1', name: 'Ava', idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: 1 });
      expect(await bank.verifyCustomerPin('P-1', '1234')).toEqual({ ok: false, locked: true });
      t.ledger.customerPins.setHash('P-1', await hashPin('8642', cheap));
      expect(await bank.verifyCustomerPin('P-1', '1111')).toEqual({ ok: false, attemptsLeft: 4 });
      expect(t.store.people.getPin('P-1')).toMatchObject({ failed: 1 });
      expect(await bank.verifyCustomerPin('P-1', '8642')).toEqual({ ok: true });
      expect(t.store.people.getPin('P-1')).toMatchObject({ failed: 0 });
    } finally {
      t.close();
      d.cleanup();
    }
  });
});
