// Two-stage identification: decisions, both hands, stage 2 agreeing with exhaustive matching, skipped templates,
// searches running while the gallery changes. Synthetic palms from the (unfitted) default model keep it fast.
import { describe, expect, it } from 'vitest';
import { decide, normalUpperTail, thresholdFor } from '../../src/biometrics/identify/decision.ts';
import { Identifier } from '../../src/biometrics/identify/identifier.ts';
import { DEFAULT_POLICY, lazyPalmIdentifier, loadEnrolments, palmIdentifier, type PalmRef } from '../../src/biometrics/identify/palm.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { defaultModel, person, syntheticTemplate } from '../../src/biometrics/identify/synthetic.ts';
import { crc32, encodeTemplate } from '../../src/biometrics/template.ts';
import { TemplateCorruptError, type Template } from '../../src/biometrics/types.ts';

const model = defaultModel();

function gallery(people: number, seed: number) {
  const r = rng(seed);
  const id = palmIdentifier({ blockSlots: 8 }); // small blocks: a chunked search yields many times
  const probes: Array<{ personId: string; t: Template }> = [];
  for (let i = 0; i < people; i++) {
    for (const hand of ['left', 'right'] as const) {
      const p = person(model, r); // each hand is its own pattern
      id.enrol({ entryId: `p${i}-${hand}`, personId: `p${i}`, hand, template: syntheticTemplate(model, p, r, 'enrol') });
      if (i < 15 && hand === 'left') probes.push({ personId: `p${i}`, t: syntheticTemplate(model, p, r, 'probe') });
    }
  }
  return { id, probes, r };
}

describe('decision', () => {
  const e = (entryId: string, personId: string, score: number) => ({ entryId, personId, hand: 'left' as const, score });
  const policy = { threshold: 0.3, margin: 0.05 };

  it('matches when the best person passes the threshold by a clear margin', () => {
    expect(decide([e('a', 'A', 0.2), e('b', 'B', 0.4)], policy)).toMatchObject({ kind: 'match', personId: 'A', entryId: 'a', score: 0.2 });
  });
  it('two entries (both hands) of the SAME person close together are not ambiguous', () => {
    expect(decide([e('a-l', 'A', 0.2), e('a-r', 'A', 0.21), e('b', 'B', 0.4)], policy)).toMatchObject({ kind: 'match', personId: 'A', entryId: 'a-l' });
  });
  it('a different person within the margin makes it ambiguous: ask for a second capture or an ID/PIN', () => {
    const d = decide([e('a', 'A', 0.2), e('b', 'B', 0.23)], policy);
    expect(d).toMatchObject({ kind: 'ambiguous', action: 'second-capture-or-id' });
    if (d.kind === 'ambiguous') expect(d.candidates.map((c) => c.personId)).toEqual(['A', 'B']);
  });
  it('no match above the threshold, or with no candidates', () => {
    expect(decide([e('a', 'A', 0.31)], policy)).toEqual({ kind: 'no-match', bestScore: 0.31 });
    expect(decide([], policy)).toEqual({ kind: 'no-match', bestScore: null });
  });
});

describe('the threshold tightens with the gallery (FPIR ≈ entries × FMR)', () => {
  const e = (entryId: string, personId: string, score: number) => ({ entryId, personId, hand: 'left' as const, score });
  const gallery = { impostorMean: 0.43, impostorTailSd: 0.02, targetFpir: 1e-3 };
  const policy = { threshold: 0.36, margin: 0.02, gallery };

  it('the normal tail is accurate far out (relative error), where the thresholds for 10⁵–10⁶ palms live', () => {
    // Reference values of Q(z) = P(Z > z).
    for (const [z, q] of [[0, 0.5], [3.090232, 1e-3], [4.753424, 1e-6], [5.997807, 1e-9], [-1, 0.8413447461]] as const) {
      expect(Math.abs(normalUpperTail(z) - q) / q).toBeLessThan(1e-5); // the z above are rounded to 6 decimals
    }
  });
  it('keeps the 1:1 threshold for a tiny gallery, then meets entries × FMR(t) = targetFpir', () => {
    expect(thresholdFor(policy, 1)).toBe(0.36);
    expect(thresholdFor({ threshold: 0.36, margin: 0.02 }, 1e6)).toBe(0.36); // no gallery model: 1:1 threshold
    let last = Infinity;
    for (const n of [1e2, 1e3, 1e4, 1e5, 1e6]) {
      const t = thresholdFor(policy, n);
      expect(t).toBeLessThan(last);
      last = t;
      const fmr = normalUpperTail((gallery.impostorMean - t) / gallery.impostorTailSd);
      expect(n * fmr).toBeCloseTo(gallery.targetFpir, 8);
    }
  });
  it('a score that passes 1:1 but not at this gallery size asks again instead of guessing', () => {
    const t = thresholdFor(policy, 1e6);
    const best = [e('a', 'A', (t + 0.36) / 2), e('b', 'B', 0.42)];
    expect(decide(best, policy, 1)).toMatchObject({ kind: 'match', personId: 'A' });
    const d = decide(best, policy, 1e6);
    expect(d).toMatchObject({ kind: 'ambiguous', action: 'second-capture-or-id' });
    if (d.kind === 'ambiguous') expect(d.candidates.map((c) => c.personId)).toEqual(['A']);
    expect(decide([e('a', 'A', t - 0.01), e('b', 'B', 0.42)], policy, 1e6)).toMatchObject({ kind: 'match', personId: 'A' });
  });
});

