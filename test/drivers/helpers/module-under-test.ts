/**
 * The module the family-protocol tests talk to. By default our simulator in the dialect asked for, on a
 * socat pty. With PALMPAY_MODULE_CMD set (family dialect only), any other module: the command must print
 * the serial path to open on its first stdout line and accept `present ID` / `remove` lines on stdin
 * (as `palmpay sim serial --dialect family --no-auto` does), so a module no one here wrote can be tried.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SimulatedScanner } from '../../../drivers/sim/simulator.ts';
import type { SerialDialect } from '../../../drivers/sim/serial-module.ts';

export interface ModuleUnderTest {
  path: string;
  present(identity: string): void;
  remove(): void;
  /** Our simulator when it is the module (for checks only it can answer, e.g. the pixels it sent). */
  sim: SimulatedScanner | null;
  stop(): Promise<void>;
}

export const EXTERNAL_MODULE = process.env.PALMPAY_MODULE_CMD;

export async function startModule(dialect: SerialDialect, size = { width: 320, height: 240 }): Promise<ModuleUnderTest> {
  if (EXTERNAL_MODULE && dialect === 'family') {
    const proc = spawn(EXTERNAL_MODULE, { shell: true, stdio: ['pipe', 'pipe', 'inherit'] });
    const path = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: proc.stdout! });
      rl.once('line', (l) => resolve(l.trim()));
      proc.once('exit', (c) => reject(new Error(`${EXTERNAL_MODULE} exited (${c}) before printing a path`)));
    });
    return {
      path,
      present: (id) => proc.stdin!.write(`present ${id}\n`),
      remove: () => proc.stdin!.write('remove\n'),
      sim: null,
      stop: async () => {
        proc.stdin!.end();
        if (proc.exitCode === null) {
          proc.kill('SIGTERM');
          await new Promise((r) => proc.once('exit', r));
        }
        proc.stdout!.destroy();
      },
    };
  }
  const sim = new SimulatedScanner({ protocol: 'serial', dialect, ...size });
  const pty = await sim.startPty();
  return { path: pty.hostPath, present: (id) => sim.present(id), remove: () => sim.remove(), sim, stop: () => sim.stop() };
}
