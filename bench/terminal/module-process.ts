// Starts bench/terminal/module.ts as a child process and waits for its pty path.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/util/repo-root.ts';
import { PalmPayError } from '../../src/util/errors.ts';

export interface ModuleProcess {
  path: string;
  stop(): Promise<void>;
}

/** `framesDir`: the module's captures are real images from that folder (module.ts), else synthetic palms of `identity`. */
export function startModuleProcess(o: { identity: string; width: number; height: number; window?: number; framesDir?: string }): Promise<ModuleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'terminal', 'module.ts'), o.identity, String(o.width), String(o.height), String(o.window ?? 8), ...(o.framesDir ? [o.framesDir] : [])], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new PalmPayError('BENCH_FAILED', `the simulated module did not start within 60 s: ${out}`));
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^(\/\S+)$/m.exec(out);
      if (!line) return;
      clearTimeout(timer);
      resolve({
        path: line[1]!,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new PalmPayError('BENCH_FAILED', `the simulated module exited before its pty was up: ${out}`));
    });
  });
}
