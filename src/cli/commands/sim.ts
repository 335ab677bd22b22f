// `palmpay sim serial`: a simulated serial palm module on a socat pty. Prints the path to open
// (e.g. `palmpay scanner capture --port PATH`), then runs until Ctrl-C. Commands on stdin script the
// glass: `present ID [SAMPLE]`, `remove`, `auto on|off`, `restart`, `silent on|off`, `unplug`, `faults RATE`;
// `claim N` makes the next VERIFY answer user N whatever the palm (a forged verdict, as from a device on the line).
// (No `sim hid`: there is no virtual HID device here; the HID simulator runs in-process only.)
import type { Command } from 'commander';
import { toCliError } from './scanner.ts';

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('simulated scanners');
  sim
    .command('serial')
    .description('serve a simulated serial palm module on a socat pty and print the path for the host')
    .option('--size <WxH>', 'image size', '640x480')
    .option('--images <dir>', 'serve images from this folder (<id>_l_940_<NN>.jpg) instead of synthetic palms')
    .option('--faults <rate>', 'fraction of exchanges that get an injected fault', '0')
    .option('--seed <n>', 'fault plan seed', '1')
    .option('--identities <list>', 'identities presented in turn, one per capture (auto mode)', 'alice,bob,carol')
    .option('--no-auto', 'do not present palms by themselves; script them on stdin')
    .option('--features-only', 'a module that gives no images, only features and its own verdicts (one that matches on its own)')
    .option('--max-users <n>', "users the module's table holds (1..255; beyond it enrolment answers 'table full')", '255')
    .option('--dialect <d>', 'family (published EF AA messages only) | palm (+ feature transfer) | extended (+ every PalmPay extension)', 'extended')
    .option('--no-packed-frames', 'extended dialect: a module without packed frames (PP_INFO bit 4): frames always cross raw')
    .action(async (opts: { size: string; images?: string; faults: string; seed: string; identities: string; auto: boolean; dialect: string; maxUsers: string; featuresOnly?: boolean; packedFrames: boolean }) => {
      const { SimulatedScanner, SERIAL_DIALECTS, SimSerialModule } = await import('../../../drivers/sim/index.ts');
      const { folderSource } = await import('../../../drivers/sim/sources.ts');
      const dialect = SERIAL_DIALECTS.find((d) => d === opts.dialect);
      const { PalmPayError } = await import('../../util/errors.ts');
      const { createInterface } = await import('node:readline');
      const m = /^(\d+)x(\d+)$/.exec(opts.size);
      if (!m) throw new PalmPayError('CONFIG_INVALID', `--size wants WxH, got '${opts.size}'`);
      const [width, height] = [Number(m[1]), Number(m[2])];
      if (!dialect) throw new PalmPayError('CONFIG_INVALID', `--dialect wants one of ${SERIAL_DIALECTS.join(', ')}, got '${opts.dialect}'`);
      const maxUsers = Number(opts.maxUsers);
      if (!Number.isInteger(maxUsers) || maxUsers < 1 || maxUsers > 255) throw new PalmPayError('CONFIG_INVALID', '--max-users is a whole number from 1 to 255');
      const rate = Number(opts.faults);
      if (!(rate >= 0 && rate <= 1)) throw new PalmPayError('CONFIG_INVALID', '--faults is a fraction from 0 to 1');
      try {
        const folder = opts.images ? await folderSource(opts.images, { width, height }) : undefined;
        const ids = folder ? folder.identities : opts.identities.split(',').map((s) => s.trim()).filter(Boolean);
        const s = new SimulatedScanner({ protocol: 'serial', dialect, width, height, source: folder, faults: { rate, seed: Number(opts.seed) }, maxUsers, images: !opts.featuresOnly, packFrames: opts.packedFrames });
        let n = 0;
        const auto = () => ({ identity: ids[n++ % ids.length]!, sample: 1 + Math.floor(n / ids.length) });
        if (opts.auto) s.autoPresent(auto);
        const pty = await s.startPty();
        console.log(pty.hostPath);
        console.error(`sim serial (${dialect} dialect): ${width}×${height} ${folder ? folder.name : 'synthetic palms'}, faults ${rate}; open ${pty.hostPath} (socat pid ${pty.pid}). Ctrl-C to stop.`);
        const rl = createInterface({ input: process.stdin, terminal: false });
        rl.on('line', (line) => {
          const [cmd, a, b] = line.trim().split(/\s+/);
          if (cmd === 'present' && a) s.present({ identity: a, sample: b ? Number(b) : 1 });
          else if (cmd === 'remove') s.remove();
          else if (cmd === 'auto') s.autoPresent(a === 'off' ? null : auto);
          else if (cmd === 'restart') s.restart();
          else if (cmd === 'silent') s.silent = a !== 'off';
          else if (cmd === 'faults' && a) s.device.faults.plan.rate = Number(a);
          else if (cmd === 'claim' && a && s.device instanceof SimSerialModule) s.device.claimNext = Number(a);
          else if (cmd === 'unplug') void pty.unplug().then(() => setTimeout(() => void pty.replug(), Number(a ?? 500)));
          else if (cmd) console.error(`? ${line} (present ID [SAMPLE] | remove | auto on|off | restart | silent on|off | faults RATE | unplug [MS] | claim N)`);
        });
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        rl.close();
        console.error(`sim serial: stopping; faults injected ${JSON.stringify(s.faultCounts)}`);
        await s.stop();
      } catch (err) {
        throw toCliError(err, PalmPayError);
      }
    });
}
