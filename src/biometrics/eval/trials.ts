// Which samples are enrolled and which probe, per protocol: the one place the protocols are defined. Pure.
//
// - all-pairs: every sample is compared once with every other sample (unordered pairs); genuine = same
//   identity. Identification is leave-one-out: each sample searches a gallery holding, per identity, all
//   other samples of that identity as one multi-capture template.
// - cross-session: each identity enrols its session-1 samples (CASIA 01–03) as one multi-capture template and
//   is probed with its session-2 samples (04–06); identification uses the same gallery and probes.
// A multi-capture template's score is the minimum over its captures (matchScore), so every score is derived
// from one matrix of capture-against-capture distances.
import type { Sample } from './dataset.ts';
import { appendAll } from '../../util/arrays.ts';

export type Protocol = 'all-pairs' | 'cross-session';

/**
 * Every comparison of a protocol, by person index (`people[i]`). Genuine when `a[k] === b[k]`. `crossSession[k]`
 * is 1 when the two sides come from different sessions.
 */
export interface Comparisons {
  score: Float32Array;
  a: Int32Array;
  b: Int32Array;
  crossSession: Uint8Array;
}

/** 1:N searches: row s of `scores` holds probe s's distance to each enrolled person (NaN: not in the gallery). */
export interface Searches {
  probe: Int32Array;
  /** searches × people, row-major. */
  scores: Float32Array;
}

export interface Trials {
  protocol: Protocol;
  people: string[];
  comparisons: Comparisons;
  searches: Searches;
  enrolled: string;
  probed: string;
  galleryNote: string;
  /** Identities with no usable enrolment sample (failure to enrol). */
  fteCount: number;
}

export interface TrialSample {
  sample: Sample;
  /** False when the capture failed to acquire (it takes part in no comparison). */
  ok: boolean;
}

/** Builds a protocol's comparisons and searches from the capture-against-capture distance matrix `dist` (n × n). */
export function buildTrials(items: readonly TrialSample[], dist: Float32Array, protocol: Protocol, enrolCaptures = Infinity): Trials {
  const n = items.length;
  const people = [...new Set(items.map((e) => e.sample.identity))];
  const personOf = new Map(people.map((p, i) => [p, i]));
  const pid = items.map((e) => personOf.get(e.sample.identity)!);
  const byPerson: number[][] = people.map(() => []);
  items.forEach((_, i) => byPerson[pid[i]!]!.push(i));
  const ok = (i: number): boolean => items[i]!.ok;
  const minOver = (idx: readonly number[], j: number): number => idx.reduce((m, i) => Math.min(m, dist[i * n + j]!), 1);
  const score: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const cross: number[] = [];
  const probe: number[] = [];
  const rows: Float32Array[] = [];
  const P = people.length;
  let fteCount = 0;
  let enrolled: string;
  let probed: string;
  let galleryNote: string;
  if (protocol === 'all-pairs') {
    enrolled = 'every sample, in turn';
    probed = 'every other sample (each unordered pair once)';
    galleryNote = 'leave-one-out: per identity, all its other samples as one template';
    for (let i = 0; i < n; i++) {
      if (!ok(i)) continue;
      for (let j = i + 1; j < n; j++) {
        if (!ok(j)) continue;
        score.push(dist[i * n + j]!);
        a.push(pid[i]!);
        b.push(pid[j]!);
        cross.push(items[i]!.sample.session !== items[j]!.sample.session ? 1 : 0);
      }
      const row = new Float32Array(P).fill(NaN);
      for (let p = 0; p < P; p++) {
        const refs = byPerson[p]!.filter((k) => k !== i && ok(k));
        if (refs.length) row[p] = minOver(refs, i);
      }
      probe.push(pid[i]!);
      rows.push(row);
    }
  } else {
    enrolled = `session 1 of each identity (CASIA samples 01–03${Number.isFinite(enrolCaptures) ? `, the first ${enrolCaptures}` : ''}), kept as sub-codes of one template`;
    probed = 'session 2 of each identity (CASIA samples 04–06), each probe against every enrolled identity';
    galleryNote = 'one multi-capture template per identity enrolled from session 1';
    const gallery: Array<number[] | null> = byPerson.map((idx) => {
      // The first `enrolCaptures` acquired session-1 captures (in sample order), as sub-codes.
      const refs = idx.filter((k) => items[k]!.sample.session === 1 && ok(k)).sort((x, y) => items[x]!.sample.index - items[y]!.sample.index).slice(0, enrolCaptures);
      return refs.length ? refs : null;
    });
    fteCount = gallery.filter((g) => g === null).length;
    const g = galleryComparisons(items, dist, pid, P, gallery.map((refs) => (refs ? { refs, score: (j: number) => minOver(refs, j) } : null)), (j) => items[j]!.sample.session === 2);
    // Appended element by element: a spread passes one call argument per comparison and overflows the stack
    // past about 125,000 (PolyU cross-session: 1,500 probes × 250 palms).
    appendAll(score, g.score);
    appendAll(a, g.a);
    appendAll(b, g.b);
    appendAll(cross, g.cross);
    appendAll(probe, g.probe);
    appendAll(rows, g.rows);
  }
  const scores = new Float32Array(rows.length * P);
  rows.forEach((r, s) => scores.set(r, s * P));
  return {
    protocol,
    people,
    comparisons: { score: Float32Array.from(score), a: Int32Array.from(a), b: Int32Array.from(b), crossSession: Uint8Array.from(cross) },
    searches: { probe: Int32Array.from(probe), scores },
    enrolled,
    probed,
    galleryNote,
    fteCount,
  };
}

