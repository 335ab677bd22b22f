// Fits the synthetic gallery model (synthetic.ts) to real templates: per-cell label probabilities, masks and
// genuine shifts are counted; the latent blur is fitted to the impostor distances and the capture-noise
// distribution to the genuine distances, each by a small grid search. Pure: takes templates, returns the model
// and a side-by-side comparison of real and synthetic statistics.
import { matchScore, popcount, shiftedDistance } from '../../src/biometrics/match.ts';
import type { FeatureCode, Template } from '../../src/biometrics/types.ts';
import { rng, type Rng } from '../../src/biometrics/identify/random.ts';
import { GRID, capture, person, type SyntheticModel } from '../../src/biometrics/identify/synthetic.ts';

export interface Labelled {
  identity: string;
  template: Template;
}

export interface Distribution {
  count: number;
  mean: number;
  sd: number;
  /** Quantiles at 1, 5, 25, 50, 75, 95, 99 %. */
  q: number[];
}

export interface Calibration {
  model: SyntheticModel;
  real: { genuine: Distribution; impostor: Distribution; bitProb: number[] };
  synthetic: { genuine: Distribution; impostor: Distribution; bitProb: number[] };
  /** Mean |p_real − p_synthetic| over every (cell, plane) bit. */
  bitProbMeanAbsDiff: number;
}

const QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

export function distribution(xs: number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length));
  return { count: s.length, mean, sd, q: QS.map((p) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN) };
}

function pairs(samples: Labelled[], r: Rng, impostorCap: number): { genuine: Array<[Template, Template]>; impostor: Array<[Template, Template]> } {
  const genuine: Array<[Template, Template]> = [];
  const impostor: Array<[Template, Template]> = [];
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      if (samples[i]!.identity === samples[j]!.identity) genuine.push([samples[i]!.template, samples[j]!.template]);
      else impostor.push([samples[i]!.template, samples[j]!.template]);
    }
  }
  // A fixed random subset of impostor pairs keeps the fit quick.
  for (let i = impostor.length - 1; i > 0; i--) {
    const j = (r() * (i + 1)) | 0;
    [impostor[i], impostor[j]] = [impostor[j]!, impostor[i]!];
  }
  return { genuine, impostor: impostor.slice(0, impostorCap) };
}

/** Per-(cell, plane) probability that the bit is 1, over valid cells. */
export function bitProbabilities(templates: Template[]): number[] {
  const planes = templates[0]!.codes[0]!.planes;
  const ones = new Float64Array(GRID * GRID * planes);
  const valid = new Float64Array(GRID * GRID);
  for (const t of templates) {
    const c = t.codes[0]!;
    for (let r = 0; r < GRID; r++) {
      for (let col = 0; col < GRID; col++) {
        if (((c.mask[r]! >>> col) & 1) === 0) continue;
        valid[r * GRID + col]!++;
        for (let p = 0; p < planes; p++) ones[(r * GRID + col) * planes + p]! += (c.bits[p * GRID + r]! >>> col) & 1;
      }
    }
  }
  return Array.from(ones, (o, i) => o / Math.max(1, valid[Math.floor(i / planes)]!));
}

