// One writer per data folder (src/host/data-lock.ts): a second PalmPay process is refused with a typed error, and a
// holder that died (SIGKILL, power cut) does not lock the counter out for good.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataFolder } from '../../src/host/data-lock.ts';
import { REPO_ROOT } from '../../src/util/repo-root.ts';

const dirs: string[] = [];
const folder = () => {
  const d = mkdtempSync(join(tmpdir(), 'palmpay-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Another process holding the folder's lock until it is killed. */
function holder(dir: string, staleMs: number): Promise<{ kill(): Promise<void> }> {
  const code = `import { lockDataFolder } from ${JSON.stringify(join(REPO_ROOT, 'src/host/data-lock.ts'))};
await lockDataFolder(${JSON.stringify(dir)}, 'holder', { staleMs: ${staleMs}, waitMs: 0 }); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('locked')) resolve({ kill: () => new Promise((r) => (child.removeAllListeners('exit'), child.once('exit', () => r()), child.kill('SIGKILL'))) });
    });
  });
}

describe('the data folder lock', () => {
  it('refuses a second process while the first runs, with DATA_FOLDER_IN_USE, and lets it in after the first stops', async () => {
    const dir = folder();
    const h = await holder(dir, 2000);
    await expect(lockDataFolder(dir, 'palmpay terminal', { staleMs: 2000, waitMs: 0 })).rejects.toMatchObject({ code: 'DATA_FOLDER_IN_USE' });
    await h.kill(); // killed, not released: its lock is left behind, and goes stale
    const release = await lockDataFolder(dir, 'palmpay terminal', { staleMs: 2000, waitMs: 4000 });
    await release();
    // Released properly, it is free at once.
    const again = await lockDataFolder(dir, 'palmpay terminal', { waitMs: 0 });
    await again();
  }, 30_000);
});
