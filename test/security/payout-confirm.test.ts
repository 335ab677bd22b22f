// A cashier tries to finish a salary payout without the payee's palm (issue 13, item 12): `confirm.skip` is
// refused (the state does not change) until the payee's palm has failed CONFIRM_ATTEMPTS times.
import { describe, expect, it } from 'vitest';
import { CONFIRM_ATTEMPTS, reducePayout, type PayoutState } from '../../src/flows/payout.ts';

describe('payout confirmation', () => {
  it('refuses confirm.skip with 0 attempts, and lets it through only after the palm failed three times', () => {
    const person = { id: 'emp-1', nameAr: 'أ', nameLatin: 'A', status: 'active' } as unknown as Extract<PayoutState, { step: 'confirm' }>['person'];
    const receipt = { kind: 'payout' as const, recordId: 'r1', seq: 1, terminalId: 'T1', at: '', operatorId: 'c', lines: [] };
    const confirm = { step: 'confirm', person, receipt, guidance: { present: false, distance: 'unknown', quality: null, hint: null }, attempts: 0, operatorId: 'c' } as unknown as PayoutState;
    const skipped = reducePayout(confirm, { type: 'confirm.skip' });
    expect(skipped.state).toEqual(confirm);
    expect(skipped.effects).toEqual([]);
    let s = confirm;
    for (let i = 0; i < CONFIRM_ATTEMPTS; i++) s = reducePayout(s, { type: 'palm.verified', ok: false }).state;
    expect(reducePayout(s, { type: 'confirm.skip' }).state).toMatchObject({ step: 'receipt', confirmed: false });
  });
});
