// End to end (issue 17d): meter readings and direct-debit mandates in the real `palmpay terminal --demo` (browser
// mode), driven by Chromium. A reading in Arabic reaches the centre and its biller's export; a reading below the
// last one passes only with a supervisor's palm and PIN; a mandate signed by palm + PIN makes the centre pay a
// bill imported afterwards; ended at the counter, the next imported bill stays due.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoKiosk } from './kiosk-page.ts';
import { runCli } from './spawn-terminal.ts';

const BILLER = 'elec-hasakah';
const HEADER = 'biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading';
const kiosk = demoKiosk('readings');

/** A bill file imported at the (embedded) centre through the real CLI, as the biller's import would be. */
async function importBill(bill: string, cycle: string, amount: number, previous: number, current: number) {
  const file = join(kiosk.dataDir, `${bill}.csv`);
  writeFileSync(file, `${HEADER}\n${BILLER},00123456,${bill},${cycle},${amount},SYP,2027-01-15,${previous},${current}\n`);
  const r = await runCli(['server', 'bills', 'import', file, '--db', `sqlite:${join(kiosk.dataDir, 'centre.db')}`]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('meter readings and mandates at the counter', () => {
  it('a meter reading, in Arabic: the last reading from the feed, the reading, the subscriber palm; the centre forwards it', { timeout: 180_000 }, async () => {
    expect(await kiosk.page.locator('html').getAttribute('lang')).toBe('ar'); // Arabic is the default
    await kiosk.k.signIn('op-cashier', '1234');
    await expect.poll(() => kiosk.k.query<number>('terminal.db', 'SELECT count(*) FROM bills'), { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    await kiosk.k.tid('role-reading').click();
    await kiosk.k.flowStep('reading', 'subscriber');
    await kiosk.k.keypad('subscriber', '00123456');
    await kiosk.k.flowStep('reading', 'reading');
    // The last reading is the newest bill's (cycle 2026-11: 10,830), shown in Arabic-Indic digits.
    expect(await kiosk.k.tid(`last-reading-${BILLER}`).getAttribute('data-last')).toBe('10830');
    expect(await kiosk.k.tid(`last-reading-${BILLER}`).innerText()).toMatch(/القراءة السابقة: ١٠٬٨٣٠/);
    await kiosk.k.keypad('reading', '10900');
    await kiosk.k.flowStep('reading', 'palm');
    await kiosk.api.present('emp-ahmad');
    await kiosk.k.flowStep('reading', 'done');
    const receipt = await kiosk.k.tid('receipt').innerText();
    expect(receipt).toContain('قراءة العداد');
    expect(receipt).toMatch(/١٠٬?٩٠٠|10900/);
    await kiosk.k.tid('done').click();
    // At the centre: accepted (not in review), forwarded once through the biller's export.
    await expect.poll(() => kiosk.k.query<number>('centre.db', `SELECT count(*) FROM meter_readings WHERE subscriber = '00123456' AND reading = 10900`), { timeout: 60_000 }).toBe(1);
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
    const listed = await runCli(['server', 'readings', 'list', '--biller', BILLER, '--json', '--db', `sqlite:${join(kiosk.dataDir, 'centre.db')}`]);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ subscriber: '00123456', reading: 10900, last_reading: 10830, person: 'emp-ahmad', approved_by: null })]);
  });

  it('a reading below the last one needs a supervisor: palm and PIN, named on the receipt and at the centre', { timeout: 180_000 }, async () => {
    await kiosk.k.tid('lang-en').click();
    await kiosk.k.tid('role-reading').click();
    await kiosk.k.keypad('subscriber', '00654321');
    await kiosk.k.flowStep('reading', 'reading');
    expect(await kiosk.k.tid(`last-reading-${BILLER}`).getAttribute('data-last')).toBe('4420');
    await kiosk.k.keypad('reading', '4000');
    await kiosk.k.flowStep('reading', 'override');
    await expect.poll(() => kiosk.k.tid('reading-lower').innerText()).toMatch(/4,000 is below the last reading 4,420/);
    await kiosk.k.approveAsSupervisor('op-super', '9999');
    await kiosk.k.flowStep('reading', 'palm');
    await kiosk.api.present('emp-hevi');
    await kiosk.k.flowStep('reading', 'done');
    expect(await kiosk.k.tid('receipt').innerText()).toMatch(/Approved by supervisor Sara/);
    await kiosk.k.tid('done').click();
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT approved_by FROM meter_readings WHERE subscriber = '00654321'`), { timeout: 60_000 }).toBe('op-super');
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });

  it('a mandate signed by palm + PIN: the next imported bill is debited at the centre; ended at the counter, the next one stays due', { timeout: 240_000 }, async () => {
    await kiosk.k.tid('role-mandate').click();
    await kiosk.k.flowStep('mandate', 'mode');
    await kiosk.k.tid('mode-sign').click();
    await kiosk.k.keypad('subscriber', '00123456');
    await kiosk.k.flowStep('mandate', 'terms');
    await kiosk.k.keypad('max', '30000');
    await kiosk.k.palmThenPin('mandate', 'emp-ahmad', '4321');
    await kiosk.k.flowStep('mandate', 'done');
    expect(await kiosk.k.tid('receipt').innerText()).toMatch(/Direct debit for elec-hasakah, at most per bill\s*SYP\s30,000/);
    await kiosk.k.tid('done').click();
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = '00123456'`), { timeout: 60_000 }).toBe('active');
    expect(kiosk.k.query<number>('centre.db', 'SELECT max_minor FROM mandates WHERE person_id = ? AND subscriber = ?', 'emp-ahmad', '00123456')).toBe(3_000_000);

    // The biller's next bill, imported at the centre: paid at once from Ahmad's account under the mandate.
    expect(await importBill('EH-2026-12-00123456', '2026-12', 2_000_000, 10_900, 11_200)).toMatch(/direct debits: 1 paid, 0 failed/);
    expect(kiosk.k.query<string>('centre.db', `SELECT status FROM bills WHERE bill_id = 'EH-2026-12-00123456'`)).toBe('paid');
    expect(kiosk.k.query<string>('centre.db', `SELECT paid_by FROM bills WHERE bill_id = 'EH-2026-12-00123456'`)).toMatch(/^mandate:M-/);

    // Ended at the counter by the same person (palm + PIN): the bill after it is not debited.
    await kiosk.k.tid('role-mandate').click();
    await kiosk.k.tid('mode-cancel').click();
    await kiosk.k.keypad('subscriber', '00123456');
    await kiosk.k.flowStep('mandate', 'terms');
    await kiosk.k.tid('confirm').click();
    await kiosk.k.palmThenPin('mandate', 'emp-ahmad', '4321');
    await kiosk.k.flowStep('mandate', 'done');
    expect(await kiosk.k.tid('receipt').innerText()).toMatch(/Direct debit for elec-hasakah ended/);
    await kiosk.k.tid('done').click();
    await expect.poll(() => kiosk.k.query<string | null>('centre.db', `SELECT status FROM mandates WHERE person_id = 'emp-ahmad' AND subscriber = '00123456'`), { timeout: 60_000 }).toBe('cancelled');
    expect(await importBill('EH-2027-01-00123456', '2027-01', 2_100_000, 11_200, 11_500)).toMatch(/direct debits: 0 paid, 0 failed/);
    expect(kiosk.k.query<string>('centre.db', `SELECT status FROM bills WHERE bill_id = 'EH-2027-01-00123456'`)).toBe('open');
    expect(kiosk.k.query<number>('centre.db', `SELECT count(*) FROM records WHERE status = 'review'`)).toBe(0);
  });
});
