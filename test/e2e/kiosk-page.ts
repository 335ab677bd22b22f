// Shared steps of the kiosk e2e tests over a Playwright page: the keypad, the sign-in (palm on the lock screen,
// then the PIN), waiting for a flow's step, and a read-only look at a database beside the running terminal.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import type { HookClient } from './hooks.ts';

export function kioskPage(page: Page, api: HookClient, dataDir: string) {
  const tid = (id: string) => page.getByTestId(id);
  async function keypad(id: string, digits: string) {
    for (const d of digits) await tid(`${id}-key-${d}`).click();
    await tid(`${id}-ok`).click();
  }
  return {
    tid,
    keypad,
    /** Signs an operator in: their palm on the lock screen, then their PIN. */
    async signIn(operator: string, pin: string) {
      await api.present(operator);
      await tid('login-pin-ok').waitFor();
      await keypad('login-pin', pin);
      await tid('operator').waitFor();
    },
    flowStep: (kind: string, step: string) => page.locator(`[data-testid="flow"][data-kind="${kind}"][data-step="${step}"]`).waitFor(),
    /** One value from a database beside the running terminal (read-only; WAL allows it). */
    query<T>(file: string, sql: string, ...args: unknown[]): T {
      const d = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
      try {
        return d.prepare(sql).pluck().get(...args) as T;
      } finally {
        d.close();
      }
    },
  };
}
