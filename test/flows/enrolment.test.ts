import { describe, expect, it } from 'vitest';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { EMPTY_DRAFT, normalisePhone, validateDraft } from '../../src/flows/enrolment-form.ts';
import { reduceEnrolment, startEnrolment } from '../../src/flows/enrolment.ts';
import { testPorts, type TestPorts } from './helpers.ts';

const good = { nameAr: 'زينب حسن', nameLatin: 'Zeynep Hesen', idNumber: '٠١٢٣٤٥٦٧٨٩', phone: '0912 345 678', employer: 'QWB-01', accountId: '' };

describe('enrolment form', () => {
  it('accepts a complete form and normalises digits and phone', () => {
    const v = validateDraft(good);
    expect(v.ok).toBe(true);
    expect(v.draft).toMatchObject({ idNumber: '0123456789', phone: '+963912345678' });
    expect(normalisePhone('00963912345678')).toBe('+963912345678');
  });
  it('names each wrong field', () => {
    const v = validateDraft({ ...EMPTY_DRAFT, nameAr: 'Zeynep', nameLatin: 'زينب', idNumber: '12', phone: '12' });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.errors).toEqual({ nameAr: 'script-arabic', nameLatin: 'script-latin', idNumber: 'id-format', phone: 'phone-format', employer: 'employer-or-account' });
  });
  it('accepts Kurmanji letters in the Latin name', () => {
    expect(validateDraft({ ...good, nameLatin: 'Hêvîn Şêxo Çiya' }).ok).toBe(true);
  });
});

function enrolDriver(ports: TestPorts) {
  return new FlowDriver(reduceEnrolment, startEnrolment({ operatorId: 'cashier-1', minCaptures: 3 }), createPerformers(ports).enrolment);
}

async function captureAll(d: ReturnType<typeof enrolDriver>, ports: TestPorts, who: string) {
  d.dispatch({ type: 'form.submit', draft: good });
  d.dispatch({ type: 'consent.given' });
  ports.palm.fail('too-far', 0.3); // a bad capture is retaken, not counted
  for (let i = 0; i < 6; i++) ports.palm.present(`${who}-${i}`, 0.8 + i / 100);
  return d.waitFor((s) => s.step === 'review');
}

