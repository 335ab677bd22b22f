// A store that fails while a flow writes (disk full, a locked database): the write becomes the flow's own
// "store error" answer and is logged, never an exception thrown into the flow (which would leave its screen hanging).
import { describe, expect, it } from 'vitest';
import { createPerformers } from '../../src/flows/effects.ts';
import { SYP, testPorts } from './helpers.ts';

describe('a write the store refuses', () => {
  const failing = () => {
    const ports = testPorts();
    for (const m of ['recordPayout', 'authorizePurchase', 'payBills', 'recordReading', 'recordMandate', 'setCustomerPin', 'recordReversal', 'recordDayClose'] as const) {
      (ports.bank as unknown as Record<string, () => never>)[m] = () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      };
    }
    const logged: string[] = [];
    return { p: createPerformers(ports, (msg) => logged.push(msg)), logged };
  };
  const signal = new AbortController().signal;

  it('becomes each flow’s store-error event, logged once, with nothing thrown', async () => {
    const { p, logged } = failing();
    const answers = [
      await p.payout({ type: 'recordPayout', requestId: 'q1', personId: 'ahmad', voucherIds: ['v1'], operatorId: 'c1' } as never, signal),
      await p.purchase({ type: 'authorizePurchase', requestId: 'q2', kind: 'purchase', personId: 'ahmad', amount: SYP(100), operatorId: 'c1', overrideBy: null, pinVerified: false } as never, signal),
      await p.bill({ type: 'payBills' } as never, signal),
      await p.reading({ type: 'recordReading' } as never, signal),
      await p.mandate({ type: 'recordMandate' } as never, signal),
      await p.pinSet({ type: 'setPin' } as never, signal),
      await p.reversal({ type: 'recordReversal' } as never, signal),
      await p.dayClose({ type: 'recordDayClose' } as never, signal),
    ];
    expect(answers).toEqual([
      { type: 'payout.failed', reason: 'store-error' },
      { type: 'purchase.declined', reason: 'store-error', overridable: false },
      { type: 'bills.declined', reason: 'store-error' },
      { type: 'reading.declined', reason: 'store-error' },
      { type: 'mandate.declined', reason: 'store-error' },
      { type: 'pin.declined', reason: 'store-error' },
      { type: 'reversal.failed', reason: 'store-error' },
      { type: 'dayclose.failed' },
    ]);
    expect(logged).toEqual(['payout', 'purchase', 'bill payment', 'meter reading', 'mandate', 'the PIN', 'reversal', 'day close'].map((w) => `${w} could not be recorded`));
  });
});
