// Held-fold measurements of how a template is built, beyond the plain cross-session protocol. Pure.
// - Template update (template-update.ts): enrol from session 1, offer each person's first session-2 capture as an
//   update, probe with the rest of session 2; the same probes without the update; and the poisoning attempts of the
//   same captures offered to every OTHER person's template (the attacker not enrolled: the worst case).
// - Pose selection: enrol N session-1 captures chosen to span pose (the N whose smallest mutual distance is largest:
//   the most different views of the palm) against N chosen at random, same probes.
// Thresholds are fitted on the training folds (folds.ts); the update rule's scores are fixed constants, not fitted.
import { mulberry32 } from '../../util/random.ts';
import { DECISION_THRESHOLD } from '../config.ts';
import { admission, guardedScore, TEMPLATE_UPDATE_POLICY, type TemplateUpdatePolicy } from '../template-update.ts';
import { crossValidate, type CrossValOptions, type Estimate } from './folds.ts';
import { customTrials, type GalleryEntry, type TrialSample } from './trials.ts';
import { maxOf } from '../../util/arrays.ts';

export interface HeldRow {
  genuine: number;
  eer: Estimate;
  fnmr_at_fmr_1e4: Estimate;
  rank1: Estimate;
  fnir_at_fpir: Estimate;
  /** Mean held genuine distance (lower = enrolment closer to later captures), for differences below the error counts' resolution. */
  genuine_mean: number;
  genuine_worst: number;
  /**
   * False accepts: impostor comparisons at or under the production threshold (DECISION_THRESHOLD, fixed, not fitted)
   * of all impostor comparisons; held false matches at the folds' FMR 0.01 % thresholds; the closest impostor score.
   */
  false_accepts: { impostors: number; at_decision_threshold: number; held_at_fmr_1e4: number; held_impostors: number; best_impostor: number };
}

export interface TemplateUpdateRow {
  enrol_captures: number;
  /** none, or the rule without / with a PIN checked in the same transaction. */
  update: 'none' | 'strong' | 'pin';
  /** People whose own update capture was admitted / offered. */
  admitted: number;
  offered: number;
  held: HeldRow;
}

export interface TemplateUpdateReport {
  protocol: string;
  policy: TemplateUpdatePolicy;
  rows: TemplateUpdateRow[];
  /** Each person's update capture offered to every other person's template, PIN rule (the looser), attacker not enrolled. */
  poisoning: { enrol_captures: number; attempts: number; admitted: number }[];
}

export interface PoseSelectionRow {
  enrol_captures: number;
  selection: 'span' | 'random';
  /** Random: the mean over `draws` seeded draws (each held figure averaged; the intervals are those of draw 1). */
  draws: number;
  held: HeldRow;
}

interface SetView {
  items: TrialSample[];
  dist: Float32Array;
}

function held(t: ReturnType<typeof customTrials>, cv: CrossValOptions): HeldRow {
  const impostors = t.comparisons.a.filter((p, i) => p !== t.comparisons.b[i]).length;
  const targets = [1e-2, 1e-3, 1e-4, ...(impostors * 1e-5 >= 10 ? [1e-5] : [])];
  const h = crossValidate(t, { fmrTargets: targets, ...cv });
  const gen: number[] = [];
  let atDecision = 0;
  let bestImpostor = 1;
  for (let k = 0; k < t.comparisons.a.length; k++) {
    const sc = t.comparisons.score[k]!;
    if (t.comparisons.a[k] === t.comparisons.b[k]) gen.push(sc);
    else {
      if (sc <= DECISION_THRESHOLD) atDecision++;
      bestImpostor = Math.min(bestImpostor, sc);
    }
  }
  const at1e4 = h.fnmr_at_fmr.find((p) => p.target_fmr === 1e-4)!;
  return {
    genuine: h.held_genuine,
    eer: h.eer,
    fnmr_at_fmr_1e4: h.fnmr_at_fmr.find((p) => p.target_fmr === 1e-4)!.fnmr,
    rank1: h.identification.rank1,
    fnir_at_fpir: h.identification.fnir_at_fpir,
    genuine_mean: gen.reduce((a, b) => a + b, 0) / Math.max(1, gen.length),
    genuine_worst: maxOf(gen),
    false_accepts: { impostors, at_decision_threshold: atDecision, held_at_fmr_1e4: at1e4.false_matches, held_impostors: h.held_impostor, best_impostor: bestImpostor },
  };
}

const bySample = (s: SetView) => (x: number, y: number) => s.items[x]!.sample.index - s.items[y]!.sample.index;

