// Human-readable summary of an evaluation report. Pure.
import type { EvalReport } from './runner.ts';

const pct = (v: number): string => `${(v * 100).toFixed(3)} %`;

export function formatReport(r: EvalReport): string {
  const lines = [
    `data        ${r.data} (${r.layout} layout), coder ${r.coder}, protocol ${r.protocol}`,
    `counts      ${r.identities} identities, ${r.images} images (${r.duplicates_dropped.length} byte-identical duplicate(s) dropped)`,
    `enrolled    ${r.enrolled}`,
    `probed      ${r.probed}`,
    `comparisons ${r.genuine_comparisons} genuine, ${r.impostor_comparisons} impostor`,
    `FTE         ${pct(r.fte)} (${r.fte_count} identities)`,
    `FTA         ${pct(r.fta)} (${r.fta_count} images${r.fta_samples.length ? ': ' + r.fta_samples.map((f) => `${f.sample} ${f.reason}`).join(', ') : ''})`,
    `EER         ${pct(r.eer)} (threshold ${r.eer_threshold.toFixed(4)})`,
    ...r.fnmr_at_fmr.map(
      (p) =>
        `FNMR        ${pct(p.fnmr)} at FMR ${pct(p.fmr)} (threshold ${p.threshold.toFixed(4)}, measured FMR ${pct(p.measured_fmr)}${p.below_resolution ? ', fewer impostor comparisons than 1/FMR' : ''})`,
    ),
    `rank-1      ${pct(r.identification.rank1)} closed set, ${r.identification.searches} searches, gallery ${r.identification.gallery_size} (${r.identification.gallery_note})`,
    `FNIR        ${pct(r.identification.fnir_at_fpir)} at FPIR ${pct(r.identification.fpir_target)} (threshold ${r.identification.threshold.toFixed(4)}, ${r.identification.nonmated_searches} non-mated searches against gallery ${r.identification.gallery_size - 1})`,
    `extraction  ${r.extract_ms_mean.toFixed(1)} ms per frame (mean, ROI + features, during the evaluation)`,
  ];
  return lines.join('\n');
}
