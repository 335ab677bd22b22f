// Drives a Chromium started with --remote-debugging-pipe: the DevTools protocol as JSON messages ending in NUL,
// written to the browser's fd 3 and read from its fd 4. Why: a URL given on the command line (the kiosk token,
// a receipt in a fragment) is readable by every local user in /proc/PID/cmdline; a URL sent over this pipe is
// not, and only this process holds the pipe (unlike --remote-debugging-port, which any local user could reach).
// Hand-rolled rather than playwright-core: that is a test-only dependency, and what the product needs is four
// protocol calls (find the page, attach, navigate, evaluate/screenshot).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PalmPayError } from '../util/errors.ts';

/** The switch that opens the pipe; spawnWithPipe adds it. */
export const PIPE_FLAG = '--remote-debugging-pipe';

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(err: Error): void;
}

export interface DevtoolsPipe {
  /** One protocol call; `sessionId` addresses an attached page. */
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  /** Attaches to the browser's first page (waiting up to timeoutMs for it) and returns its session id. */
  attachFirstPage(timeoutMs: number): Promise<string>;
  /** Navigates the attached page; rejects with the browser's reason when it cannot load. */
  navigate(sessionId: string, url: string): Promise<void>;
}

export interface PipedBrowser {
  child: ChildProcess;
  devtools: DevtoolsPipe;
}

/** Starts `browser` with the DevTools pipe on fds 3 and 4 (stderr piped when asked, for error messages). */
export function spawnWithPipe(browser: string, args: string[], opts: { stderr?: boolean } = {}): PipedBrowser {
  const child = spawn(browser, [...args, PIPE_FLAG], { stdio: ['ignore', 'ignore', opts.stderr ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  return { child, devtools: devtoolsPipe(child) };
}

function devtoolsPipe(child: ChildProcess): DevtoolsPipe {
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed: Error | null = null;
  let buffered = '';

  const fail = (err: Error) => {
    closed ??= err;
    for (const p of pending.values()) p.reject(closed);
    pending.clear();
  };
  toBrowser.on('error', () => fail(new PalmPayError('BROWSER_GONE', 'the browser closed its DevTools pipe')));
  fromBrowser.on('error', () => fail(new PalmPayError('BROWSER_GONE', 'the browser closed its DevTools pipe')));
  fromBrowser.on('end', () => fail(new PalmPayError('BROWSER_GONE', 'the browser closed its DevTools pipe')));
  child.on('exit', (code) => fail(new PalmPayError('BROWSER_GONE', `the browser exited (${code})`)));
  child.on('error', (err) => fail(new PalmPayError('BROWSER_GONE', `cannot start the browser: ${err.message}`, { cause: err })));

  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const text = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let message: { id?: number; result?: Record<string, unknown>; error?: { message?: string } };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        continue; // not ours to judge: the browser wrote something we cannot read
      }
      if (message.id === undefined) continue; // events: this client asks, it does not listen
      const p = pending.get(message.id);
      if (!p) continue;
      pending.delete(message.id);
      if (message.error) p.reject(new PalmPayError('DEVTOOLS_CALL_FAILED', message.error.message ?? 'DevTools call failed'));
      else p.resolve(message.result ?? {});
    }
  });

  const send: DevtoolsPipe['send'] = (method, params = {}, sessionId) => {
    if (closed) return Promise.reject(closed);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  };

  return {
    send,
    async attachFirstPage(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { targetInfos } = (await send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
        const page = targetInfos.find((t) => t.type === 'page');
        if (page) {
          const { sessionId } = (await send('Target.attachToTarget', { targetId: page.targetId, flatten: true })) as { sessionId: string };
          return sessionId;
        }
        if (Date.now() > deadline) throw new PalmPayError('BROWSER_NO_PAGE', `the browser opened no page within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async navigate(sessionId, url) {
      const result = (await send('Page.navigate', { url }, sessionId)) as { errorText?: string };
      if (result.errorText) throw new PalmPayError('BROWSER_NAVIGATION_FAILED', `the browser could not open the page: ${result.errorText}`);
    },
  };
}