export function calibrate(samples: Labelled[], opts: { seed?: number; trials?: number } = {}): Calibration {
  const r = rng(opts.seed ?? 7);
  const trials = opts.trials ?? 150;
  const first = samples[0]!.template;
  const planes = first.codes[0]!.planes;
  // Counted statistics: the cell values that occur (others fold into their nearest kept value), per-cell value
  // probabilities (add-half smoothing), masks, genuine best shifts.
  const cellValue = (c: FeatureCode, row: number, col: number) => {
    let v = 0;
    for (let p = 0; p < planes; p++) v |= ((c.bits[p * GRID + row]! >>> col) & 1) << p;
    return v;
  };
  const freq = new Map<number, number>();
  let cells = 0;
  for (const { template } of samples) {
    const c = template.codes[0]!;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (((c.mask[row]! >>> col) & 1) === 0) continue;
        const v = cellValue(c, row, col);
        freq.set(v, (freq.get(v) ?? 0) + 1);
        cells++;
      }
    }
  }
  const values = orderValues([...freq.entries()].filter(([, f]) => f >= 0.002 * cells).map(([v]) => v), freq);
  const index = (v: number) => {
    let best = 0;
    for (let k = 1; k < values.length; k++) if (popcount(values[k]! ^ v) < popcount(values[best]! ^ v)) best = k;
    return best;
  };
  const indexOf = new Map([...freq.keys()].map((v) => [v, index(v)]));
  const n = values.length;
  const counts = new Float64Array(GRID * GRID * n).fill(0.5);
  for (const { template } of samples) {
    const c = template.codes[0]!;
    for (let row = 0; row < GRID; row++) {
      for (let col = 0; col < GRID; col++) {
        if (((c.mask[row]! >>> col) & 1) === 0) continue;
        counts[(row * GRID + col) * n + indexOf.get(cellValue(c, row, col))!]!++;
      }
    }
  }
  const valueProb: number[] = [];
  for (let cell = 0; cell < GRID * GRID; cell++) {
    let total = 0;
    for (let k = 0; k < n; k++) total += counts[cell * n + k]!;
    for (let k = 0; k < n; k++) valueProb.push(counts[cell * n + k]! / total);
  }
  const { genuine, impostor } = pairs(samples, r, 2000);
  const shiftCount = new Map<string, number>();
  for (const [a, b] of genuine) {
    let best = 2;
    let at = '0,0';
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const d = shiftedDistance(a.codes[0]!, b.codes[0]!, dx, dy, 0.35 * GRID * GRID);
        if (d < best) [best, at] = [d, `${dx},${dy}`];
      }
    }
    shiftCount.set(at, (shiftCount.get(at) ?? 0) + 1);
  }
  const shifts: Array<[number, number, number]> = [...shiftCount.entries()].map(([k, w]) => {
    const [dx, dy] = k.split(',').map(Number) as [number, number];
    return [dx, dy, w];
  });
  const kind = first.coder === 'compcode' ? 'labels' : 'planes';
  const model: SyntheticModel = {
    kind,
    bitProb: kind === 'planes' ? bitProbabilities(samples.map((s) => s.template)) : [],
    planeChol: kind === 'planes' ? cholesky(planeCorrelation(samples.map((s) => s.template)), planes) : [],
    coder: first.coder,
    coderParams: first.coderParams,
    planes,
    values,
    valueProb,
    blur: 0.8,
    genuineMu: -1,
    genuineSigma: 0.5,
    shifts,
    masks: samples.map((s) => Array.from(s.template.codes[0]!.mask)),
    source: `fitted to ${samples.length} dev templates`,
  };

  const realGen = distribution(genuine.map(([a, b]) => matchScore(a, b)));
  const realImp = distribution(impostor.map(([a, b]) => matchScore(a, b)));
  const synthPairs = (m: SyntheticModel, same: boolean, seed: number): number[] => {
    const rr = rng(seed);
    return Array.from({ length: trials }, () => {
      const p = person(m, rr);
      const q = same ? p : person(m, rr);
      const one = (x: typeof p, shift: boolean) => ({ ...first, codes: [capture(m, x, rr, { shift })] });
      return matchScore(one(p, false), one(q, true));
    });
  };
  // Impostor spread depends on the spatial correlation (fewer degrees of freedom → wider): fit the blur.
  let bestErr = Infinity;
  for (const blur of [0.6, 0.9, 1.3, 1.8, 2.4]) {
    const d = distribution(synthPairs({ ...model, blur }, false, 11));
    const err = Math.abs(d.mean - realImp.mean) / realImp.sd + Math.abs(d.sd - realImp.sd) / realImp.sd;
    if (err < bestErr) [bestErr, model.blur] = [err, blur];
  }
  // Genuine distances depend on the capture noise: fit its log-normal by quantiles.
  bestErr = Infinity;
  for (let mu = -4; mu <= 0.01; mu += 0.5) {
    for (const sigma of [0.2, 0.6, 1.0]) {
      const d = distribution(synthPairs({ ...model, genuineMu: mu, genuineSigma: sigma }, true, 13));
      const err = d.q.slice(1, 6).reduce((s, q, i) => s + Math.abs(q - realGen.q[i + 1]!), 0);
      if (err < bestErr) [bestErr, model.genuineMu, model.genuineSigma] = [err, mu, sigma];
    }
  }
  const synthGen = distribution(synthPairs(model, true, 17));
  const synthImp = distribution(synthPairs(model, false, 19));
  const rs = rng(23);
  const synthTemplates = Array.from({ length: 256 }, () => ({ ...first, codes: [capture(model, person(model, rs), rs)] }));
  const realBits = bitProbabilities(samples.map((s) => s.template));
  const synthBits = bitProbabilities(synthTemplates);
  const bitProbMeanAbsDiff = realBits.reduce((s, p, i) => s + Math.abs(p - synthBits[i]!), 0) / realBits.length;
  return {
    model,
    real: { genuine: realGen, impostor: realImp, bitProb: realBits },
    synthetic: { genuine: synthGen, impostor: synthImp, bitProb: synthBits },
    bitProbMeanAbsDiff,
  };
}

