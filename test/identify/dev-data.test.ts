// On the real dev data (CASIA MS 940 nm; skipped when ../shared/data is absent): the two-stage search gives the
// same identification results as exhaustive matching — same rank-1 for every probe, same FNIR at FPIR = 1 %.
// Protocol: identities 001–040 enrolled from session 1, all session-2 captures probe (041–050 are non-mated).
import { beforeAll, describe, expect, it } from 'vitest';
import { devDataPresent, loadDevSamples, type DevSample } from '../../bench/identify/dev-data.ts';
import type { IdentifyResult } from '../../src/biometrics/identify/identifier.ts';
import { palmIdentifier } from '../../src/biometrics/identify/palm.ts';
import { calibrate } from '../../bench/identify/calibrate.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { capture, FieldPool, modelTemplate } from '../../src/biometrics/identify/synthetic.ts';
import { fuseTemplates } from '../../src/biometrics/template.ts';
import type { Template } from '../../src/biometrics/types.ts';

const present = devDataPresent();
if (!present) console.warn('test/identify/dev-data: skipped, the dev data (../shared/data/casia-ms-940-dev) is absent');

/** FNIR at the threshold where FPIR = 1 % (the largest threshold with at most 1 % of non-mated probes accepted). */
function fnirAtFpir(mated: Array<{ best: number; correct: boolean }>, nonMated: number[], fpir = 0.01): number {
  const sorted = [...nonMated].sort((a, b) => a - b);
  const allowed = Math.floor(fpir * sorted.length);
  const t = allowed < sorted.length ? sorted[allowed]! - 1e-12 : Infinity; // accept score ≤ t
  return mated.filter((m) => !(m.correct && m.best <= t)).length / mated.length;
}

describe.skipIf(!present)('identification on the dev data', () => {
  let samples: DevSample[] = [];
  beforeAll(() => {
    samples = loadDevSamples();
  }, 240_000);

  function run(perSample: boolean, k: number) {
    const id = palmIdentifier({ k });
    const enrolled = new Set<string>();
    const byId = new Map<string, Template[]>();
    for (const s of samples) {
      if (!s.template || s.sample > 3 || Number(s.identity) > 40) continue;
      byId.set(s.identity, [...(byId.get(s.identity) ?? []), s.template]);
    }
    for (const [identity, ts] of byId) {
      enrolled.add(identity);
      if (perSample) ts.forEach((t, i) => id.enrol({ entryId: `${identity}-${i}`, personId: identity, hand: 'left', template: t }));
      else id.enrol({ entryId: identity, personId: identity, hand: 'left', template: fuseTemplates(ts) });
    }
    const probes = samples.filter((s) => s.template && s.sample >= 4);
    const outcome = (res: IdentifyResult, identity: string) => ({ best: res.scored[0]?.score ?? 1, correct: res.scored[0]?.personId === identity });
    const two: Array<ReturnType<typeof outcome>> = [];
    const all: Array<ReturnType<typeof outcome>> = [];
    const mated: boolean[] = [];
    for (const p of probes) {
      const a = id.identify(p.template!);
      const b = id.exhaustive(p.template!);
      // Rank-1 is a person (both hands, or several captures, are entries of one person).
      if (enrolled.has(p.identity)) expect(a.scored[0]?.personId, `rank-1 of ${p.file}`).toBe(b.scored[0]?.personId);
      expect(a.decision.kind, `decision for ${p.file}`).toBe(b.decision.kind);
      if (a.decision.kind === 'match' && b.decision.kind === 'match') expect(a.decision.personId).toBe(b.decision.personId);
      two.push(outcome(a, p.identity));
      all.push(outcome(b, p.identity));
      mated.push(enrolled.has(p.identity));
    }
    const fnir = (xs: typeof two) =>
      fnirAtFpir(
        xs.filter((_, i) => mated[i]),
        xs.filter((_, i) => !mated[i]).map((x) => x.best),
      );
    return { probes: probes.length, entries: id.size, fnirTwo: fnir(two), fnirAll: fnir(all), rank1: two.filter((x, i) => mated[i] && x.correct).length };
  }

  it('production setting (one fused template per person, K = 32): same rank-1 and FNIR as exhaustive', () => {
    const r = run(false, 32);
    expect(r.entries).toBeGreaterThanOrEqual(35);
    expect(r.fnirTwo).toBe(r.fnirAll);
    console.log(`dev data, fused enrolment: ${r.entries} entries, ${r.probes} probes, rank-1 ${r.rank1}, FNIR@FPIR=1% ${r.fnirTwo.toFixed(3)} (both)`);
  });

  it('harder: one entry per capture (≈120 entries, 3 per person) with K = 12: still identical', () => {
    const r = run(true, 12);
    expect(r.entries).toBeGreaterThanOrEqual(100);
    expect(r.fnirTwo).toBe(r.fnirAll);
    console.log(`dev data, per-capture enrolment: ${r.entries} entries, ${r.probes} probes, rank-1 ${r.rank1}, FNIR@FPIR=1% ${r.fnirTwo.toFixed(3)} (both)`);
  });

  it('at scale (real entries among 20 000 synthetic palms fitted to them): the screened stage 1 changes no result', () => {
    const ok = samples.flatMap((s) => (s.template ? [{ identity: s.identity, template: s.template }] : []));
    const model = calibrate(ok, { trials: 20 }).model;
    const r = rng(5);
    const pool = new FieldPool(model, r);
    // Stricter than production (DEFAULT_SCREEN also keeps at least 512 a search): 1/128 of the gallery alone.
    const id = palmIdentifier({ k: 32, initialCapacity: 20_200, screen: { fraction: 1 / 128, minKeep: 0 } });
    for (const s of samples) if (s.template && s.sample <= 3) id.enrol({ entryId: `${s.identity}-${s.sample}`, personId: s.identity, hand: 'left', template: s.template });
    for (let i = 0; i < 20_000; i++) id.enrol({ entryId: `syn${i}`, personId: `syn${i}`, hand: 'left', template: modelTemplate(model, [capture(model, pool.person(model, r), r, { exact: true })]) });
    const probes = samples.filter((s) => s.template && s.sample >= 4);
    let refined = 0;
    for (const p of probes) {
      const a = id.identify(p.template!);
      const b = id.identifyUnscreened(p.template!);
      expect(a.scored[0]?.entryId, `rank-1 of ${p.file}`).toBe(b.scored[0]?.entryId);
      // The margin is taken among each search's own K candidates, so only the decision and the match are compared.
      expect(a.decision.kind, `decision for ${p.file}`).toBe(b.decision.kind);
      if (a.decision.kind === 'match' && b.decision.kind === 'match') expect([a.decision.entryId, a.decision.score]).toEqual([b.decision.entryId, b.decision.score]);
      const search = id.coarseIndex.begin(id.probeCodes(p.template!), 32);
      search.step(Infinity);
      search.finish();
      refined += search.refined;
    }
    // The screen was at work: about 1/128 of the gallery scored exactly per probe, not all of it.
    expect(refined / probes.length).toBeLessThan(id.size / 64);
    console.log(`dev data among ${id.size - 20_000} + 20 000 synthetic: ${probes.length} probes, identical results, ${(refined / probes.length).toFixed(0)} of ${id.size} entries scored exactly per probe`);
  }, 120_000);
});
