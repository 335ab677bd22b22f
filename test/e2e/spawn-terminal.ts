// Starts the real `palmpay terminal` CLI as a child process and waits for its listening line; the address with the
// token is in the owner-only file that line names (the console never shows the token).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/palmpay.js', import.meta.url));

export interface RunningTerminal {
  child: ChildProcess;
  url: string;
  origin: string;
  token: string;
  output(): string;
  stop(): Promise<number | null>;
}

export function startTerminal(args: string[], timeoutMs = 60_000): Promise<RunningTerminal> {
  const child = spawn(process.execPath, [CLI, 'terminal', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    let found = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (found) return;
      const line = /^palmpay terminal: listening on (http:\/\/127\.0\.0\.1:\d+); the address to open \(with its access token\) is in (.+), readable only by this user$/m.exec(out);
      if (!line) return;
      found = true;
      const m = /^(http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+)$/.exec(readFileSync(line[2]!, 'utf8').trim());
      clearTimeout(timer);
      if (!m || m[1] !== line[1]) {
        child.kill('SIGKILL');
        reject(new Error(`the address file ${line[2]} does not hold ${line[1]}/#token=…`));
        return;
      }
      resolve({
        child,
        origin: m[1]!,
        token: m[2]!,
        url: `${m[1]}/#token=${m[2]}`,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`terminal exited (${code}) before printing its listening line:\n${out}`));
    });
  });
}

/** Runs the CLI to completion: exit code, stdout, stderr. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