describe('enrolment through the driver', () => {
  it('needs three good captures of each hand, allows a retake, and saves provisional', async () => {
    const ports = testPorts();
    const d = enrolDriver(ports);
    const review = await captureAll(d, ports, 'new');
    expect(review.step === 'review' && [review.captures.left.length, review.captures.right.length]).toEqual([3, 3]);
    const retake = review.step === 'review' ? review.captures.right[1]!.sampleId : '';
    d.dispatch({ type: 'capture.retake', hand: 'right', sampleId: retake });
    expect(d.state).toMatchObject({ step: 'capture', hand: 'right' });
    ports.palm.present('new-again');
    await d.waitFor((s) => s.step === 'review');
    d.dispatch({ type: 'capture.finish' });
    // Not a duplicate: the person chooses a PIN under the one policy (pin-policy.ts), typed twice.
    await d.waitFor((x) => x.step === 'pin');
    d.dispatch({ type: 'pin.new', pin: '1234', again: '1234' });
    expect(d.state).toMatchObject({ step: 'pin', error: 'pin-trivial' });
    d.dispatch({ type: 'pin.new', pin: '2580', again: '2581' });
    expect(d.state).toMatchObject({ step: 'pin', error: 'pin-mismatch' });
    expect(JSON.stringify(d.state)).not.toContain('2580'); // a PIN is never in a state (broadcast to the screen)
    d.dispatch({ type: 'pin.new', pin: '٢٥٨٠', again: '2580' }); // Arabic-Indic digits read as Latin
    const s = await d.waitFor((x) => x.step === 'enrolled');
    expect(s).toMatchObject({ pinChosen: true });
    const personId = s.step === 'enrolled' ? s.personId : '';
    expect(ports.bank.customerPins.get(personId)?.pin).toBe('2580');
    expect(ports.bank.person(personId)).toMatchObject({ status: 'provisional', nameLatin: 'Zeynep Hesen' });
    expect(ports.bank.templates.get(personId)).toHaveLength(6);
    expect(ports.bank.templates.get(personId)).not.toContain(retake);
  });

  it("an operator's own palm (the first operator, enrolAs): the same captures and checks, no PIN chosen, saved under the operator's id with the centre's code", async () => {
    const ports = testPorts();
    const saved: unknown[] = [];
    const perform = createPerformers(ports).enrolment;
    const d = new FlowDriver(reduceEnrolment, startEnrolment({ operatorId: 'OP-ROJDA', minCaptures: 3, enrolAs: { personId: 'OP-ROJDA', enrolCodeId: 'OC-1' } }), (f, sig) => {
      if (f.type === 'saveEnrolment') saved.push(f);
      return perform(f, sig);
    });
    await captureAll(d, ports, 'rojda');
    d.dispatch({ type: 'capture.finish' });
    const s = await d.waitFor((x) => x.step === 'enrolled' || x.step === 'pin');
    expect(s).toMatchObject({ step: 'enrolled', personId: 'OP-ROJDA', pinChosen: false });
    expect(saved).toEqual([expect.objectContaining({ operatorId: 'OP-ROJDA', pin: null, enrolAs: { personId: 'OP-ROJDA', enrolCodeId: 'OC-1' } })]);
    expect(ports.bank.templates.get('OP-ROJDA')).toHaveLength(6);
  });

  it('blocks a likely duplicate even when the cache cannot name the match', async () => {
    const ports = testPorts(undefined, { duplicatesOf: new Set(['dup-2']) });
    const d = enrolDriver(ports);
    await captureAll(d, ports, 'dup');
    d.dispatch({ type: 'capture.finish' });
    const blocked = await d.waitFor((s) => s.step === 'duplicate');
    expect(blocked.step === 'duplicate' && blocked.candidates).toEqual([{ personId: 'dup-2', nameAr: '', nameLatin: '' }]);
    expect(ports.bank.records).toHaveLength(0);
  });

  it('a duplicate of an enrolled person is stopped at the first good capture, names them; the supervisor override goes on and saves with the approver', async () => {
    const ports = testPorts(undefined, { duplicatesOf: new Set(['ahmad']) });
    const d = enrolDriver(ports);
    d.dispatch({ type: 'form.submit', draft: good });
    d.dispatch({ type: 'consent.given' });
    ports.palm.present('ahmad');
    const blocked = await d.waitFor((s) => s.step === 'duplicate');
    expect(blocked.step === 'duplicate' && [blocked.candidates.map((c) => c.personId), blocked.captures.left.length, blocked.captures.right.length]).toEqual([['ahmad'], 1, 0]);
    d.dispatch({ type: 'capture.finish' }); // no way around it but the override
    expect(d.state.step).toBe('duplicate');
    d.dispatch({ type: 'override.start' });
    ports.palm.present('op-sara');
    await d.waitFor((s) => s.step === 'override' && s.auth.step === 'pin');
    d.dispatch({ type: 'auth.submit', pin: '9999' });
    await d.waitFor((s) => s.step === 'capture');
    // The right hand's first capture is checked too; the person the supervisor already approved is not asked again.
    for (let i = 0; i < 5; i++) ports.palm.present('ahmad');
    await d.waitFor((s) => s.step === 'review');
    d.dispatch({ type: 'capture.finish' });
    await d.waitFor((s) => s.step === 'pin');
    d.dispatch({ type: 'pin.defer' }); // the person sets it later, at a supervised counter
    const s = await d.waitFor((x) => x.step === 'enrolled');
    expect(s).toMatchObject({ overrideBy: 'super-1', pinChosen: false });
    expect(ports.bank.customerPins.has(s.step === 'enrolled' ? s.personId : '')).toBe(false);
  });

  it('consent refused ends the enrolment without capturing', () => {
    const s = startEnrolment({ operatorId: 'c', minCaptures: 3 });
    const consent = reduceEnrolment(s.state, { type: 'form.submit', draft: good });
    const r = reduceEnrolment(consent.state, { type: 'consent.refused' });
    expect(r.state).toMatchObject({ step: 'failed', reason: 'consent-refused' });
    expect(r.effects).toEqual([]);
  });
});
