// `palmpay bench ledger`: signed durable appends/s and p99 (synchronous=FULL) against a bare SQLite insert loop.
import type { Command } from 'commander';

export function registerBenchLedger(bench: Command): void {
  bench
    .command('ledger')
    .description('signed durable appends/s and p99 (synchronous=FULL; target ≥ 1,000/s); peer: bare SQLite inserts; plus signing, secretbox and template-load figures')
    .option('--appends <n>', 'records to append', '3000')
    .option('--templates <n>', 'templates to seal and bulk-load', '20000')
    .option('--template-bytes <n>', 'bytes per template', '1536')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts: { appends: string; templates: string; templateBytes: string; json?: string }) => {
      const { runLedgerBench } = await import('../../../bench/ledger/bench.ts');
      const { writeFileSync } = await import('node:fs');
      const r = await runLedgerBench({
        appends: Number(opts.appends),
        templates: Number(opts.templates),
        templateBytes: Number(opts.templateBytes),
        onPhase: (p) => console.error(`… ${p}`),
      });
      console.log(
        `bench ledger: ${r.signed_appends_per_s} signed durable appends/s (p50 ${r.append_p50_ms} ms, p99 ${r.append_p99_ms} ms, ${r.append_cpu_us_per_record} µs CPU each), ` +
          `floor ${r.floor_bare_inserts_per_s} bare inserts/s (p99 ${r.floor_p99_ms} ms), ratio to floor ${r.ratio_to_floor}; ` +
          `synchronous=${r.synchronous}, ${r.journal_mode}; target ≥ ${r.target_appends_per_s}/s: ${r.meets_target ? 'met' : 'NOT met'}`,
      );
      console.log(
        `signing: node:crypto ${r.sign_node_crypto_per_s}/s vs tweetnacl ${r.sign_tweetnacl_per_s}/s (×${r.ratio_node_to_tweetnacl_sign}); ` +
          `secretbox open (${r.template_bytes} B): ${r.secretbox_open_per_s}/s (${r.secretbox_open_mb_per_s} MB/s); ` +
          `template bulk load: ${r.template_load_per_s}/s (${r.ratio_template_load_to_raw_rows} of raw row reads), 10^5 in ~${r.projected_load_100k_s} s; ` +
          `with the opt-in AES-256-GCM format ${r.template_load_aes_gcm_per_s}/s (×${r.ratio_aes_gcm_to_secretbox_load}), 10^5 in ~${r.projected_load_100k_aes_gcm_s} s ` +
          `(load average ${r.load_average_1m} on ${r.cores} cores)`,
      );
      if (opts.json) writeFileSync(opts.json, `${JSON.stringify(r, null, 2)}\n`);
    });
}
