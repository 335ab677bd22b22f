// Person-disjoint validation: the split is by person, and a held fold's thresholds never see its people.
import { describe, expect, it } from 'vitest';
import { assignFolds, crossValidate } from '../../src/biometrics/eval/folds.ts';
import { buildTrials, type TrialSample } from '../../src/biometrics/eval/trials.ts';
import { mulberry32, normal } from '../../src/util/random.ts';

/** n people × m samples (first half session 1), distances: genuine ~ N(0.25, 0.04), impostor ~ N(0.45, 0.02). */
function synthetic(n: number, m: number, seed = 3): { items: TrialSample[]; dist: Float32Array } {
  const rng = mulberry32(seed);
  const items: TrialSample[] = [];
  for (let p = 0; p < n; p++) {
    for (let s = 0; s < m; s++) {
      const identity = `p${String(p).padStart(3, '0')}`;
      items.push({ ok: true, sample: { identity, sample: `${identity}_${s}`, index: s + 1, session: s < m / 2 ? 1 : 2, hand: 'left', path: '' } });
    }
  }
  const N = items.length;
  const dist = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      const same = items[i]!.sample.identity === items[j]!.sample.identity;
      const d = same ? 0.25 + 0.04 * normal(rng) : 0.45 + 0.02 * normal(rng);
      dist[i * N + j] = d;
      dist[j * N + i] = d;
    }
  }
  return { items, dist };
}

describe('person-disjoint folds', () => {
  it('assigns every person to exactly one fold, folds of equal size ±1, reproducibly from the seed', () => {
    const people = Array.from({ length: 53 }, (_, i) => `id${i}`);
    const f = assignFolds([...people, ...people], 5, 7); // a person listed twice is still one person
    expect(f.size).toBe(53);
    const sizes = [0, 0, 0, 0, 0];
    for (const k of f.values()) sizes[k]!++;
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(assignFolds(people, 5, 7)).toEqual(f);
    expect(assignFolds(people, 5, 8)).not.toEqual(f);
    expect(() => assignFolds(people, 1)).toThrow(/folds/);
    expect(() => assignFolds(people.slice(0, 3), 5)).toThrow(/cannot fill/);
  });

  it('never puts one person in two folds, and never scores a comparison across folds', () => {
    const { items, dist } = synthetic(40, 6);
    for (const protocol of ['all-pairs', 'cross-session'] as const) {
      const trials = buildTrials(items, dist, protocol);
      const r = crossValidate(trials, { folds: 5, bootstrap: 50 });
      const seen = new Map<string, number>();
      for (const d of r.fold_details) for (const p of d.people) {
        expect(seen.has(p), `${p} in folds ${seen.get(p)} and ${d.fold}`).toBe(false);
        seen.set(p, d.fold);
      }
      expect(seen.size).toBe(40);
      // Samples of one person all sit in that person's fold: held + training genuine = all genuine comparisons.
      const c = trials.comparisons;
      let genuine = 0;
      let withinFoldImpostor = 0;
      for (let k = 0; k < c.score.length; k++) {
        if (c.a[k] === c.b[k]) genuine++;
        else if (seen.get(trials.people[c.a[k]!]!) === seen.get(trials.people[c.b[k]!]!)) withinFoldImpostor++;
      }
      expect(r.held_genuine).toBe(genuine);
      expect(r.held_impostor).toBe(withinFoldImpostor);
      for (const d of r.fold_details) expect(d.train_genuine + d.held_genuine).toBe(genuine);
    }
  });

  it("a held fold's thresholds do not move when its own people's scores change", () => {
    const { items, dist } = synthetic(30, 4);
    const base = crossValidate(buildTrials(items, dist, 'all-pairs'), { folds: 3, bootstrap: 0 });
    const heldPeople = new Set(base.fold_details[0]!.people);
    // Make every comparison touching fold 0 a perfect match: a leak would drag fold 0's thresholds.
    const moved = Float32Array.from(dist);
    const N = items.length;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      if (heldPeople.has(items[i]!.sample.identity) || heldPeople.has(items[j]!.sample.identity)) moved[i * N + j] = 0.01;
    }
    const after = crossValidate(buildTrials(items, moved, 'all-pairs'), { folds: 3, bootstrap: 0 });
    expect(after.fold_details[0]!.thresholds).toEqual(base.fold_details[0]!.thresholds);
    expect(after.fold_details[0]!.fpir_threshold).toBe(base.fold_details[0]!.fpir_threshold);
    expect(after.fold_details[1]!.thresholds).not.toEqual(base.fold_details[1]!.thresholds);
  });

  it('reports pooled held figures with bootstrap intervals that contain them', () => {
    const { items, dist } = synthetic(40, 6);
    const r = crossValidate(buildTrials(items, dist, 'all-pairs'), { folds: 5, bootstrap: 200, seed: 2 });
    expect(r.eer.value).toBeGreaterThanOrEqual(0);
    expect(r.eer.ci90[0]).toBeLessThanOrEqual(r.eer.value + 1e-12);
    expect(r.eer.ci90[1]).toBeGreaterThanOrEqual(r.eer.value - 1e-12);
    expect(r.by_session.map((b) => b.kind)).toEqual(['same-session', 'cross-session']);
    expect(r.by_session.reduce((s, b) => s + b.genuine, 0)).toBe(r.held_genuine);
    expect(r.by_person).toHaveLength(40);
    expect(r.identification.rank1.value).toBeGreaterThan(0.9);
    expect(r.settings.length).toBeGreaterThan(0);
  });
});
