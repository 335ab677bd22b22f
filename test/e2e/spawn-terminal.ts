// Starts the real `palmpay terminal` CLI as a child process and waits for its listening line; the address with the
// token is in the owner-only file that line names (the console never shows the token). Also the other processes of
// a deployment: `palmpay server` (SQLite in a data folder, or PostgreSQL), `palmpay sim serial`, and the
// technician's `server terminal add` / `terminal provision`.
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

/** Runs the CLI to completion: exit code, stdout, stderr. `input`: written to its standard input (e.g. a PIN). */
export function runCli(args: string[], timeoutMs = 60_000, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
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

/** A long-running CLI process (`palmpay server`, `palmpay sim serial`) a test file started. */
export interface CliProcess {
  child: ChildProcess;
  /** The match of the line it was waited for. */
  match: RegExpExecArray;
  output(): string;
  /** One line on its standard input (`palmpay sim serial`: `present ID`, `remove`, `unplug MS`). */
  send(line: string): void;
  /** Sends the signal (default SIGTERM) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const started = new Set<ChildProcess>();

/** Starts `palmpay ARGS` and waits for a line matching `ready` (stdout or stderr). Stopped by stopProcesses. */
export function startProcess(args: string[], ready: RegExp, timeoutMs = 60_000): Promise<CliProcess> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => (started.delete(child), resolve())));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    let found = false;
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = found ? null : ready.exec(out);
      if (!m) return;
      found = true;
      clearTimeout(timer);
      resolve({
        child,
        match: m,
        output: () => out,
        send: (line) => void child.stdin!.write(`${line}\n`),
        kill: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code} before ${ready}:\n${out}`)));
  });
}

/** SIGTERM to every process startProcess started that is still running (a file's afterAll). */
export async function stopProcesses(): Promise<void> {
  await Promise.all(
    [...started].map((c) => {
      const gone = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      c.kill('SIGCONT'); // one a test froze (SIGSTOP) handles the SIGTERM only once it runs again
      return gone;
    }),
  );
}

/** A running `palmpay server`: its URL, and where its database is (the admin commands are run against it). */
export interface Centre {
  url: string;
  port: number;
  /** `server --data DIR` (SQLite there) or `server --db URL` (PostgreSQL): the prefix of its admin commands. */
  where: string[];
  process: CliProcess;
  /** `palmpay server … ARGS` run to completion; a non-zero exit fails the test with its stderr. */
  admin(args: string[], input?: string): Promise<string>;
}

/** Starts `palmpay server` on a free loopback port (or `port`: a restart where the counters expect it). */
export async function startCentre(where: { data: string } | { db: string }, port = 0): Promise<Centre> {
  const prefix = 'db' in where ? ['server', '--db', where.db] : ['server', '--data', where.data];
  const p = await startProcess([...prefix, '--port', String(port)], /listening on (http:\/\/127\.0\.0\.1:(\d+))/);
  return {
    url: p.match[1]!,
    port: Number(p.match[2]),
    where: prefix,
    process: p,
    admin: async (args, input) => {
      const r = await runCli([...prefix, ...args], 60_000, input);
      if (r.code !== 0) throw new Error(`palmpay ${[...prefix, ...args].join(' ')} exited ${r.code}:\n${r.stderr}`);
      return r.stdout;
    },
  };
}

/** `server terminal add`: a terminal at the centre; returns its one-time registration code. */
export async function addTerminal(centre: Pick<Centre, 'admin'>, id: string, at: { branch?: string; region?: string } = {}): Promise<string> {
  const out = await centre.admin(['terminal', 'add', '--name', 'Counter', '--branch', at.branch ?? 'B1', '--region', at.region ?? 'R1', '--id', id]);
  return /registration code (\S+)/.exec(out)![1]!;
}
