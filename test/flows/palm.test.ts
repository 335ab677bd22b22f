// The simulator's synthetic palms under the REAL recogniser: per-identity vein patterns that src/biometrics'
// extractor separates (every genuine score below the decision threshold, every impostor above), the distance
// effect as a real failure to acquire, and the flows' PalmIdentifier (1:N with threshold + margin) on them.
import { describe, expect, it } from 'vitest';
import { atDistance } from '../../drivers/sim/sources.ts';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { DECISION_THRESHOLD } from '../../src/biometrics/config.ts';
import { matchScore } from '../../src/biometrics/match.ts';
import { decodeTemplate } from '../../src/biometrics/template.ts';
import { encodePalm, fuseCaptures, PalmIdentifier, templateFromFrame, type Template } from '../../src/host/adapters/palm.ts';

const W = 320;
const H = 240;
const IDS = Array.from({ length: 10 }, (_, i) => `synth-${i}`);
const CAPTURES = 4;

function capture(identity: string, sample: number, shot: number, hand: Template['hand'] = 'unknown'): Template {
  const r = templateFromFrame(syntheticPalm(identity, sample, shot, W, H), hand);
  if (!r.ok) throw new Error(`${identity} sample ${sample} shot ${shot}: failure to acquire (${r.reason})`);
  return r.template;
}

// 10 identities × 4 captures: two session poses (samples 1 and 2) × two shots each.
const captures = new Map(IDS.map((id) => [id, Array.from({ length: CAPTURES }, (_, c) => capture(id, 1 + (c % 2), c))]));

describe('synthetic palms under the real extractor', () => {
  it('separate: every genuine score below DECISION_THRESHOLD, every impostor score above', () => {
    const genuine: number[] = [];
    const impostor: number[] = [];
    IDS.forEach((a, i) => {
      const ta = captures.get(a)!;
      for (let x = 0; x < ta.length; x++) {
        for (let y = x + 1; y < ta.length; y++) genuine.push(matchScore(ta[x]!, ta[y]!));
        for (const b of IDS.slice(i + 1)) for (const tb of captures.get(b)!) impostor.push(matchScore(ta[x]!, tb));
      }
    });
    expect(genuine).toHaveLength(60);
    expect(impostor).toHaveLength(720);
    const worstGenuine = Math.max(...genuine);
    const bestImpostor = Math.min(...impostor);
    console.log(`synthetic palms: genuine max ${worstGenuine.toFixed(3)}, impostor min ${bestImpostor.toFixed(3)}, threshold ${DECISION_THRESHOLD}`);
    expect(worstGenuine).toBeLessThan(DECISION_THRESHOLD);
    expect(bestImpostor).toBeGreaterThan(DECISION_THRESHOLD);
  });

  it('a palm held far away or too close fails to acquire for that reason', () => {
    const far = templateFromFrame(atDistance(syntheticPalm('synth-0', 1, 0, W, H), 150));
    expect(far).toMatchObject({ ok: false, reason: 'too-far' });
    const close = templateFromFrame(atDistance(syntheticPalm('synth-0', 1, 0, W, H), 20));
    expect(close.ok).toBe(false);
  });
});

describe('PalmIdentifier over synthetic enrolments', () => {
  // Enrol captures 0–2 of each identity (fused, stored bytes round-trip), probe with capture 3.
  const rows = IDS.map((id) => ({ entryId: `t-${id}`, personId: `p-${id}`, bytes: encodePalm(fuseCaptures(captures.get(id)!.slice(0, 3).map((t) => ({ ...t, hand: 'left' as const })))) }));

  it('identifies the enrolled person, rejects a stranger, and refuses to guess between two people with one palm', () => {
    const idf = new PalmIdentifier();
    // A duplicate that slipped through: the same enrolment stored under a second person.
    const report = idf.load([...rows, { ...rows[0]!, entryId: 't-dup', personId: 'p-dup' }, { entryId: 'bad', personId: 'p-bad', bytes: new Uint8Array([1, 2, 3]) }]);
    expect(report.loaded).toBe(11);
    expect(report.skipped.map((s) => s.entryId)).toEqual(['bad']);
    for (const id of IDS.slice(1)) expect(idf.identify(captures.get(id)![3]!)).toEqual({ kind: 'match', personId: `p-${id}` });
    expect(idf.identify(captures.get(IDS[0]!)![3]!)).toEqual({ kind: 'ambiguous' });
    expect(idf.identify(capture('never-enrolled', 1, 0))).toEqual({ kind: 'no-match' });
    expect(idf.verify('p-synth-3', captures.get('synth-3')![3]!)).toBe(true);
    expect(idf.verify('p-synth-3', captures.get('synth-4')![3]!)).toBe(false);
    expect(idf.duplicates([captures.get('synth-5')![3]!])).toEqual(['p-synth-5']);
    expect(idf.duplicates([capture('never-enrolled', 1, 1)])).toEqual([]);
    // The stored palms are left hands: the same palm taken as the right hand is still that person (a label is no proof).
    expect(idf.duplicates([{ ...captures.get('synth-5')![3]!, hand: 'right' }])).toEqual(['p-synth-5']);
  });

  it('adds a new enrolment per hand, and revokes a person', () => {
    const idf = new PalmIdentifier();
    idf.load(rows.slice(1));
    const probe = capture('synth-0', 1, 9);
    expect(idf.identify(probe)).toEqual({ kind: 'no-match' });
    const left = captures.get('synth-0')!.slice(0, 3).map((t) => ({ ...t, hand: 'left' as const }));
    const right = [1, 2, 3].map((s) => capture('synth-0', s, 20, 'right'));
    idf.add('p-new', [...left, ...right]);
    expect(idf.size).toBe(11);
    expect(idf.identify(probe)).toEqual({ kind: 'match', personId: 'p-new' });
    expect(decodeTemplate(encodePalm(fuseCaptures(right))).codes).toHaveLength(3);
    expect(idf.revoke('p-new')).toBe(2);
    expect(idf.identify(probe)).toEqual({ kind: 'no-match' });
  });
});
