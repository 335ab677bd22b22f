// End to end (issue 17), in Arabic, in the real `palmpay terminal --demo` (browser mode) driven by Chromium: a person
// is enrolled at the counter and chooses their own PIN there (a trivial one refused, then one typed twice). The
// terminal sends the record and then the templates; the (embedded) centre confirms the enrolment, stores the
// verifier (never the PIN) and sends the person back with it. Once the centre links the person to a subscriber and
// funds their account (`palmpay server subscriber link`, `palmpay server credit`), they pay that subscriber's bill
// with the PIN they chose — no visit to a supervised counter.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { demoKiosk } from './kiosk-page.ts';
import { CLI, ROOT } from './spawn-terminal.ts';

const SUBSCRIBER = '00246810'; // a demo subscriber with one bill due
const BILL = 'EH-2026-11-00246810';
const ACCOUNT = 'acc-reber-e2e';
const kiosk = demoKiosk('enrolpin');

/** An admin command at the demo's centre database, as an operator would run it. */
const centreCli = (...args: string[]) => execFileSync(process.execPath, [CLI, 'server', '--data', kiosk.dataDir, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('a PIN chosen at enrolment', () => {
  it('in Arabic: enrolled with their own PIN, confirmed by the centre, the person pays a bill with it', { timeout: 300_000 }, async () => {
    expect(await kiosk.page.locator('html').getAttribute('lang')).toBe('ar');
    await kiosk.k.signIn('op-enrol', '5555');
    await kiosk.k.tid('role-enrolment').click();
    await kiosk.k.flowStep('enrolment', 'form');
    await kiosk.k.tid('f-nameAr').fill('ريبر أحمد');
    await kiosk.k.tid('f-nameLatin').fill('Rêber Ehmed');
    await kiosk.k.tid('f-idNumber').fill('55667788');
    await kiosk.k.tid('f-phone').fill('0933 777 888');
    await kiosk.k.tid('f-accountId').fill(ACCOUNT);
    await kiosk.k.tid('form-submit').click();
    await kiosk.k.flowStep('enrolment', 'consent');
    await kiosk.k.tid('consent-given').click();
    for (let i = 0; i < 6; i++) await kiosk.api.present('new-reber');
    await kiosk.k.flowStep('enrolment', 'review');
    await kiosk.k.tid('capture-finish').click();

    // The PIN step: the person types their own PIN twice; a trivial one and two different ones are refused.
    await kiosk.k.flowStep('enrolment', 'pin');
    expect(await kiosk.k.tid('enrol-pin-explain').innerText()).toContain('رمزاً سرياً');
    await kiosk.k.chooseNewPin('0000', '3917', '3918');
    await kiosk.k.flowStep('enrolment', 'enrolled');
    expect(await kiosk.k.tid('enrol-pin').getAttribute('data-chosen')).toBe('1');
    expect(await kiosk.k.tid('receipt').innerText()).toContain('اختار الشخص رمزاً سرياً');
    await kiosk.k.tid('done').click();

    const personId = kiosk.k.query<string>('terminal.db', `SELECT person_id FROM people WHERE name LIKE '%Rêber%'`);
    // Signed and stored as a scrypt verifier only: the PIN is nowhere in the record or the store.
    const body = kiosk.k.query<string>('terminal.db', `SELECT body FROM journal WHERE type = 'enrolment' AND party_id = ?`, personId);
    expect(JSON.parse(body).pinHash).toMatch(/^scrypt\$32768\$/);
    expect(body).not.toContain('3917');

    // The centre gets the record, then the templates: it confirms the person and keeps the verifier.
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM persons WHERE id = ?`, personId), { timeout: 90_000 }).toBe('confirmed');
    expect(kiosk.k.query<string>('centre.db', `SELECT pin_hash FROM customer_pins WHERE person_id = ?`, personId)).toBe(JSON.parse(body).pinHash);
    // …and the feed brings the confirmation back: the person is payable here.
    await expect.poll(() => kiosk.k.query<string | null>('terminal.db', `SELECT status FROM people WHERE person_id = ?`, personId), { timeout: 90_000 }).toBe('active');

    // The centre lets the person pay the subscriber and funds the account; the feed brings both.
    centreCli('subscriber', 'link', '--biller', 'elec-hasakah', '--subscriber', SUBSCRIBER, '--person', personId);
    centreCli('credit', ACCOUNT, '50000000', 'SYP');
    await expect.poll(() => kiosk.k.query<number>('terminal.db', `SELECT count(*) FROM subscriber_links WHERE payer_id = ?`, personId), { timeout: 120_000 }).toBe(1);
    await expect.poll(() => kiosk.k.query<number>('terminal.db', `SELECT count(*) FROM offline_allowances WHERE customer_id = ?`, personId), { timeout: 120_000 }).toBeGreaterThan(0);

    // The bill, paid by the new person with the PIN they chose at enrolment.
    // The enroller locks the counter; the cashier signs in (an enroller does not take payments).
    await kiosk.k.tid('lock').click();
    await kiosk.k.tid('locked').waitFor();
    await kiosk.k.tid('signin').waitFor();
    await kiosk.k.signIn('op-cashier', '1234');
    await kiosk.k.tid('role-bill').click();
    await kiosk.k.flowStep('bill', 'subscriber');
    await kiosk.k.keypad('subscriber', SUBSCRIBER);
    await kiosk.k.flowStep('bill', 'bills');
    await kiosk.k.tid(`pay-${BILL}`).click();
    await kiosk.k.palmThenPin('bill', 'new-reber', '3917');
    await kiosk.page.locator('[data-testid="flow"][data-kind="bill"]:is([data-step="paid"], [data-step="declined"])').waitFor();
    expect((await kiosk.k.tid('reason').count()) ? await kiosk.k.tid('reason').getAttribute('data-reason') : 'paid').toBe('paid');
    expect(await kiosk.k.tid('receipt').innerText()).toContain(BILL);
    await kiosk.k.tid('done').click();

    // At the centre: the bill paid once from the person's account, nothing in review.
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM bills WHERE bill_id = '${BILL}'`), { timeout: 90_000 }).toBe('paid');
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });
});
