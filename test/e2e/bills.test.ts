// End to end: the bill flow in the real `palmpay terminal --demo` (browser mode), driven by Chromium. The demo's
// embedded centre issued the bills; they reach the counter in the signed feed. An unknown number and a number with
// nothing due each get their screen; one bill is paid by palm + PIN; the receipt names the bill id and fee 0; the
// centre shows the bill paid once, from the payer's account.
import { describe, expect, it } from 'vitest';
import { demoKiosk } from './kiosk-page.ts';

const kiosk = demoKiosk('bills');
const tid = (id: string) => kiosk.k.tid(id);
const query = <T,>(file: string, sql: string, ...args: unknown[]) => kiosk.k.query<T>(file, sql, ...args);
const flowStep = (step: string) => kiosk.k.flowStep('bill', step);
const keypad = (id: string, digits: string) => kiosk.k.keypad(id, digits);

describe('bill payment at the counter', () => {
  it('looks up a subscriber, pays one bill by palm + PIN, and the centre has it paid once', { timeout: 180_000 }, async () => {
    await tid('lang-en').click();
    await kiosk.k.signIn('op-cashier', '1234');
    // The bills arrive with the first feed from the demo centre.
    await expect.poll(() => query<number>('terminal.db', 'SELECT count(*) FROM bills'), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    await tid('role-bill').click();

    await flowStep('subscriber');
    await keypad('subscriber', '11111111');
    await flowStep('refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('subscriber-unknown');
    await tid('retry').click();
    await keypad('subscriber', '00555555'); // paid by direct debit at the centre
    await flowStep('refused');
    expect(await tid('reason').getAttribute('data-reason')).toBe('nothing-due');
    await tid('retry').click();

    await keypad('subscriber', '00123456');
    await flowStep('bills');
    expect(await tid('bill').count()).toBe(2);
    const shown = await tid('bills').innerText();
    expect(shown).toContain('EH-2026-10-00123456');
    expect(shown).toMatch(/10,480/); // the meter reading
    expect(await kiosk.page.locator('[data-testid="amount"]').count()).toBe(0); // nothing to type: no amount field
    await tid('pay-EH-2026-10-00123456').click();
    await flowStep('palm');
    await kiosk.api.present('emp-ahmad');
    await flowStep('pin');
    await keypad('pin', '4321');
    await flowStep('paid');
    const receipt = await tid('receipt').innerText();
    expect(receipt).toContain('EH-2026-10-00123456');
    expect(receipt).toMatch(/Fee\s*SYP\s0\b/);
    await tid('done').click();

    // At the centre: uploaded, the bill paid once, by this counter's record, from the payer's account.
    await expect.poll(() => query<string | null>('centre.db', `SELECT status FROM bills WHERE bill_id = 'EH-2026-10-00123456'`), { timeout: 60_000 }).toBe('paid');
    expect(query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
    expect(query<number>('centre.db', `SELECT count(*) FROM txns WHERE memo LIKE '%EH-2026-10-00123456%'`)).toBe(1); // money moved once
    // Paid bills leave the counter's cache when the feed says so; the other bill is still due.
    await expect.poll(() => query<number>('terminal.db', `SELECT count(*) FROM bills WHERE subscriber = '00123456'`), { timeout: 60_000 }).toBe(1);
    await tid('role-bill').click();
    await keypad('subscriber', '00123456');
    await flowStep('bills');
    expect(await tid('bill').count()).toBe(1);
    expect(await tid('bills').innerText()).not.toContain('EH-2026-10-00123456');
  });
});
