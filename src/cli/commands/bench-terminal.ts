// `palmpay bench terminal`: a palm on the glass to a decision, stage by stage, on a folder with N enrolled; peers:
// the same path with the frame in memory, and the stages each alone; plus the counter's cold start.
import type { Command } from 'commander';
import { toCliError } from './scanner.ts';

export function registerBenchTerminal(bench: Command): void {
  bench
    .command('terminal')
    .description('scan-to-decision over a pty serial link (transfer, extract, 1:N identify, decision + signed record) and cold start, N enrolled; peers: the frame in memory, the stages alone')
    .option('--n <n>', 'people enrolled', '100000')
    .option('--scans <n>', 'scans timed (each over the pty and in memory)', '40')
    .option('--size <WxH>', 'frame size', '640x480')
    .option('--cold-runs <n>', 'cold starts of `palmpay terminal` (0: none)', '3')
    .option('--no-serialport-peer', "skip the peer that reads the pty through serialport (the terminal's old read path)")
    .option('--no-raw-frames-peer', 'skip the peer whose module sends its frames raw (not packed; PROTOCOL.md PP_INFO bit 4)')
    .option('--nir-frames <dir>', 'also time transfers of real NIR images from DIR (CASIA layout, resized), packed and raw')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts: { n: string; scans: string; size: string; coldRuns: string; serialportPeer: boolean; rawFramesPeer: boolean; nirFrames?: string; json?: string }) => {
      const { runTerminalBench } = await import('../../../bench/terminal/bench.ts');
      const { formatTerminalBench } = await import('../../../bench/terminal/report.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      const { writeFileSync } = await import('node:fs');
      const { PalmPayError } = await import('../../util/errors.ts');
      const m = /^(\d+)x(\d+)$/.exec(opts.size);
      if (!m) throw new PalmPayError('CONFIG_INVALID', `--size wants WxH, got '${opts.size}'`);
      const whole = (flag: string, v: string, min: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new PalmPayError('CONFIG_INVALID', `${flag} wants a whole number ≥ ${min}, got '${v}'`);
        return n;
      };
      let bar: InstanceType<typeof SingleBar> | undefined;
      let phase = '';
      const coldRuns = whole('--cold-runs', opts.coldRuns, 0);
      const result = await runTerminalBench({
        n: whole('--n', opts.n, 1),
        scans: whole('--scans', opts.scans, 1),
        width: Number(m[1]),
        height: Number(m[2]),
        coldStart: coldRuns > 0,
        coldStartRuns: coldRuns,
        serialportPeer: opts.serialportPeer,
        rawFramesPeer: opts.rawFramesPeer,
        ...(opts.nirFrames ? { nirFrames: opts.nirFrames } : {}),
        log: (line) => {
          bar?.stop();
          phase = '';
          process.stderr.write(`${line}\n`);
        },
        progress: (p, done, total) => {
          if (p !== phase) {
            bar?.stop();
            phase = p;
            bar = new SingleBar({ format: `${p.padEnd(30)} {bar} {value}/{total}`, stream: process.stderr }, Presets.shades_classic);
            bar.start(total, 0);
          }
          bar?.update(done);
        },
      }).catch((err: unknown) => {
        bar?.stop();
        throw toCliError(err, PalmPayError);
      });
      bar?.stop();
      console.log(formatTerminalBench(result));
      if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
    });
}
