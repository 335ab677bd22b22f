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
  const p = r.perturbation;
  if (p) {
    const sp = (s: { p50: number; p95: number; max: number }, d = 2): string => `median ${s.p50.toFixed(d)}, p95 ${s.p95.toFixed(d)}, max ${s.max.toFixed(d)}`;
    lines.push(
      `perturbed   each image warped: rotation ±${p.rotation_max_deg}°, scale ${p.scale_min}–${p.scale_max}, seed ${p.seed} (${p.compared_images} images compared with their unwarped extraction)`,
      `  ROI angle error, degrees      ${sp(p.abs_roi_angle_error_deg)} (mean signed ${p.mean_roi_angle_error_deg.toFixed(2)})`,
      `  ROI scale error, relative     ${sp(p.abs_roi_scale_error, 3)}`,
      `  ROI centre error, code cells  ${sp(p.roi_centre_error_cells)}`,
      `  valley error, code cells      ${sp(p.valley_error_cells)}`,
      `  distance to unwarped self     ${sp(p.self_distance, 3)}`,
      `  same with the exact ROI       ${sp(p.self_distance_exact_roi, 3)} (resampling alone)`,
    );
  }
  return lines.join('\n');
}