/** One gallery entry of a custom cross-session protocol: its enrolment captures and its distance to a sample. */
export interface GalleryEntry {
  refs: readonly number[];
  score: (j: number) => number;
}

function galleryComparisons(items: readonly TrialSample[], dist: Float32Array, pid: readonly number[], P: number, gallery: ReadonlyArray<GalleryEntry | null>, isProbe: (j: number) => boolean) {
  const out = { score: [] as number[], a: [] as number[], b: [] as number[], cross: [] as number[], probe: [] as number[], rows: [] as Float32Array[] };
  for (let j = 0; j < items.length; j++) {
    if (!items[j]!.ok || !isProbe(j)) continue;
    const row = new Float32Array(P).fill(NaN);
    for (let p = 0; p < P; p++) {
      const e = gallery[p];
      if (!e) continue;
      const d = e.score(j);
      row[p] = d;
      out.score.push(d);
      out.a.push(pid[j]!);
      out.b.push(p);
      out.cross.push(1);
    }
    out.probe.push(pid[j]!);
    out.rows.push(row);
  }
  return out;
}

/**
 * A cross-session protocol with a gallery chosen by the caller (`galleryOf(person's sample indices)`, which may
 * score with update slots) and probes chosen by `isProbe`: the eval's template-update and pose-selection rows.
 */
export function customTrials(items: readonly TrialSample[], dist: Float32Array, galleryOf: (person: string, idx: readonly number[]) => GalleryEntry | null, isProbe: (j: number) => boolean, note: { enrolled: string; probed: string }): Trials {
  const people = [...new Set(items.map((e) => e.sample.identity))];
  const personOf = new Map(people.map((p, i) => [p, i]));
  const pid = items.map((e) => personOf.get(e.sample.identity)!);
  const byPerson: number[][] = people.map(() => []);
  items.forEach((_, i) => byPerson[pid[i]!]!.push(i));
  const gallery = people.map((p, i) => galleryOf(p, byPerson[i]!));
  const g = galleryComparisons(items, dist, pid, people.length, gallery, isProbe);
  const scores = new Float32Array(g.rows.length * people.length);
  g.rows.forEach((r, s) => scores.set(r, s * people.length));
  return {
    protocol: 'cross-session',
    people,
    comparisons: { score: Float32Array.from(g.score), a: Int32Array.from(g.a), b: Int32Array.from(g.b), crossSession: Uint8Array.from(g.cross) },
    searches: { probe: Int32Array.from(g.probe), scores },
    enrolled: note.enrolled,
    probed: note.probed,
    galleryNote: 'one multi-capture template per identity',
    fteCount: gallery.filter((e) => e === null).length,
  };
}
