/**
 * A socat pseudo-terminal pair: two serial-like paths joined back to back. The simulator serves one
 * end, the host opens the other with the real SerialPort. `unplug()` kills socat (both paths vanish,
 * as a USB-serial adapter's would); `replug()` starts it again under the same link names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverError } from '../errors.ts';

export class PtyPair {
  private proc: ChildProcess | null = null;
  /** Stable paths (symlinks to the current /dev/pts/N). */
  readonly hostPath: string;
  readonly devicePath: string;

  private constructor(private readonly dir: string) {
    this.hostPath = join(dir, 'host');
    this.devicePath = join(dir, 'device');
  }

  static async start(opts: { timeoutMs?: number } = {}): Promise<PtyPair> {
    const pair = new PtyPair(await mkdtemp(join(tmpdir(), 'palmpay-pty-')));
    await pair.replug(opts);
    return pair;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts socat; resolves once both pty paths exist. */
  async replug(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.proc) return;
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.devicePath}`, `pty,raw,echo=0,link=${this.hostPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.on('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      let ptys = 0;
      const t = setTimeout(() => fail(`socat did not start within ${opts.timeoutMs ?? 5000} ms: ${err.trim()}`), opts.timeoutMs ?? 5000);
      const fail = (msg: string) => {
        clearTimeout(t);
        proc.kill('SIGKILL');
        reject(new DriverError('SIM_FAILED', msg));
      };
      proc.on('error', (e) => fail(`cannot run socat: ${e.message}`));
      proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        ptys = (err.match(/PTY is /g) ?? []).length;
        // "starting data transfer loop" is printed once both ends are set up (links included).
        if (ptys >= 2 && /starting data transfer loop/.test(err)) {
          clearTimeout(t);
          proc.stderr!.removeAllListeners('data');
          proc.stderr!.resume();
          resolve();
        }
      });
    });
  }

  /** Kills socat: both paths disappear. */
  async unplug(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.unplug();
    await rm(this.dir, { recursive: true, force: true });
  }
}
