// Where PalmPay keeps its data: the platform's user-data folder unless `--data DIR` says otherwise.
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PalmPayError } from './errors.ts';

const APP_DIR = 'PalmPay';

/** The platform's per-user data folder for PalmPay (what Electron's app.getPath('userData') would give). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR);
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_DIR);
}

/** Resolves the data folder (the override wins), creates it and proves it is writable. One clear error if not. */
export function prepareDataDir(override?: string): string {
  const dir = resolve(override ?? defaultDataDir());
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    // access() lies for root and on read-only mounts: write a probe file to be sure.
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new PalmPayError('DATA_DIR_UNWRITABLE', `cannot use data folder ${dir}: ${describeFsCode(code)} (${code}); choose another with --data DIR`, { cause: err });
  }
  return dir;
}

function describeFsCode(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'part of the path is a file, not a folder';
    case 'EEXIST':
      return 'a file with that name exists';
    case 'ENOSPC':
      return 'disk full';
    default:
      return 'not writable';
  }
}
