// Error rates as ISO/IEC 19795-1 (verification) and NIST FRVT/IREX 1:N reports define them, for distance
// scores (lower = more similar; a comparison is accepted when score <= threshold). Pure functions.

export interface OperatingPoint {
  /** The FMR asked for. */
  target_fmr: number;
  /** The most lenient threshold whose FMR on these impostors does not exceed the target. */
  threshold: number;
  fmr: number;
  fnmr: number;
  /** True when the impostor count is too small to measure the target (fewer than 1 / target comparisons). */
  below_resolution: boolean;
}

export interface VerificationResult {
  genuine: number;
  impostor: number;
  eer: number;
  eer_threshold: number;
  at: OperatingPoint[];
  /** DET curve: (fmr, fnmr) at each distinct threshold, thinned. */
  det: Array<{ threshold: number; fmr: number; fnmr: number }>;
}

/** Equal error rate, FNMR at the target FMRs, and the DET curve. */
export function verification(genuine: readonly number[], impostor: readonly number[], targets: readonly number[] = [1e-2, 1e-3, 1e-4]): VerificationResult {
  const g = Float64Array.from(genuine).sort();
  const im = Float64Array.from(impostor).sort();
  const fmrAt = (t: number): number => upperCount(im, t) / im.length;
  const fnmrAt = (t: number): number => 1 - upperCount(g, t) / g.length;
  const thresholds = Float64Array.from(new Set([...g, ...im])).sort();
  let eer = 1;
  let eerT = 0;
  let bestGap = Infinity;
  const det: VerificationResult['det'] = [];
  let prev: { fmr: number; fnmr: number } | null = null;
  for (const t of thresholds) {
    const fmr = fmrAt(t);
    const fnmr = fnmrAt(t);
    if (Math.abs(fmr - fnmr) < bestGap) { bestGap = Math.abs(fmr - fnmr); eer = (fmr + fnmr) / 2; eerT = t; }
    if (!prev || Math.abs(Math.log10(fmr + 1e-9) - Math.log10(prev.fmr + 1e-9)) > 0.01 || Math.abs(fnmr - prev.fnmr) > 0.002) {
      det.push({ threshold: t, fmr, fnmr });
      prev = { fmr, fnmr };
    }
  }
  const at = targets.map((target) => operatingPoint(g, im, target));
  return { genuine: g.length, impostor: im.length, eer, eer_threshold: eerT, at, det };
}

function operatingPoint(g: Float64Array, im: Float64Array, target: number): OperatingPoint {
  // At most floor(target × n) impostors may be accepted; the threshold sits just below the next one.
  const k = Math.floor(target * im.length + 1e-9);
  const next = k < im.length ? im[k]! : Infinity;
  let threshold = next === Infinity ? (g[g.length - 1] ?? 1) : prevFloat(next);
  if (k === 0 && im.length > 0) threshold = prevFloat(im[0]!);
  const fmr = upperCount(im, threshold) / im.length;
  const fnmr = g.length ? 1 - upperCount(g, threshold) / g.length : 0;
  return { target_fmr: target, threshold, fmr, fnmr, below_resolution: im.length * target < 1 };
}

/** Number of sorted values <= t. */
function upperCount(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function prevFloat(x: number): number {
  return x - Math.max(Math.abs(x) * 1e-12, 1e-12);
}

/** One 1:N search: the probe's distance to every gallery entry (by identity), and its own identity. */
export interface Search {
  probeId: string;
  scores: Map<string, number>;
}

export interface IdentificationResult {
  searches: number;
  gallery_size: number;
  /** Closed set: share of mated searches whose best candidate is the mate. */
  rank1: number;
  /** Open set, NIST definitions: FNIR at the threshold where FPIR = target (mate must be rank 1 and pass the threshold). */
  fpir_target: number;
  fnir_at_fpir: number;
  threshold: number;
  /** Non-mated searches: each probe against the gallery without its own identity (gallery size − 1). */
  nonmated_searches: number;
}

/**
 * Closed-set rank-1 and open-set FNIR at FPIR. Each probe gives one mated search (full gallery) and one
 * non-mated search (its own identity removed), as NIST IREX/FRVT 1:N do with a closed dataset.
 */
export function identification(searches: readonly Search[], fpirTarget = 0.01): IdentificationResult {
  let rank1 = 0;
  const matedOk: number[] = []; // mate's score when it is rank 1, else Infinity
  const nonMatedBest: number[] = [];
  let gallery = 0;
  for (const s of searches) {
    gallery = Math.max(gallery, s.scores.size);
    let best = Infinity;
    let bestId = '';
    let bestOther = Infinity;
    for (const [id, v] of s.scores) {
      if (v < best) { best = v; bestId = id; }
      if (id !== s.probeId && v < bestOther) bestOther = v;
    }
    const mate = s.scores.get(s.probeId);
    if (mate === undefined) continue;
    const top = bestId === s.probeId || mate <= best;
    if (top && mate < bestOther) rank1++;
    matedOk.push(top && mate < bestOther ? mate : Infinity);
    nonMatedBest.push(bestOther);
  }
  const nm = Float64Array.from(nonMatedBest).sort();
  const k = Math.floor(fpirTarget * nm.length + 1e-9);
  const threshold = k < nm.length ? prevFloat(nm[k]!) : Infinity;
  const fnir = matedOk.length ? matedOk.filter((v) => !(v <= threshold)).length / matedOk.length : 0;
  return {
    searches: matedOk.length,
    gallery_size: gallery,
    rank1: matedOk.length ? rank1 / matedOk.length : 0,
    fpir_target: fpirTarget,
    fnir_at_fpir: fnir,
    threshold,
    nonmated_searches: nm.length,
  };
}
