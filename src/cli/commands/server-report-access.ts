// `palmpay server report-access PERSON [--json]`: who (terminal, operator) asked for a person's financial report,
// when, for which month, and how it ended (served, wrong PIN, locked, …), from the centre's access log (issue 17).
import type { Command } from 'commander';
import { printJson, withCentral } from './server.ts';

export function registerServerReportAccess(server: Command): void {
  // Beside `report`, not under it: commander reads `report`'s own options (`--json FILE`) before any subcommand's.
  server.command('report-access <personId>')
    .description("who read a person's financial reports at a counter: terminal, operator, month, time and outcome, newest first")
    .option('--json', 'print JSON (one object per request)')
    .action(async (personId: string, opts: { json?: boolean }, cmd: Command) => {
      const rows = await withCentral(cmd.optsWithGlobals<{ db?: string; data?: string }>(), (c) => c.reports.accessLog(personId));
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return console.log(`no report requests for ${personId}`);
      for (const r of rows) {
        // A rate refusal's row stands for that minute's refusals from the terminal: the first one's record is named.
        const which = r.outcome === 'rate-limited' ? `first refused that minute: seq ${r.seq}` : `request ${r.request_id} (seq ${r.seq})`;
        console.log(`${new Date(r.at).toISOString()}\t${r.terminal_id}\t${r.operator_id}\t${r.month}\t${r.outcome}\t${which}`);
      }
    });
}
