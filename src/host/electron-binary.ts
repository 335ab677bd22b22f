// Finds the Electron binary that `npm install` may (or may not) have downloaded, and, where the network
// allows, tries the download once. Nothing here imports electron's API: `require('electron')` from Node
// only yields the binary's path, and throws when the binary was never downloaded.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function electronBinary(root: string): string | null {
  try {
    const path = createRequire(join(root, 'package.json'))('electron') as unknown;
    if (typeof path !== 'string' || !existsSync(path)) return null;
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

export type DownloadOutcome = 'downloaded' | 'failed' | 'skipped';

/**
 * Runs electron's own install.js once per Electron version (remembered in the data folder), with a short
 * time limit, so a terminal without network falls back to browser mode quickly and only asks once.
 */
export async function tryElectronDownloadOnce(
  root: string,
  dataDir: string,
  onAttempt: () => void = () => {},
  timeoutMs = 30_000,
): Promise<DownloadOutcome> {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return 'skipped';
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));
  } catch {
    return 'skipped'; // electron is not installed at all (production install without dev dependencies)
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const marker = join(dataDir, '.electron-download-tried');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === version) return 'skipped';
  writeFileSync(marker, version + '\n');
  onAttempt();
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn(process.execPath, [join(pkgDir, 'install.js')], { cwd: pkgDir, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => resolve(false));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
  return ok && electronBinary(root) ? 'downloaded' : 'failed';
}
