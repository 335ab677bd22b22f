// The text report of `palmpay bench terminal` (the JSON is the result object itself).
import type { Percentiles, TerminalBenchResult } from './bench.ts';

const f = (p: Percentiles) => `p50 ${p.p50_ms.toFixed(1)} / p95 ${p.p95_ms.toFixed(1)} ms`;

export function formatTerminalBench(r: TerminalBenchResult): string {
  const out: string[] = [];
  out.push(`bench terminal: N = ${r.n} enrolled, ${r.scans} scans of ${r.frame.width}×${r.frame.height} (${r.frame.bytes} B); load ${r.machine.loadavg_1m} on ${r.machine.cpu_cores} cores`);
  out.push(`  serial: ${r.serial.link}; module ${r.serial.capabilities.join(', ')}; chunk ${r.serial.chunk_bytes} B, window ${r.serial.window}`);
  const p = r.over_pty;
  out.push(`  over the pty:  transfer ${f(p.transfer)} | extract ${f(p.extract)} | identify ${f(p.identify)} | decide + signed record ${f(p.decide)}`);
  out.push(`                 transfer+extract+identify ${f(p.transfer_extract_identify)}; scan to decision ${f(p.total)} (reads: ${p.read_path})`);
  const sp = r.serialport_peer;
  if (sp) out.push(`  serialport reads (peer): transfer ${f(sp.transfer)} | transfer+extract+identify ${f(sp.transfer_extract_identify)} = ${sp.ratio_to_in_memory} × in memory | total ${f(sp.total)}; transfer p50 ${p.read_path} / serialport = ${sp.transfer_p50_to_peer}; this process's CPU per transfer ${sp.host_cpu_transfer_p50_ms} ms`);
  const fp = r.frame_packing;
  out.push(`  frames on the wire: ${fp.encoding}; synthetic palms ${fp.synthetic_wire_bytes_to_raw} of their bytes; pack ${fp.module_pack_cpu_p50_ms} ms (module's cost), unpack ${fp.host_unpack_cpu_p50_ms} ms per frame (p50)`);
  const rf = r.raw_frames_peer;
  if (rf) out.push(`  raw frames (peer): transfer ${f(rf.transfer)} | transfer+extract+identify ${f(rf.transfer_extract_identify)} = ${rf.ratio_to_in_memory} × in memory | total ${f(rf.total)}; transfer p50 packed / raw = ${rf.transfer_p50_to_peer}`);
  if (fp.nir_frames) out.push(`  real NIR frames (${fp.nir_frames.source}): ${fp.nir_frames.wire_bytes_to_raw} of their bytes; transfer packed ${f(fp.nir_frames.transfer_packed)} vs raw ${f(fp.nir_frames.transfer_raw)} = ${fp.nir_frames.transfer_packed_p50_to_raw}`);
  const m = r.in_memory;
  out.push(`  frame in memory (peer): extract ${f(m.extract)} | identify ${f(m.identify)} | decide ${f(m.decide)}; extract+identify ${f(m.extract_identify)}; total ${f(m.total)}`);
  const a = r.stages_alone;
  out.push(`  stages alone (peer): transfer ${a.transfer_p50_ms} + extract ${a.extract_p50_ms} + identify ${a.identify_p50_ms} + decide ${a.decide_p50_ms} = ${a.sum_p50_ms} ms (p50s)`);
  out.push(`  ratios: transfer+extract+identify / in-memory peer = ${r.ratios.transfer_extract_identify_p50_to_in_memory} (p50), ${r.ratios.transfer_extract_identify_p95_to_in_memory} (p95); scan-to-decision p50 / stage sum = ${r.ratios.total_p50_to_stage_sum}`);
  const c = r.host_cpu;
  out.push(`  this process's CPU per scan (p50): transfer ${c.transfer_p50_ms} ms, extract+identify ${c.extract_identify_over_pty_p50_ms} ms (in memory ${c.extract_identify_in_memory_p50_ms} ms); CPU ratio ${r.ratios.cpu_transfer_extract_identify_p50_to_in_memory}`);
  out.push(`  outcomes: ${Object.entries(r.outcomes).map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  if (r.cold_start) {
    const c = r.cold_start;
    out.push(`  cold start (${c.runs} runs, ${c.command}): url line ${f(c.to_url)}; first interactive screen ${f(c.to_screen)} (terminal CPU by then ${f(c.cpu_to_screen)}); palm index ${c.palm_index_path ?? '?'} ${c.palm_index_load_ms ?? '?'} ms`);
  }
  const t = r.targets;
  out.push(`  targets: scan-to-decision p95 ≤ ${t.scan_to_decision_p95_ms} ms ${t.meets_p95 ? 'MET' : 'MISSED'}; ratio ≤ ${t.ratio_max} ${t.meets_ratio ? 'MET' : 'MISSED'}; cold start ≤ ${t.cold_start_ms} ms ${t.meets_cold_start === null ? 'not measured' : t.meets_cold_start ? 'MET' : 'MISSED'}`);
  return out.join('\n');
}
