// Shared test set-up: a provisioned terminal in a fresh temp folder (real SQLite, real keys).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionTerminal, openTerminal, type Terminal, type OpenTerminalOptions } from '../../src/ledger/open.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import type { RecordDraft } from '../../src/protocol/record.ts';

export function tempDir(prefix = 'palmpay-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeTerminal(dir: string, terminalId = 'T-1', opts: OpenTerminalOptions = {}): Terminal {
  provisionTerminal(dir, terminalId, { protector: filePermissionsProtector() });
  return openTerminal(dir, { protector: filePermissionsProtector(), ...opts });
}

export function reopen(dir: string, opts: OpenTerminalOptions = {}): Terminal {
  return openTerminal(dir, { protector: filePermissionsProtector(), ...opts });
}

let n = 0;
export function purchase(over: Partial<Extract<RecordDraft, { type: 'purchase' }>> = {}): RecordDraft {
  return {
    type: 'purchase',
    operatorId: 'op-1',
    purchaseId: `p-${++n}`,
    customerId: 'cust-1',
    accountId: 'acct-1',
    amountMinor: 500,
    currency: 'SYP',
    pinVerified: false,
    offline: false,
    ...over,
  };
}
