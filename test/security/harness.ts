// Shared by the attack tests: a real centre (SQLite, or PostgreSQL when PALMPAY_TEST_PG is set), registered
// terminals with their own keys, and a snapshot of every balance so a test can prove that no money moved.
import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, registeredTerminal, tempDb, type TestTerminal } from '../server/helpers.ts';

export { enrolCustomer, registeredTerminal, type TestTerminal };

export interface Centre {
  central: Central;
  /** The database URL (PostgreSQL: pinned to this centre's own schema). */
  url: string;
  close(): Promise<void>;
}

export async function openCentre(kind: 'sqlite' | 'postgres' = 'sqlite'): Promise<Centre> {
  const db = await tempDb(kind);
  const central = await Central.open(db.url);
  return {
    central,
    url: db.url,
    close: async () => {
      await central.close();
      await db.cleanup();
    },
  };
}

/** Every balance of the centre's books, as `account currency → minor units` (zero balances left out). */
export async function balances(central: Central): Promise<Record<string, number>> {
  const rows = await central.repo.tx((r) => r.listBalances());
  const out: Record<string, number> = {};
  for (const b of rows) if (Number(b.balance) !== 0) out[`${b.account} ${b.currency}`] = Number(b.balance);
  return out;
}

export const balanceOf = (central: Central, account: string, currency = 'SYP') => central.repo.tx((r) => r.balance(account, currency));

/** Runs `palmpay …` through the real CLI entry, capturing what it prints. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(['node', 'palmpay', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
