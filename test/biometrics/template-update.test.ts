// Template update after a confident match, attacker first: a chain of borderline matches must not drift a
// person's template toward another palm (template poisoning), while a confident genuine capture is kept, bounded.
import { describe, expect, it } from 'vitest';
import { DECISION_THRESHOLD } from '../../src/biometrics/config.ts';
import { matchScore } from '../../src/biometrics/match.ts';
import { fuseTemplates } from '../../src/biometrics/template.ts';
import { captureCodeRefusal, proposeTemplateUpdate, TEMPLATE_UPDATE_POLICY as P, updatedScore, type UpdatableTemplate } from '../../src/biometrics/template-update.ts';
import type { Template } from '../../src/biometrics/types.ts';

import { capture, mix, permutation, randomCode, ROWS, tpl } from '../support/synthetic-codes.ts';

const palmA = randomCode(1);
const palmB = randomCode(2);
const enrolA = (): UpdatableTemplate => ({ enrolled: tpl(palmA, capture(palmA, 0.3, 11), capture(palmA, 0.3, 12)), updates: [] });
const enrolledB = tpl(palmB, capture(palmB, 0.3, 21));

/** A chain from A to B: step i takes the first i / steps of B's cells, so each step is close to the one before. */
function chainAtoB(steps: number): Template[] {
  const order = permutation(99);
  return Array.from({ length: steps }, (_, i) => tpl(mix(palmA, palmB, order.slice(0, Math.round(((i + 1) / steps) * order.length)))));
}

describe('template update: poisoning (attacker first)', () => {
  it('a naive update (judged against the current template at the decision threshold) drifts to B: the attack is real', () => {
    // Same slots, but each capture judged against the template as updated so far: the chain walks.
    let u = enrolA();
    for (const c of chainAtoB(24)) {
      const current = fuseTemplates([u.enrolled, ...u.updates]);
      if (matchScore(current, c) <= DECISION_THRESHOLD) u = { enrolled: u.enrolled, updates: [...u.updates, c].slice(-P.slots) };
    }
    const naive = fuseTemplates([u.enrolled, ...u.updates]);
    expect(matchScore(u.enrolled, tpl(capture(palmB, 0.1, 31)))).toBeGreaterThan(DECISION_THRESHOLD);
    expect(matchScore(naive, tpl(capture(palmB, 0.1, 31)))).toBeLessThanOrEqual(DECISION_THRESHOLD);
  });

  it('the same chain, every step PIN-confirmed, B enrolled or not: B never matches A after it', () => {
    for (const bEnrolled of [true, false]) {
      let u = enrolA();
      let admitted = 0;
      for (const c of chainAtoB(24)) {
        const d = proposeTemplateUpdate(u, c, { pinVerified: true, enrolQuality: true, nearestOther: bEnrolled ? matchScore(enrolledB, c) : null });
        if (d.ok) {
          admitted++;
          expect(d.anchorScore).toBeLessThanOrEqual(P.pinScore); // each admitted step is one step from the ORIGINALS
          u = d.next;
        }
      }
      expect(admitted).toBeGreaterThan(0); // the first steps are A's palm and are admitted
      expect(u.updates.length).toBeLessThanOrEqual(P.slots);
      for (let s = 0; s < 5; s++) expect(updatedScore(u, tpl(capture(palmB, 0.1, 40 + s)))).toBeGreaterThan(DECISION_THRESHOLD);
    }
  });

  it("the attacker's own palm is never admitted into A's template, even with A's PIN", () => {
    const u = enrolA();
    for (let s = 0; s < 10; s++) {
      const d = proposeTemplateUpdate(u, tpl(capture(palmB, 0.05, 50 + s)), { pinVerified: true, enrolQuality: true, nearestOther: null });
      expect(d).toMatchObject({ ok: false, reason: 'not-confident' });
    }
  });
});

