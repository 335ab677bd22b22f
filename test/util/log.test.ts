// The terminal's log rotates (pino-roll), so an unattended counter never fills its disk, and the files are 0600.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../src/util/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('rotates at the size limit, keeps only the newest files, and links current.log to the live one', async () => {
  const log = await createLogger({ dataDir: dir, rotateSize: '4k', keepFiles: 2 });
  for (let i = 0; i < 400; i++) {
    log.info({ i }, 'a line of about a hundred bytes to fill the file quickly ..........');
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // rotation and clean-up run between writes
  }
  await new Promise((r) => setTimeout(r, 300));
  const logs = join(dir, 'logs');
  const files = readdirSync(logs).filter((f) => /^palmpay\.\d+\.log$/.test(f));
  expect(files.length).toBeLessThanOrEqual(3); // the live file + 2 kept
  expect(Math.max(...files.map((f) => Number(f.split('.')[1])))).toBeGreaterThan(3); // it did roll several times
  for (const f of files) expect(statSync(join(logs, f)).size).toBeLessThan(8 * 1024);
  expect(lstatSync(join(logs, 'current.log')).isSymbolicLink()).toBe(true);
  const live = readFileSync(join(logs, readlinkSync(join(logs, 'current.log'))), 'utf8').trim().split('\n');
  expect(JSON.parse(live.at(-1)!)).toMatchObject({ i: 399 });
  expect(statSync(join(logs, files[0]!)).mode & 0o777).toBe(0o600);
  expect(statSync(logs).mode & 0o777).toBe(0o700);
});