/** A chain through the values, most frequent first, each next value the nearest (fewest differing bits) left. */
function orderValues(values: number[], freq: Map<number, number>): number[] {
  const left = [...values].sort((a, b) => freq.get(b)! - freq.get(a)!);
  const out = [left.shift()!];
  while (left.length > 0) {
    const last = out[out.length - 1]!;
    let best = 0;
    for (let i = 1; i < left.length; i++) if (popcount(left[i]! ^ last) < popcount(left[best]! ^ last)) best = i;
    out.push(left.splice(best, 1)[0]!);
  }
  return out;
}

/**
 * Latent correlation of every pair of planes, from how often their bits agree in the same cell: for a Gaussian
 * pair thresholded at its median, P(agree) = 1/2 + asin(ρ)/π (an approximation where bit probabilities differ from 1/2).
 */
function planeCorrelation(templates: Template[]): number[] {
  const planes = templates[0]!.codes[0]!.planes;
  const agree = new Float64Array(planes * planes);
  let cells = 0;
  for (const t of templates) {
    const c = t.codes[0]!;
    for (let row = 0; row < GRID; row++) {
      const m = c.mask[row]!;
      cells += popcount(m);
      for (let p = 0; p < planes; p++) {
        for (let q = 0; q < p; q++) agree[p * planes + q]! += popcount(~(c.bits[p * GRID + row]! ^ c.bits[q * GRID + row]!) & m);
      }
    }
  }
  const corr = new Array<number>(planes * planes).fill(0);
  for (let p = 0; p < planes; p++) {
    corr[p * planes + p] = 1;
    for (let q = 0; q < p; q++) {
      const rho = Math.sin(Math.PI * (agree[p * planes + q]! / Math.max(1, cells) - 0.5));
      corr[p * planes + q] = rho;
      corr[q * planes + p] = rho;
    }
  }
  return corr;
}

/** Lower Cholesky factor; off-diagonals shrink until the matrix is positive definite. */
export function cholesky(a: number[], n: number): number[] {
  for (let shrink = 1; shrink > 0; shrink -= 0.05) {
    const L = new Array<number>(n * n).fill(0);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = i === j ? 1 : a[i * n + j]! * shrink;
        for (let k = 0; k < j; k++) sum -= L[i * n + k]! * L[j * n + k]!;
        if (i === j) {
          if (sum <= 1e-9) ok = false;
          else L[i * n + i] = Math.sqrt(sum);
        } else L[i * n + j] = sum / L[j * n + j]!;
      }
    }
    if (ok) return L;
  }
  return Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
}
