// `palmpay bench drivers`: frame transfer over a socat pty (real SerialPort both ends) against the raw pty.
import type { Command } from 'commander';
import { toCliError } from './scanner.ts';

export function registerBenchDrivers(bench: Command): void {
  bench
    .command('drivers')
    .description('serial-module frames over a socat pty: throughput and capture-to-frame latency; peer: the same bytes through the raw pty')
    .option('--frames <n>', 'frames to capture', '40')
    .option('--size <WxH>', 'frame size', '640x480')
    .option('--chunk <bytes>', 'image chunk size asked per exchange (≤ 4096)', '4096')
    .option('--no-serialport-peer', 'skip the peer that reads the pty through serialport (the old read path)')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (opts: { frames: string; size: string; chunk: string; serialportPeer: boolean; json?: string }) => {
      const { runDriversBench } = await import('../../../bench/drivers/bench.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      const { writeFileSync } = await import('node:fs');
      const { PalmPayError } = await import('../../util/errors.ts');
      const m = /^(\d+)x(\d+)$/.exec(opts.size);
      if (!m) throw new PalmPayError('CONFIG_INVALID', `--size wants WxH, got '${opts.size}'`);
      let bar: InstanceType<typeof SingleBar> | undefined;
      let phase = '';
      const result = await runDriversBench({
        frames: Number(opts.frames),
        width: Number(m[1]),
        height: Number(m[2]),
        chunkBytes: Number(opts.chunk),
        serialportPeer: opts.serialportPeer,
        onProgress: (p, done, total) => {
          if (p !== phase) {
            bar?.stop();
            phase = p;
            bar = new SingleBar({ format: `${p.padEnd(22)} {bar} {value}/{total}`, stream: process.stderr }, Presets.shades_classic);
            bar.start(total, 0);
          }
          bar?.update(done);
        },
      }).catch((err: unknown) => {
        bar?.stop();
        throw toCliError(err, PalmPayError);
      });
      bar?.stop();
      console.log(
        `bench drivers: ${result.frames} frames of ${result.width}×${result.height} over a socat pty: ${result.transfer_MB_per_s} MB/s (${result.frames_per_s} frames/s), ` +
          `capture-to-frame p50 ${result.capture_to_frame_p50_ms} ms, p95 ${result.capture_to_frame_p95_ms} ms; raw pty ${result.raw_pty_MB_per_s} MB/s, ratio ${result.ratio_to_raw_pty}; reads: ${result.read_path}` +
          (result.serialport_peer ? `; serialport reads (peer): p50 ${result.serialport_peer.p50_ms} ms, p95 ${result.serialport_peer.p95_ms} ms, ${result.serialport_peer.transfer_MB_per_s} MB/s; p50 ratio ${result.ratio_to_serialport_peer}` : ''),
      );
      if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
    });
}
