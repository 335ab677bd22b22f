// `palmpay eval` on a set the size of PolyU (250 palms × 12) once died with "RangeError: Maximum call stack size
// exceeded": the cross-session protocol appended its comparisons with `push(...)`, one call argument each, and V8
// refuses more than about 125,000. These build the protocols at that scale from a synthetic distance matrix.
import { describe, expect, it } from 'vitest';
import { buildTrials, type TrialSample } from '../../src/biometrics/eval/trials.ts';
import { crossValidate } from '../../src/biometrics/eval/folds.ts';
import { mulberry32 } from '../../src/util/random.ts';

/** `people` × 12 samples (01–06 session 1, 07–12 session 2, as PolyU); genuine distances near 0.2, impostors near 0.45. */
function polyuSized(people: number): { items: TrialSample[]; dist: Float32Array } {
  const items: TrialSample[] = [];
  for (let p = 0; p < people; p++) {
    const identity = String(p + 1).padStart(4, '0');
    for (let s = 1; s <= 12; s++) items.push({ ok: true, sample: { identity, sample: `${identity}/${s}`, index: s, session: s <= 6 ? 1 : 2, hand: 'left', path: '' } });
  }
  const n = items.length;
  const rng = mulberry32(19);
  const dist = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = (Math.floor(i / 12) === Math.floor(j / 12) ? 0.2 : 0.45) + 0.05 * rng();
      dist[i * n + j] = d;
      dist[j * n + i] = d;
    }
  }
  return { items, dist };
}

describe('evaluation protocols at the scale of the PolyU set', () => {
  // 160 palms: 960 session-2 probes × 160 enrolled = 153,600 cross-session comparisons, past the argument limit.
  const { items, dist } = polyuSized(160);

  it('builds the cross-session protocol with more than 125,000 comparisons, each probe against every enrolled palm', () => {
    const t = buildTrials(items, dist, 'cross-session');
    expect(t.comparisons.score.length).toBe(960 * 160);
    expect(t.searches.probe.length).toBe(960);
    let genuine = 0;
    for (let k = 0; k < t.comparisons.a.length; k++) if (t.comparisons.a[k] === t.comparisons.b[k]) genuine++;
    expect(genuine).toBe(960);
    // Enrolment with the first capture only (the eval's enrolment-captures rows) takes the same path.
    expect(buildTrials(items, dist, 'cross-session', 1).comparisons.score.length).toBe(960 * 160);
  });

  it('cross-validates those trials on person-disjoint folds', () => {
    const h = crossValidate(buildTrials(items, dist, 'cross-session'), { folds: 5, bootstrap: 0 });
    expect(h.held_genuine).toBe(960);
    expect(h.eer.value).toBe(0);
  });
});
