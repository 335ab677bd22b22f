// Human-readable summary of an evaluation report. Pure.
import type { EvalReport } from './runner.ts';
import type { HeldRow } from './enrolment-eval.ts';

const pct = (v: number): string => `${(v * 100).toFixed(3)} %`;
const byCause = (m: Partial<Record<string, number>>): string => {
  const e = Object.entries(m);
  return e.length ? `: ${e.map(([k, v]) => `${k} ${v}`).join(', ')}` : '';
};

export function formatReport(r: EvalReport): string {
  const lines = [
    `data        ${r.data} (${r.layout} layout), coder ${r.coder}, protocol ${r.protocol}`,
    `counts      ${r.identities} identities, ${r.images} images (${r.duplicates_dropped.length} byte-identical duplicate(s) dropped)`,
    `enrolled    ${r.enrolled}`,
    `probed      ${r.probed}`,
    `comparisons ${r.genuine_comparisons} genuine, ${r.impostor_comparisons} impostor`,
    `FTE         ${pct(r.fte)} (${r.fte_count} identities)`,
    `FTA         ${pct(r.fta)} (${r.fta_count} images${r.fta_samples.length ? ': ' + r.fta_samples.map((f) => `${f.sample} ${f.reason}`).join(', ') : ''}) at the configured verification limits${byCause(r.fta_by_reason)}`,
    `GFNMR       ${r.generalised_fnmr_at_fmr.map((g) => `${pct(g.gfnmr)} at FMR ${pct(g.fmr)}`).join(', ')} (generalised: FTA counted as non-match)`,
    `EER         ${pct(r.eer)} (threshold ${r.eer_threshold.toFixed(4)})`,
    ...r.fnmr_at_fmr.map(
      (p) =>
        `FNMR        ${pct(p.fnmr)} at FMR ${pct(p.fmr)} (threshold ${p.threshold.toFixed(4)}, measured FMR ${pct(p.measured_fmr)}${p.below_resolution ? ', fewer impostor comparisons than 1/FMR' : ''})`,
    ),
    `rank-1      ${pct(r.identification.rank1)} closed set, ${r.identification.searches} searches, gallery ${r.identification.gallery_size} (${r.identification.gallery_note})`,
    `FNIR        ${pct(r.identification.fnir_at_fpir)} at FPIR ${pct(r.identification.fpir_target)} (threshold ${r.identification.threshold.toFixed(4)}, ${r.identification.nonmated_searches} non-mated searches against gallery ${r.identification.gallery_size - 1})`,
    `extraction  ${r.extract_ms_mean.toFixed(1)} ms per frame (mean, ROI + features, during the evaluation)`,
  ];
  const h = r.held_out;
  if (h) {
    const ci = (e: { value: number; ci90: [number, number] }): string => `${pct(e.value)} [90 % CI ${pct(e.ci90[0])} – ${pct(e.ci90[1])}]`;
    const worst = h.by_person.filter((p) => p.rejected_at_strictest > 0).slice(0, 8);
    lines.push(
      `HELD-OUT    ${h.folds} person-disjoint folds, seed ${h.seed}, ${h.bootstrap} bootstrap replicates (people resampled); ${h.people} people`,
      `  comparisons ${h.held_genuine} genuine, ${h.held_impostor} impostor (among each held fold's own people)`,
      `  EER         ${ci(h.eer)}; at each fold's fitted EER threshold ${pct(h.error_at_fitted_eer_threshold)}`,
      ...h.fnmr_at_fmr.map(
        (p) => `  FNMR        ${ci(p.fnmr)} at target FMR ${pct(p.target_fmr)} (held FMR ${pct(p.fmr)}, ${p.false_matches} false matches; thresholds ${p.thresholds.map((t) => t.toFixed(4)).join(' / ')})`,
      ),
      `  FTA         ${pct(h.quality.fta)} (${h.quality.fta_count} of ${h.quality.captures} held captures at their fold's fitted verification cut-offs${byCause(h.quality.fta_by_reason)}); at the enrolment cut-offs ${pct(h.quality.enrol_fta)}${byCause(h.quality.enrol_fta_by_reason)}`,
      `  GFNMR       ${h.quality.fnmr_at_fmr.map((p) => `${pct(p.gfnmr)} (FNMR ${pct(p.fnmr)}) @ ${pct(p.target_fmr)}`).join(', ')} (generalised, ISO/IEC 19795-1: held FTA counted as non-match; FNMR over ${h.quality.genuine_pairs} genuine capture pairs acquired at the fold cut-offs)`,
      `  cut-offs    ${h.quality.folds.map((f) => Object.entries(f.verify).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')).join(' | ')} (verification, per fold)`,
      `  tail model  predicted FMR ${pct(h.impostor_tail_check.predicted_fmr)} vs measured ${pct(h.impostor_tail_check.measured_fmr)} at the strictest fitted threshold`,
      `  rank-1      ${ci(h.identification.rank1)} (${h.identification.searches} searches; ${h.identification.gallery})`,
      `  FNIR        ${ci(h.identification.fnir_at_fpir)} at FPIR ${pct(h.identification.fpir_target)} (held FPIR ${pct(h.identification.fpir_measured)}, ${h.identification.nonmated_searches} non-mated searches)`,
      ...h.by_session.map((b) => `  ${b.kind.padEnd(13)} ${b.genuine} genuine: EER ${pct(b.eer)}, FNMR ${b.fnmr_at_fmr.map((p) => `${pct(p.fnmr)} @ ${pct(p.target_fmr)}`).join(', ')}`),
      `  worst people ${worst.length ? worst.map((p) => `${p.person} (${p.rejected_at_strictest}/${p.genuine} rejected, worst ${p.worst_genuine.toFixed(3)})`).join(', ') : 'none rejected at the strictest threshold'}`,
      ...h.settings.map((x) => `  setting     ${x.setting} — chosen on: ${x.chosen_on}`),
    );
    if (h.enrolment_captures) {
      lines.push(
        ...h.enrolment_captures.map(
          (e) => `  enrol ${e.captures} capture(s) ${e.genuine} genuine: EER ${ci(e.eer)}, FNMR @ 0.010 % ${ci(e.fnmr_at_fmr_1e4)}, rank-1 ${ci(e.rank1)}, FNIR @ FPIR 1 % ${ci(e.fnir_at_fpir)}`,
        ),
      );
    }
    const row = (x: HeldRow): string =>
      `${x.genuine} genuine: EER ${ci(x.eer)}, FNMR @ 0.010 % ${ci(x.fnmr_at_fmr_1e4)}, rank-1 ${ci(x.rank1)}, FNIR @ FPIR 1 % ${ci(x.fnir_at_fpir)}, genuine mean ${x.genuine_mean.toFixed(4)} worst ${x.genuine_worst.toFixed(4)}, false accepts ${x.false_accepts.at_decision_threshold} of ${x.false_accepts.impostors} at the decision threshold and ${x.false_accepts.held_at_fmr_1e4} of ${x.false_accepts.held_impostors} held at the FMR 0.01 % thresholds (closest impostor ${x.false_accepts.best_impostor.toFixed(4)})`;
    if (h.template_update) {
      const u = h.template_update;
      lines.push(
        `  TEMPLATE UPDATE  ${u.protocol}`,
        ...u.rows.map((x) => `  enrol ${x.enrol_captures}, update ${x.update.padEnd(6)} (admitted ${x.admitted}/${x.offered}) ${row(x.held)}`),
        ...u.poisoning.map((x) => `  poisoning, enrol ${x.enrol_captures}: ${x.admitted} of ${x.attempts} other people's captures admitted (PIN rule, attacker not enrolled)`),
      );
    }
    if (h.pose_selection) lines.push(...h.pose_selection.map((x) => `  pose ${x.selection.padEnd(6)} ${x.enrol_captures} captures${x.draws > 1 ? ` (mean of ${x.draws} draws)` : ''} ${row(x.held)}`));
    const b = h.quality && h.blur;
    if (b) {
      lines.push(
        `  BLUR CHECK  ${b.protocol}`,
        ...b.by_sigma.map(
          (s) =>
            `  σ ${String(s.sigma_roi_px).padEnd(4)} ROI px ${s.copies} copies: ${s.no_longer_match} no longer match, of which rejected as blurred ${s.rejected_blurred} (spectral slope alone ${s.rejected_by_spectral_slope}, any reason ${s.rejected_any}); ${s.still_match} still match, ${s.still_match_rejected_blurred} of them rejected as blurred`,
        ),
        `  blur total  ${pct(b.unmatched_rejected_blurred)} of ${b.unmatched_copies} no-longer-matching copies rejected as blurred; sharp held captures kept ${pct(b.sharp_kept_blur)} by the blur limits, ${pct(b.sharp_kept_all)} by every limit (${b.sharp_captures} captures)`,
      );
    }
  }
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