describe('template update: the rules', () => {
  it('a genuine match near the threshold never updates, with or without PIN; a confident one does', () => {
    const u = enrolA();
    const near = tpl(capture(palmA, 0.6, 60));
    const nearScore = matchScore(u.enrolled, near);
    expect(nearScore).toBeGreaterThan(P.pinScore);
    expect(nearScore).toBeLessThanOrEqual(DECISION_THRESHOLD); // an accepted, borderline match
    expect(proposeTemplateUpdate(u, near, { pinVerified: true, enrolQuality: true, nearestOther: 0.45 })).toMatchObject({ ok: false, reason: 'not-confident' });
    const sure = tpl(capture(palmA, 0.35, 61));
    expect(proposeTemplateUpdate(u, sure, { pinVerified: false, enrolQuality: true, nearestOther: 0.45 })).toMatchObject({ ok: true, replaces: null });
    expect(proposeTemplateUpdate(u, sure, { pinVerified: false, enrolQuality: false, nearestOther: 0.45 })).toMatchObject({ ok: false, reason: 'quality' });
  });

  it('an ambiguous match is refused: another person within the margin, or matching at the threshold', () => {
    const u = enrolA();
    // Confident with the PIN (between strongScore and pinScore); the next person just beyond the threshold.
    const sure = tpl(capture(palmA, 0.56, 90));
    const s = matchScore(u.enrolled, sure);
    const other = DECISION_THRESHOLD + 0.001;
    expect(s).toBeLessThanOrEqual(P.pinScore);
    expect(other - s).toBeLessThan(P.minMargin);
    expect(proposeTemplateUpdate(u, sure, { pinVerified: true, enrolQuality: true, nearestOther: other })).toMatchObject({ ok: false, reason: 'ambiguous' });
    expect(proposeTemplateUpdate(u, sure, { pinVerified: true, enrolQuality: true, nearestOther: 0.4 })).toMatchObject({ ok: true });
    const clear = tpl(capture(palmA, 0.35, 61));
    expect(proposeTemplateUpdate(u, clear, { pinVerified: true, enrolQuality: true, nearestOther: DECISION_THRESHOLD })).toMatchObject({ ok: false, reason: 'ambiguous' });
  });

  it('bounded: the enrolment captures are kept, the oldest update is replaced', () => {
    let u = enrolA();
    const originals = u.enrolled;
    const caps = [70, 71, 72].map((s) => tpl(capture(palmA, 0.3, s)));
    const replaced: Array<number | null> = [];
    for (const c of caps) {
      const d = proposeTemplateUpdate(u, c, { pinVerified: false, enrolQuality: true, nearestOther: null });
      if (!d.ok) throw new Error(d.reason);
      replaced.push(d.replaces);
      u = d.next;
    }
    expect(replaced).toEqual([null, null, 0]);
    expect(u.updates).toEqual([caps[1], caps[2]]);
    expect(u.enrolled).toBe(originals);
    expect(u.enrolled.codes.length).toBe(3);
  });

  it('an update slot helps a probe the originals nearly accept, and only such a probe', () => {
    // A later capture drifted from the originals (pose); the update captured it, the next probe resembles it.
    const drifted = capture(palmA, 0.6, 80);
    const slot = tpl(capture(drifted, 0.1, 81));
    const probe = tpl(capture(drifted, 0.2, 82));
    const u0 = enrolA();
    const original = matchScore(u0.enrolled, probe);
    expect(original).toBeGreaterThan(DECISION_THRESHOLD);
    expect(original).toBeLessThanOrEqual(P.guardScore);
    const u = { ...u0, updates: [slot] };
    expect(updatedScore(u, probe)).toBeLessThanOrEqual(DECISION_THRESHOLD);
  });

  it('the centre re-decides on its own copies: the PIN rule only when the signed record proved the PIN', () => {
    const u = enrolA();
    const c = tpl(capture(palmA, 0.56, 90));
    const s = matchScore(u.enrolled, c);
    expect(s).toBeGreaterThan(P.strongScore);
    expect(s).toBeLessThanOrEqual(P.pinScore);
    // The terminal said the PIN was checked; the signed record the centre holds says it was not.
    expect(proposeTemplateUpdate(u, c, { pinVerified: false, enrolQuality: true, nearestOther: null })).toMatchObject({ ok: false, reason: 'not-confident' });
    expect(proposeTemplateUpdate(u, c, { pinVerified: true, enrolQuality: true, nearestOther: null })).toMatchObject({ ok: true, replaces: null });
  });

  it('what the centre can check of a capture without its frame: one sub-code of the hand, same coder, enough of the palm coded', () => {
    const enrolled = enrolA().enrolled;
    const c = tpl(capture(palmA, 0.1, 95));
    expect(captureCodeRefusal(enrolled, c)).toBeNull();
    expect(captureCodeRefusal(enrolled, { ...c, hand: 'right' })).toBe('hand');
    expect(captureCodeRefusal(enrolled, tpl(c.codes[0]!, c.codes[0]!))).toBe('hand');
    expect(captureCodeRefusal(enrolled, { ...c, coderParams: { ...c.coderParams, wavelength10: 80 } })).toBe('quality');
    // A hand half off the sensor: only 60 % of the cells coded (below the enrolment limit minRoiCoverage 0.8).
    const code = c.codes[0]!;
    const mask = code.mask.map((m, r) => (r < 13 ? 0 : m));
    const partial = { ...code, mask, bits: code.bits.map((b, i) => (i % ROWS < 13 ? 0 : b)) };
    expect(captureCodeRefusal(enrolled, tpl(partial))).toBe('quality');
  });
});
