// End to end (issue 17f), in Arabic, in the real `palmpay terminal --demo` (browser mode) driven by Chromium: a
// payer without a PIN is sent to a supervised counter by the bill flow; "Set PIN" (a supervisor's palm and PIN,
// then the payer's palm and the new PIN twice) sets one; the payer then pays the bill with it. At the (embedded)
// centre the pin_set is accepted, its verifier stored (never the PIN), and the bill paid once.
import { describe, expect, it } from 'vitest';
import { demoKiosk } from './kiosk-page.ts';

const SUBSCRIBER = '00246810'; // the demo's subscriber paid by emp-rojin, who has no PIN
const BILL = 'EH-2026-11-00246810';
const kiosk = demoKiosk('pinset');

async function startBill() {
  await kiosk.k.tid('role-bill').click();
  await kiosk.k.flowStep('bill', 'subscriber');
  await kiosk.k.keypad('subscriber', SUBSCRIBER);
  await kiosk.k.flowStep('bill', 'bills');
  await kiosk.k.tid(`pay-${BILL}`).click();
  await kiosk.k.flowStep('bill', 'palm');
  await kiosk.api.present('emp-rojin');
}

describe('a payer’s PIN set at a supervised counter', () => {
  it('in Arabic: no PIN → told where to get one; Set PIN with a supervisor; the bill paid with the new PIN', { timeout: 240_000 }, async () => {
    expect(await kiosk.page.locator('html').getAttribute('lang')).toBe('ar'); // Arabic is the default
    await kiosk.k.signIn('op-cashier', '1234');
    await expect.poll(() => kiosk.k.query<number>('terminal.db', `SELECT count(*) FROM bills WHERE subscriber = '${SUBSCRIBER}'`), { timeout: 60_000 }).toBe(1);
    expect(kiosk.k.query<string | null>('terminal.db', `SELECT pin_hash FROM people WHERE person_id = 'emp-rojin'`)).toBeNull();

    // 1. The bill flow refuses a payer without a PIN and says where to get one.
    await startBill();
    await kiosk.k.flowStep('bill', 'declined');
    expect(await kiosk.k.tid('reason').getAttribute('data-reason')).toBe('pin-not-set');
    expect(await kiosk.k.tid('reason').innerText()).toContain('بحضور مشرف');
    await kiosk.k.tid('done').click();

    // 2. Set PIN: the supervisor first (the cashier's own palm is not taken), then the payer's palm, the PIN twice.
    await kiosk.k.tid('role-pinSet').click();
    await kiosk.k.flowStep('pinSet', 'override');
    expect(await kiosk.k.tid('pin-set-explain').innerText()).toContain('المشرف');
    await kiosk.k.approveAsSupervisor('op-super', '9999');
    await kiosk.k.flowStep('pinSet', 'palm');
    await kiosk.api.present('emp-rojin');
    await kiosk.k.flowStep('pinSet', 'pin');
    expect(await kiosk.k.tid('pin-had').getAttribute('data-had')).toBe('0');
    // A trivial PIN is refused, and so are two different ones.
    await kiosk.k.chooseNewPin('1234', '2580', '2581');
    await kiosk.k.flowStep('pinSet', 'done');
    const receipt = await kiosk.k.tid('receipt').innerText();
    expect(receipt).toContain('عُيّن رمز سري جديد');
    await kiosk.k.tid('done').click();
    // Stored on the counter as a scrypt verifier, sealed; never the PIN.
    expect(kiosk.k.query<string>('terminal.db', `SELECT pin_hash FROM people WHERE person_id = 'emp-rojin'`)).toMatch(/^scrypt\$/);

    // 3. The bill, paid with the new PIN.
    await startBill();
    await kiosk.k.flowStep('bill', 'pin');
    await kiosk.k.keypad('pin', '2580');
    await kiosk.page.locator('[data-testid="flow"][data-kind="bill"]:is([data-step="paid"], [data-step="declined"])').waitFor();
    expect((await kiosk.k.tid('reason').count()) ? await kiosk.k.tid('reason').getAttribute('data-reason') : 'paid').toBe('paid');
    expect(await kiosk.k.tid('receipt').innerText()).toContain(BILL);
    await kiosk.k.tid('done').click();

    // At the centre: the pin_set accepted with its approver and verifier, the bill paid once, nothing in review.
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT approved_by FROM customer_pins WHERE person_id = 'emp-rojin'`), { timeout: 60_000 }).toBe('op-super');
    expect(kiosk.k.query<string>('centre.db', `SELECT pin_hash FROM customer_pins WHERE person_id = 'emp-rojin'`)).toMatch(/^scrypt\$/);
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM bills WHERE bill_id = '${BILL}'`), { timeout: 60_000 }).toBe('paid');
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });
});
