// Printing a receipt as the flows see it (src/flows/printing.ts): one print at a time, the printer's outcome shown,
// and printing again always possible; a printer's typed error code becomes the screen's reason.
import { describe, expect, it } from 'vitest';
import { printFailure, printStep, type PrintStatus } from '../../src/flows/printing.ts';
import type { Receipt } from '../../src/flows/types.ts';

const receipt: Receipt = { kind: 'payout', recordId: 'r-1', seq: 7, terminalId: 'T-1', at: '2026-12-05T10:00:00.000Z', operatorId: 'op', lines: [] };

describe('printStep', () => {
  it('print → printing with one print effect; a second tap while printing does nothing', () => {
    const s0: { step: 'receipt'; receipt: Receipt; print?: PrintStatus } = { step: 'receipt', receipt };
    const a = printStep(s0, { type: 'print' })!;
    expect(a.state.print).toEqual({ state: 'printing' });
    expect(a.effects).toEqual([{ type: 'print', receipt }]);
    const b = printStep(a.state, { type: 'print' })!;
    expect(b.state).toBe(a.state);
    expect(b.effects).toEqual([]);
  });

  it('the outcome is shown, and a failed print can be printed again', () => {
    const s = { step: 'receipt' as const, receipt, print: { state: 'printing' } as PrintStatus };
    const failed = printStep(s, { type: 'print.result', ok: false, reason: 'paper-out' } as never)!.state;
    expect(failed.print).toEqual({ state: 'failed', reason: 'paper-out' });
    expect(printStep(failed, { type: 'print' })!.effects).toHaveLength(1);
    expect(printStep(s, { type: 'print.result', ok: true, copy: true } as never)!.state.print).toEqual({ state: 'printed', copy: true });
    expect(printStep(s, { type: 'done' })).toBeNull();
  });

  it('printer codes → reasons', () => {
    expect(printFailure('PRINTER_PAPER_OUT')).toBe('paper-out');
    expect(printFailure('PRINTER_COVER_OPEN')).toBe('cover-open');
    expect(printFailure('PRINTER_OFFLINE')).toBe('printer-offline');
    expect(printFailure('PRINTER_TIMEOUT')).toBe('printer-unreachable');
    expect(printFailure('TRANSPORT_OPEN_FAILED')).toBe('printer-unreachable');
    expect(printFailure('RECEIPT_RENDER_FAILED')).toBe('printer-error');
    expect(printFailure(undefined)).toBe('printer-error');
  });
});
