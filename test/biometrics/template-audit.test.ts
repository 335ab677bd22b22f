// The centre's own audit of an enrolment's codes (src/biometrics/template-audit.ts), attacks first: bytes that are
// no template, another coder, two templates for one hand, an almost fully-masked capture (it would match on a few
// cells, weakly, everyone), one capture copied (within a hand or across the hands), and a capture of another
// person's palm slipped into a hand. An honest enrolment (three captures per hand, both hands) passes.
import { describe, expect, it } from 'vitest';
import { auditEnrolmentTemplates } from '../../src/biometrics/template-audit.ts';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import type { FeatureCode, Template } from '../../src/biometrics/types.ts';
import { capture, handTemplate as tpl, randomCode, ROWS } from '../support/synthetic-codes.ts';

const hand = (base: FeatureCode, seed: number) => [capture(base, 0.2, seed), capture(base, 0.2, seed + 1), capture(base, 0.2, seed + 2)];
const left = randomCode(1);
const right = randomCode(2);
const stranger = randomCode(3);
const audit = (...ts: Template[]) => auditEnrolmentTemplates(ts.map((t) => encodeTemplate(t)));
const codeOf = (r: ReturnType<typeof audit>) => (r.ok ? 'ok' : r.refusal.code);

describe('the centre audits an enrolment\'s codes before it believes them', () => {
  it('passes an honest enrolment: three live captures of each hand', () => {
    expect(codeOf(audit(tpl('left', hand(left, 10)), tpl('right', hand(right, 20))))).toBe('ok');
  });

  it('attack: bytes that are no template, and a template of another coder', () => {
    expect(codeOf(auditEnrolmentTemplates([new Uint8Array(64).fill(7)]))).toBe('TEMPLATE_MALFORMED');
    // compcode with 6 orientations writes 3 planes: a well-formed template of a coder the centre does not run.
    const other: Template = { ...tpl('left', []), coder: 'compcode', codes: [0, 1, 2].map((s) => ({ ...randomCode(40 + s), planes: 3, bits: randomCode(40 + s).bits.slice(0, 3 * ROWS) })) };
    expect(codeOf(audit(other))).toBe('TEMPLATE_CODER_MISMATCH');
  });

  it('attack: two templates for one hand, or a template of no named hand', () => {
    expect(codeOf(audit(tpl('left', hand(left, 10)), tpl('left', hand(right, 20))))).toBe('TEMPLATE_HANDS_INVALID');
    expect(codeOf(audit(tpl('unknown', hand(left, 10))))).toBe('TEMPLATE_HANDS_INVALID');
  });

  it('attack: an almost fully-masked capture (a few coded cells match everyone weakly)', () => {
    const sparse = capture(left, 0.2, 30);
    const mask = new Uint32Array(ROWS);
    for (let r = 0; r < 12; r++) mask[r] = 0xffffffff; // 12 of 32 rows coded: 37.5 %
    const masked: FeatureCode = { ...sparse, mask, bits: sparse.bits.map((w, i) => (w & mask[i % ROWS]!) >>> 0) };
    const r = audit(tpl('left', [...hand(left, 10).slice(0, 2), masked]));
    expect(codeOf(r)).toBe('TEMPLATE_COVERAGE_LOW');
    expect(r.ok ? '' : r.refusal.message).toMatch(/37\.5 %/);
  });

  it('attack: one capture copied three times, or the left hand copied as the right', () => {
    const one = capture(left, 0.2, 10);
    expect(codeOf(audit(tpl('left', [one, one, one])))).toBe('TEMPLATE_CAPTURES_COPIED');
    const codes = hand(left, 10);
    expect(codeOf(audit(tpl('left', codes), tpl('right', [capture(codes[0]!, 0.005, 50), ...hand(right, 20).slice(1)])))).toBe('TEMPLATE_CAPTURES_COPIED');
  });

  it('attack: a capture of another person\'s palm, or two palms\' captures, in one hand', () => {
    expect(codeOf(audit(tpl('left', [...hand(left, 10).slice(0, 2), capture(stranger, 0.2, 60)])))).toBe('TEMPLATE_CAPTURES_INCONSISTENT');
    expect(codeOf(audit(tpl('left', [...hand(left, 10).slice(0, 2), ...hand(stranger, 70).slice(0, 2)])))).toBe('TEMPLATE_CAPTURES_INCONSISTENT');
  });
});
