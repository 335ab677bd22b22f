/**
 * Cold start of a counter: `palmpay terminal` (browser kiosk, serving only) started as its own process on a data
 * folder with N people enrolled, its scanner a simulated serial module on a socat pty and its centre a real one on
 * loopback; timed from the spawn to (a) its listening line (the tokened address read from its file) and (b) the first interactive screen in headless Chromium —
 * the sign-in screen with the operator's PIN pad, which the kiosk sends only once its flows (store, palm index,
 * scanner, link) are up. Chromium is started before the clock (a kiosk's browser or Electron window starts
 * alongside the host). The palm index's own load time is read from the terminal's log.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startModuleProcess } from './module-process.ts';
import { REPO_ROOT } from '../../src/util/repo-root.ts';
import { buildAll, cliInputs, cliOutput, isStale } from '../../src/host/app-build.ts';
import { PalmPayError } from '../../src/util/errors.ts';
import type { Percentiles } from './bench.ts';

export interface ColdStartResult {
  runs: number;
  command: string;
  to_url: Percentiles;
  to_screen: Percentiles;
  /** CPU time (user + system) the terminal process had used when the sign-in screen showed: a figure the other
   * load on a shared machine inflates far less than the wall-clock times. */
  cpu_to_screen: Percentiles;
  palm_index_load_ms: number | null;
  palm_index_path: string | null;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function measureColdStart(o: {
  dataDir: string;
  centreUrl: string;
  runs: number;
  frame: { width: number; height: number };
  progress: (phase: string, done: number, total: number) => void;
  log: (line: string) => void;
}): Promise<ColdStartResult> {
  const { chromium } = await import('playwright-core');
  // A counter runs the built CLI (bin/palmpay.js falls back to compiling the sources through tsx, seconds slower):
  // build it when stale, and never hand the child PALMPAY_FROM_SOURCE, which a bench run from source may carry.
  if (isStale(join(cliOutput(REPO_ROOT), 'main.mjs'), cliInputs(REPO_ROOT))) {
    o.log('cold start: dist/cli is older than its sources; building it first');
    await buildAll(REPO_ROOT, { renderer: true, electron: false, cli: true });
  }
  const childEnv = { ...process.env };
  delete childEnv.PALMPAY_FROM_SOURCE;
  const module = await startModuleProcess({ identity: 'nobody', ...o.frame });
  writeFileSync(join(o.dataDir, 'terminal-config.json'), JSON.stringify({ scanner: `serial:${module.path}`, centre: o.centreUrl, printer: 'none' }), { mode: 0o600 });
  const profile = mkdtempSync(join(tmpdir(), 'palmpay-cold-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: process.env.PALMPAY_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const cli = join(REPO_ROOT, 'bin', 'palmpay.js');
  const toUrl: number[] = [];
  const toScreen: number[] = [];
  const cpuToScreen: number[] = [];
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    for (let run = 0; run < o.runs; run++) {
      o.progress('cold start', run, o.runs);
      const t0 = performance.now();
      const child = spawn(process.execPath, [cli, 'terminal', '--browser', '--no-open', '--data', o.dataDir, '--port', '0'], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        let out = '';
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new PalmPayError('BENCH_FAILED', `cold start: no listening line within 120 s:\n${out}`)), 120_000);
          let found = false;
          const onData = (chunk: Buffer) => {
            out += chunk.toString();
            if (found) return; // later output (its stop) still matches, and the file is gone by then
            // The console names only the origin; the address with its token is in the owner-only file it names.
            const m = /^palmpay terminal: listening on http:\/\/127\.0\.0\.1:\d+; the address to open \(with its access token\) is in (.+), readable only by this user$/m.exec(out);
            if (m) {
              found = true;
              clearTimeout(timer);
              resolve(readFileSync(m[1]!, 'utf8').trim());
            }
          };
          child.stdout!.on('data', onData);
          child.stderr!.on('data', onData);
          void exited.then((code) => {
            clearTimeout(timer);
            reject(new PalmPayError('BENCH_FAILED', `cold start: the terminal exited (${code}) before its listening line:\n${out}`));
          });
        });
        toUrl.push(performance.now() - t0);
        await page.goto(url, { timeout: 120_000 }); // a loaded machine can take longer than the default 30 s
        await page.getByTestId('login').waitFor({ timeout: 120_000 });
        toScreen.push(performance.now() - t0);
        const cpu = cpuMs(child.pid);
        if (cpu !== null) cpuToScreen.push(cpu);
      } finally {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
      }
      await page.goto('about:blank');
    }
    o.progress('cold start', o.runs, o.runs);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await module.stop();
  }
  // The kiosk logs how its palm index was loaded (last start).
  let indexMs: number | null = null;
  let indexPath: string | null = null;
  try {
    const log = readFileSync(join(o.dataDir, 'logs', 'current.log'), 'utf8');
    const all = [...log.matchAll(/palm index: (loaded from the snapshot|snapshot [^;]*; rebuilt from the rows)[^"]*? in (\d+) ms/g)];
    const last = all.at(-1);
    if (last) {
      indexPath = last[1]!.startsWith('loaded') ? 'snapshot' : 'rebuilt';
      indexMs = Number(last[2]);
    }
  } catch {
    o.log('cold start: the terminal log could not be read (palm index load time not reported)');
  }
  return { runs: o.runs, command: 'node bin/palmpay.js terminal --browser --no-open', to_url: { p50_ms: r2(pct(toUrl, 50)), p95_ms: r2(pct(toUrl, 95)) }, to_screen: { p50_ms: r2(pct(toScreen, 50)), p95_ms: r2(pct(toScreen, 95)) }, cpu_to_screen: { p50_ms: r2(pct(cpuToScreen, 50)), p95_ms: r2(pct(cpuToScreen, 95)) }, palm_index_load_ms: indexMs, palm_index_path: indexPath };
}

/** utime + stime of a running process from /proc (Linux; clock ticks of 10 ms), or null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // fields 14 and 15 (utime, stime), counted after "pid (comm) "
  } catch {
    return null;
  }
}