export function templateUpdateEval(s: SetView, cv: CrossValOptions, enrolCounts: readonly number[] = [1, 3], policy: TemplateUpdatePolicy = TEMPLATE_UPDATE_POLICY): TemplateUpdateReport {
  const n = s.items.length;
  const minOver = (idx: readonly number[], j: number): number => idx.reduce((m, i) => Math.min(m, s.dist[i * n + j]!), 1);
  const ok = (i: number): boolean => s.items[i]!.ok;
  const people = [...new Set(s.items.map((e) => e.sample.identity))];
  const idxOf = new Map(people.map((p) => [p, [] as number[]]));
  s.items.forEach((e, i) => idxOf.get(e.sample.identity)!.push(i));
  // Each person's update capture: the first acquired session-2 capture; the other session-2 captures probe.
  const candidate = new Map(people.map((p) => [p, idxOf.get(p)!.filter((i) => ok(i) && s.items[i]!.sample.session === 2).sort(bySample(s))[0]]));
  const candidates = new Set([...candidate.values()].filter((x): x is number => x !== undefined));
  const isProbe = (j: number): boolean => s.items[j]!.sample.session === 2 && !candidates.has(j);
  const rows: TemplateUpdateRow[] = [];
  const poisoning: TemplateUpdateReport['poisoning'] = [];
  for (const k of enrolCounts) {
    const refsOf = new Map(people.map((p) => [p, idxOf.get(p)!.filter((i) => ok(i) && s.items[i]!.sample.session === 1).sort(bySample(s)).slice(0, k)]));
    const enrolled = people.filter((p) => refsOf.get(p)!.length);
    const nearestOther = (j: number, except: readonly string[]): number | null => {
      let m: number | null = null;
      for (const q of enrolled) if (!except.includes(q)) m = Math.min(m ?? 1, minOver(refsOf.get(q)!, j));
      return m;
    };
    for (const update of ['none', 'strong', 'pin'] as const) {
      let admitted = 0;
      let offered = 0;
      const galleryOf = (p: string): GalleryEntry | null => {
        const refs = refsOf.get(p)!;
        if (!refs.length) return null;
        const c = candidate.get(p);
        let slot: number | null = null;
        if (update !== 'none' && c !== undefined) {
          offered++;
          if (!admission(minOver(refs, c), nearestOther(c, [p]), update === 'pin', policy)) {
            slot = c;
            admitted++;
          }
        }
        return { refs, score: (j) => (slot === null ? minOver(refs, j) : guardedScore(minOver(refs, j), s.dist[slot * n + j]!, policy)) };
      };
      const t = customTrials(s.items, s.dist, galleryOf, isProbe, {
        enrolled: `the first ${k} session-1 capture(s)${update === 'none' ? '' : `, plus the first session-2 capture where the ${update} rule admits it`}`,
        probed: 'session-2 captures other than the update captures',
      });
      rows.push({ enrol_captures: k, update, admitted, offered, held: held(t, cv) });
    }
    let attempts = 0;
    let admittedBad = 0;
    for (const victim of enrolled) {
      for (const [attacker, c] of candidate) {
        if (attacker === victim || c === undefined) continue;
        attempts++;
        if (!admission(minOver(refsOf.get(victim)!, c), nearestOther(c, [victim, attacker]), true, policy)) admittedBad++;
      }
    }
    poisoning.push({ enrol_captures: k, attempts, admitted: admittedBad });
  }
  return {
    protocol:
      "enrol the first k session-1 captures; each person's first session-2 capture is offered as an update (admitted by template-update.ts's rule: anchor to the enrolment captures, margin to every other enrolled person); probes = the other session-2 captures; scores with the guard; thresholds from the training folds",
    policy,
    rows,
    poisoning,
  };
}

/** All k-subsets of `xs` (small n). */
function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs;
  return [...subsets(t, k - 1).map((r) => [h!, ...r]), ...subsets(t, k)];
}

export function poseSelectionEval(s: SetView, cv: CrossValOptions, counts: readonly number[], draws = 10): PoseSelectionRow[] {
  const n = s.items.length;
  const ok = (i: number): boolean => s.items[i]!.ok;
  const isProbe = (j: number): boolean => s.items[j]!.sample.session === 2;
  const out: PoseSelectionRow[] = [];
  const entry = (refs: number[]): GalleryEntry | null => (refs.length ? { refs, score: (j) => refs.reduce((m, i) => Math.min(m, s.dist[i * n + j]!), 1) } : null);
  const session1 = (idx: readonly number[]): number[] => idx.filter((i) => ok(i) && s.items[i]!.sample.session === 1).sort(bySample(s));
  for (const k of counts) {
    // Span: the k-subset whose closest pair is farthest apart (ties: the larger sum of distances), from the distances alone.
    const span = customTrials(s.items, s.dist, (_p, idx) => {
      let best: number[] = [];
      let key = [-1, -1];
      for (const sub of subsets(session1(idx), k)) {
        let mn = 1;
        let sum = 0;
        for (let x = 0; x < sub.length; x++) for (let y = x + 1; y < sub.length; y++) {
          const d = s.dist[sub[x]! * n + sub[y]!]!;
          mn = Math.min(mn, d);
          sum += d;
        }
        if (mn > key[0]! || (mn === key[0] && sum > key[1]!)) [best, key] = [sub, [mn, sum]];
      }
      return entry(best.length ? best : session1(idx).slice(0, k));
    }, isProbe, { enrolled: `${k} session-1 captures spanning pose`, probed: 'session 2' });
    out.push({ enrol_captures: k, selection: 'span', draws: 1, held: held(span, cv) });
    const rs: HeldRow[] = [];
    for (let d = 0; d < draws; d++) {
      const rnd = mulberry32(1000 + d);
      const t = customTrials(s.items, s.dist, (_p, idx) => {
        const pool = session1(idx);
        for (let i = pool.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [pool[i], pool[j]] = [pool[j]!, pool[i]!];
        }
        return entry(pool.slice(0, k));
      }, isProbe, { enrolled: `${k} random session-1 captures`, probed: 'session 2' });
      rs.push(held(t, cv));
    }
    const mean = (f: (r: HeldRow) => number): number => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    const avg = (f: (r: HeldRow) => Estimate): Estimate => ({ value: mean((r) => f(r).value), ci90: f(rs[0]!).ci90 });
    out.push({
      enrol_captures: k,
      selection: 'random',
      draws,
      held: { genuine: rs[0]!.genuine, eer: avg((r) => r.eer), fnmr_at_fmr_1e4: avg((r) => r.fnmr_at_fmr_1e4), rank1: avg((r) => r.rank1), fnir_at_fpir: avg((r) => r.fnir_at_fpir), genuine_mean: mean((r) => r.genuine_mean), genuine_worst: mean((r) => r.genuine_worst), false_accepts: rs[0]!.false_accepts },
    });
  }
  return out;
}
