// End to end (issue 17): "My mandates" at the counter, in the real `palmpay terminal --demo` (browser mode) driven by
// Chromium. A person's mandate signed at this counter (in Kurdish) is listed for them in Arabic after their palm and
// PIN — biller, subscriber, maximum per bill — and ended from the list with no number typed; the centre records it
// ended. Afterwards, in English, the list is empty. Nothing is listed before the PIN holds.
import { describe, expect, it } from 'vitest';
import { demoKiosk } from './kiosk-page.ts';

const SUBSCRIBER = '00123456'; // a demo subscriber paid by emp-ahmad (PIN 4321)
const kiosk = demoKiosk('mymandates');

/** "My mandates": the person's palm, then their PIN, then the list. */
async function myMandates() {
  await kiosk.k.tid('role-mandate').click();
  await kiosk.k.flowStep('mandate', 'mode');
  await kiosk.k.tid('mode-mine').click();
  await kiosk.k.palmThenPin('mandate', 'emp-ahmad', '4321');
  await kiosk.k.flowStep('mandate', 'list');
}

describe('a person’s mandates at the counter', () => {
  it('ku: signed; ar: listed after palm + PIN and ended from the list; en: the list is empty', { timeout: 300_000 }, async () => {
    await kiosk.k.signIn('op-cashier', '1234');
    await expect.poll(() => kiosk.k.query<number>('terminal.db', 'SELECT count(*) FROM bills'), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);

    // Signed in Kurdish (the flow of issue 17d).
    await kiosk.k.tid('lang-ku').click();
    await kiosk.k.tid('role-mandate').click();
    await kiosk.k.tid('mode-sign').click();
    await kiosk.k.keypad('subscriber', SUBSCRIBER);
    await kiosk.k.flowStep('mandate', 'terms');
    await kiosk.k.keypad('max', '30000');
    await kiosk.k.palmThenPin('mandate', 'emp-ahmad', '4321');
    await kiosk.k.flowStep('mandate', 'done');
    await kiosk.k.tid('done').click();
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = ?`, SUBSCRIBER), { timeout: 60_000 }).toBe('active');

    // In Arabic: listed with biller, subscriber and maximum per bill, then ended from the list.
    await kiosk.k.tid('lang-ar').click();
    await expect.poll(() => kiosk.page.getAttribute('html', 'lang')).toBe('ar');
    await myMandates();
    const row = kiosk.k.tid(`held-${SUBSCRIBER}`);
    expect(await row.getAttribute('data-biller')).toBe('elec-hasakah');
    const text = await row.innerText();
    expect(text).toContain('elec-hasakah');
    expect(text).toContain('٠٠١٢٣٤٥٦'); // the subscriber number in Arabic-Indic digits
    expect(text).toMatch(/٣٠[٬,]?٠٠٠/); // the maximum per bill
    expect(await kiosk.k.tid('mandates').innerText()).toContain('الحد الأقصى');
    await kiosk.k.tid(`end-${SUBSCRIBER}`).click();
    await kiosk.k.flowStep('mandate', 'done');
    expect(await kiosk.k.tid('approved').innerText()).toContain('التفويض');
    await kiosk.k.tid('done').click();
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = ?`, SUBSCRIBER), { timeout: 60_000 }).toBe('cancelled');
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);

    // In English: nothing left to list.
    await kiosk.k.tid('lang-en').click();
    await expect.poll(() => kiosk.page.getAttribute('html', 'lang')).toBe('en');
    await myMandates();
    expect(await kiosk.k.tid('mandates-empty').innerText()).toContain('No mandate');
    expect(await kiosk.k.tid(`held-${SUBSCRIBER}`).count()).toBe(0);
    await kiosk.k.tid('done').click();
  });
});
