// `palmpay eval`: ISO/IEC 19795-1 style evaluation of the palm-vein recogniser on a folder of images.
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';
import { DEFAULT_BLUR_SIGMAS } from '../../biometrics/eval/blur.ts';

interface EvalCliOptions {
  data: string;
  protocol: string;
  json?: string;
  det?: string;
  dumpRoi?: string;
  coder?: string;
  perturb?: string;
  folds: string;
  seed: string;
  bootstrap: string;
  roi?: boolean;
  matcher: string;
  identities?: string;
  blur?: string | boolean;
  enrolment?: boolean;
}

function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new PalmPayError('EVAL_USAGE', `${name} must be an integer ≥ ${min} (got ${v})`);
  return n;
}

/** `--blur` alone = the default widths; `--blur 1,2.5` = these (each in (0, 16] ROI pixels). */
function parseSigmas(v: string | boolean): number[] {
  if (v === true) return [...DEFAULT_BLUR_SIGMAS];
  const parts = String(v).split(',').map((x) => x.trim());
  const sigmas = parts.map((x) => (/^\d+(?:\.\d+)?$/.test(x) ? Number(x) : NaN));
  if (!sigmas.length || sigmas.some((x) => !(x > 0 && x <= 16))) throw new PalmPayError('EVAL_USAGE', `--blur ${String(v)}: comma-separated σ in ROI pixels, each in (0, 16]`);
  return sigmas;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate palm-vein recognition on a data set (EER, FNMR at FMR, FTA, rank-1, FNIR at FPIR, DET curve)')
    .requiredOption('--data <dir>', 'folder of <id>_l_940_<n>.jpg files (CASIA) or <identity>/<sample>.<jpg|png>')
    .option('--protocol <name>', 'all-pairs | cross-session (enrol session 1, probe session 2)', 'all-pairs')
    .option('--json <file>', 'write the full report as JSON')
    .option('--det <file.svg>', 'write the DET curve as SVG')
    .option('--dump-roi <dir>', 'write every ROI as PNG for inspection')
    .option('--coder <id>', 'compcode | bocv | ordinal (default: the configured coder)')
    .option('--perturb <spec>', 'warp each image once by a seeded random similarity, e.g. rotate=30,scale=0.85-1.1,seed=1 (rotation ±degrees about the frame centre)')
    .option('--folds <k>', 'person-disjoint folds: thresholds fitted on the other folds, figures from the held folds (0: off)', '5')
    .option('--seed <n>', 'seed of the fold split and the bootstrap', '1')
    .option('--bootstrap <n>', 'bootstrap replicates (people resampled) for the 90 % intervals', '1000')
    .option('--identities <n>', 'only the first N identities (sorted): a quick subsample')
    .option('--roi', 'the images are pre-cropped palm ROIs (e.g. PolyU 128×128): no landmark step, straight to the coder')
    .option('--blur [sigmas]', 'blur check (needs --folds): blur each acquired capture by Gaussians of these σ in ROI pixels (default 1,2,3,4), noise added back, and report how many copies that no longer match are rejected and how many sharp captures are kept')
    .option('--enrolment', 'with --protocol cross-session and --folds: also template update after a confident match (enrol session 1, update with the first session-2 capture, probe the rest; poisoning attempts) and enrolment captures chosen to span pose against random ones')
    .option('--matcher <name>', 'elastic (blocks refined after the global shift; the production matcher) | rigid (global shift only)', 'elastic')
    .action(async (o: EvalCliOptions) => {
      if (o.protocol !== 'all-pairs' && o.protocol !== 'cross-session') {
        throw new PalmPayError('EVAL_USAGE', `unknown protocol ${o.protocol} (all-pairs or cross-session)`);
      }
      if (o.coder && !['compcode', 'bocv', 'ordinal'].includes(o.coder)) throw new PalmPayError('EVAL_USAGE', `unknown coder ${o.coder}`);
      const folds = intOption('--folds', o.folds, 0);
      if (folds === 1) throw new PalmPayError('EVAL_USAGE', '--folds must be 0 (off) or at least 2');
      const seed = intOption('--seed', o.seed, 0);
      const bootstrap = intOption('--bootstrap', o.bootstrap, 0);
      if (o.matcher !== 'rigid' && o.matcher !== 'elastic') throw new PalmPayError('EVAL_USAGE', `unknown matcher ${o.matcher} (rigid or elastic)`);
      if (o.roi && (o.perturb || o.dumpRoi)) throw new PalmPayError('EVAL_USAGE', '--roi images have no landmarks to perturb or ROI to dump');
      const blurSigmas = o.blur === undefined ? undefined : parseSigmas(o.blur);
      if (blurSigmas && !folds) throw new PalmPayError('EVAL_USAGE', '--blur is judged on the held folds: it needs --folds ≥ 2');
      if (o.enrolment && (o.protocol !== 'cross-session' || !folds)) throw new PalmPayError('EVAL_USAGE', '--enrolment needs --protocol cross-session and --folds ≥ 2');
      const { parsePerturb } = await import('../../biometrics/eval/perturb.ts');
      const perturb = o.perturb !== undefined ? parsePerturb(o.perturb) : undefined;
      const { writeFileSync } = await import('node:fs');
      const { SingleBar, Presets } = await import('cli-progress');
      const { runEvaluation, EVAL_MATCHERS } = await import('../../biometrics/eval/runner.ts');
      const { formatReport } = await import('../../biometrics/eval/report.ts');
      const { detSvg } = await import('../../biometrics/eval/det-svg.ts');
      const bar = new SingleBar({ format: '{phase} [{bar}] {value}/{total}', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
      let phase = '';
      const report = await runEvaluation({
        data: o.data,
        protocol: o.protocol,
        dumpRoi: o.dumpRoi,
        ...(perturb ? { perturb } : {}),
        ...(o.roi ? { roi: true } : {}),
        ...(o.identities !== undefined ? { identities: intOption('--identities', o.identities, 2) } : {}),
        ...(folds ? { crossValidation: { folds, seed, bootstrap } } : {}),
        matcher: EVAL_MATCHERS[o.matcher],
        ...(blurSigmas ? { blurSigmas } : {}),
        ...(o.enrolment ? { enrolmentStudy: true } : {}),
        extract: o.coder ? { coder: o.coder as 'compcode' | 'bocv' | 'ordinal' } : {},
        onProgress: (p, done, total) => {
          if (p !== phase) {
            if (phase) bar.stop();
            phase = p;
            bar.start(total, 0, { phase: p === 'extract' ? 'extracting' : 'matching ' });
          }
          bar.update(done, { phase: p === 'extract' ? 'extracting' : 'matching ' });
        },
      });
      bar.stop();
      console.log(formatReport(report));
      if (o.json) writeFileSync(o.json, JSON.stringify({ ...report, verification: { ...report.verification, det: report.verification.det } }, null, 2));
      if (o.det) {
        const title = `DET, ${report.protocol}, ${report.coder}, ${report.identities} ids / ${report.images} images`;
        writeFileSync(o.det, detSvg([{ label: report.protocol, points: report.verification.det, eer: report.eer }], title));
      }
    });
}