describe('two-stage identification', () => {
  it('gives the same decision as exhaustive matching, and finds the person by either hand', () => {
    const { id, probes } = gallery(120, 1);
    expect(id.size).toBe(240);
    let matched = 0;
    for (const p of probes) {
      const two = id.identify(p.t);
      const all = id.exhaustive(p.t);
      // Same decision, entry and score. The reported margin can only be wider (stage 2 sees the runner-up among
      // the K candidates, exhaustive among all), so compare it as a bound.
      const { margin: m2, ...d2 } = { margin: 0, ...two.decision };
      const { margin: mAll, ...dAll } = { margin: 0, ...all.decision };
      expect(d2).toEqual(dAll);
      expect(m2).toBeGreaterThanOrEqual(mAll);
      expect(two.scored[0]).toEqual(all.scored[0]);
      if (two.decision.kind === 'match') {
        expect(two.decision.personId).toBe(p.personId);
        matched++;
      }
    }
    expect(matched).toBeGreaterThan(probes.length / 2);
  });

  it('a revoked entry is never returned, also when revoked while a chunked search runs', async () => {
    const { id, probes } = gallery(60, 2);
    const probe = probes[0]!;
    expect(id.identify(probe.t).decision).toMatchObject({ kind: 'match', personId: probe.personId });
    const running = id.identifyChunked(probe.t, 7);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the search start
    id.revoke(`${probe.personId}-left`);
    id.enrol({ entryId: 'late', personId: 'late', hand: 'left', template: probe.t }); // added mid-search
    const res = await running;
    expect(res.scored.some((s) => s.entryId === `${probe.personId}-left`)).toBe(false);
    expect(res.decision.kind === 'match' && res.decision.entryId === `${probe.personId}-left`).toBe(false);
    // After the search, the late entry is found and the index is consistent again.
    expect(id.identify(probe.t).decision).toMatchObject({ kind: 'match', entryId: 'late' });
    expect(id.coarseIndex.slots).toBe(id.size);
  });

  it('re-enrolment replaces the template (update in place)', () => {
    const { id, probes, r } = gallery(30, 3);
    const probe = probes[1]!;
    const other = syntheticTemplate(model, person(model, r), r, 'enrol');
    id.enrol({ entryId: `${probe.personId}-left`, personId: probe.personId, hand: 'left', template: other });
    expect(id.identify(probe.t).decision.kind).not.toBe('match');
    id.enrol({ entryId: `${probe.personId}-left`, personId: probe.personId, hand: 'left', template: probe.t });
    expect(id.identify(probe.t).decision).toMatchObject({ kind: 'match', personId: probe.personId, score: 0 });
  });
});

describe('stored templates that cannot be read', () => {
  const r = rng(4);
  const good = Array.from({ length: 20 }, () => syntheticTemplate(model, person(model, r), r, 'enrol'));
  const bytes = good.map((t) => encodeTemplate(t));
  const corrupt = bytes[0]!.slice();
  corrupt[40]! ^= 0x10;
  const old = bytes[1]!.slice();
  old[3] = 0; // format version 0, with a valid checksum: well-formed but unknown
  new DataView(old.buffer).setUint32(old.length - 4, crc32(old.subarray(0, old.length - 4)), true);

  it('a corrupt or old-version template is skipped and reported at load, never matched', () => {
    const id = palmIdentifier();
    const rows = bytes.map((b, i) => ({ entryId: `e${i}`, personId: `p${i}`, bytes: i === 0 ? corrupt : i === 1 ? old : b }));
    const report = loadEnrolments(id, rows);
    expect(report.loaded).toBe(18);
    expect(report.skipped.map((s) => [s.entryId, s.code])).toEqual([
      ['e0', 'TEMPLATE_CORRUPT'],
      ['e1', 'TEMPLATE_UNSUPPORTED'],
    ]);
    for (const i of [0, 1]) {
      const res = id.identify(good[i]!);
      expect(res.decision.kind).not.toBe('match');
      expect(res.scored.some((s) => s.entryId === `e${i}`)).toBe(false);
    }
    expect(id.identify(good[5]!).decision).toMatchObject({ kind: 'match', entryId: 'e5' });
  });

  it('a sealed template that fails to open at stage 2 is skipped and reported, never matched', () => {
    const id = lazyPalmIdentifier();
    const codes: PalmRef[] = good.map((t, i) =>
      i === 0
        ? {
            kind: 'sealed',
            open: () => {
              throw new TemplateCorruptError('checksum mismatch');
            },
          }
        : t,
    );
    // Its coarse code is still in the index (from the snapshot), so stage 1 returns it: stage 2 must drop it.
    good.forEach((t, i) => id.enrol({ entryId: `e${i}`, personId: `p${i}`, hand: 'unknown', template: i === 0 ? t : codes[i]! }));
    const sealedBad = { entryId: 'e0', personId: 'p0', hand: 'unknown' as const, template: codes[0]! };
    id.enrolWithCodes([sealedBad], id.coarseIndex.codeOf('e0')!);
    const res = id.identify(good[0]!);
    expect(res.stage1.some((c) => c.id === 'e0')).toBe(true);
    expect(res.skipped).toEqual([{ entryId: 'e0', code: 'TEMPLATE_CORRUPT', message: 'template rejected: checksum mismatch' }]);
    expect(res.decision.kind === 'match' && res.decision.entryId === 'e0').toBe(false);
  });
});

describe('identifier options', () => {
  it('rejects a K outside 1..MAX_K and empty ids', () => {
    const opts = { coarse: () => new Uint8Array(256), fine: () => 0, policy: DEFAULT_POLICY };
    expect(() => new Identifier({ ...opts, k: 0 })).toThrow(RangeError);
    const id = new Identifier({ ...opts, k: 4 });
    expect(() => id.enrol({ entryId: '', personId: 'x', hand: 'left', template: null })).toThrow(/non-empty/);
  });
});
