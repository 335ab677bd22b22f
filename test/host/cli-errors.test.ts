// Starting the real CLI with an unusable data folder or a taken port: one clear line, exit 1, no stack.
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../e2e/spawn-terminal.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function expectOneErrorLine(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('palmpay terminal: startup errors', () => {
  it('refuses a data folder below a file (unwritable path)', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const result = await runCli(['terminal', '--no-open', '--port', '0', '--data', join(file, 'data')]);
    expectOneErrorLine(result, /^palmpay: cannot use data folder .*a-file\/data: part of the path is a file.*--data DIR$/);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a read-only data folder (not as root: root writes anywhere)', async () => {
    const dir = join(scratch, 'read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    const result = await runCli(['terminal', '--no-open', '--port', '0', '--data', dir]);
    expectOneErrorLine(result, /^palmpay: cannot use data folder .*: permission denied/);
  });

  it('refuses a port that is already taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['terminal', '--no-open', '--port', String(port), '--data', join(scratch, 'ok')]);
      expectOneErrorLine(result, new RegExp(`^palmpay: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('rejects a malformed port before doing anything', async () => {
    const result = await runCli(['terminal', '--no-open', '--port', 'eighty', '--data', join(scratch, 'ok2')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/a port is a whole number/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help shows the options a person uses, not the test-only --test-hooks', async () => {
    const result = await runCli(['terminal', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--demo/);
    expect(result.stdout).toMatch(/--sim-images/);
    expect(result.stdout).not.toMatch(/test-hooks/);
  });
});
