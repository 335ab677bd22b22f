// The stand-in printer (receipts.log): a second print of the same record is marked as a copy, also after a
// restart (read back from the log), and a torn last line does not stop it.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { receiptLogPrinter } from '../../src/host/adapters/receipt-log.ts';
import type { Receipt } from '../../src/flows/types.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const receipt = (recordId: string): Receipt => ({ kind: 'purchase', recordId, seq: 1, terminalId: 'T1', at: '2026-12-05T08:00:00Z', operatorId: 'op', lines: [] });
const lines = (dir: string) =>
  readFileSync(join(dir, 'receipts.log'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as { recordId: string; copy?: boolean });

describe('receipt log printer', () => {
  it('marks every reprint of a record as a copy, across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palmpay-receipts-'));
    dirs.push(dir);
    const signal = new AbortController().signal;
    const first = receiptLogPrinter(dir);
    await first.print(receipt('r1'), signal);
    await first.print(receipt('r1'), signal);
    await first.print(receipt('r2'), signal);
    appendFileSync(join(dir, 'receipts.log'), '{"recordId":"r3"'); // a print torn by a power cut
    appendFileSync(join(dir, 'receipts.log'), '\n');
    const again = receiptLogPrinter(dir); // a restart reads the log back
    expect(again.printed('r2')).toBe(true);
    await again.print(receipt('r2'), signal);
    await again.print(receipt('r3'), signal);
    expect(lines(dir).map((l) => [l.recordId, l.copy ?? false])).toEqual([
      ['r1', false],
      ['r1', true],
      ['r2', false],
      ['r2', true],
      ['r3', false],
    ]);
  });
});
