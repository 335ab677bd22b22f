// Logging: pino JSON lines into <data>/logs/palmpay.N.log, rotated by pino-roll (daily and at 10 MB, 14 files kept,
// `current.log` links to the live one), so an unattended counter never fills its disk. The console is kept for the
// few lines a person reads.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';

export type { Logger } from 'pino';

export interface LogOptions {
  /** Data folder; logs go to <dataDir>/logs/ (current.log is the live file). Without it, logs go to stderr. */
  dataDir?: string;
  level?: string;
  name?: string;
  /** Rotate when a file reaches this size (pino-roll syntax: '10m', '512k'). Default '10m'. */
  rotateSize?: string;
  /** Files kept besides the live one. Default 14. */
  keepFiles?: number;
}

export async function createLogger(opts: LogOptions = {}): Promise<Logger> {
  const level = opts.level ?? process.env.PALMPAY_LOG_LEVEL ?? 'info';
  const base = { name: opts.name ?? 'palmpay' };
  if (!opts.dataDir) return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
  const dir = join(opts.dataDir, 'logs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dest = await pinoRoll({
    file: join(dir, 'palmpay'),
    extension: '.log',
    frequency: 'daily',
    size: opts.rotateSize ?? '10m',
    limit: { count: opts.keepFiles ?? 14 },
    symlink: true,
    mkdir: true,
    mode: 0o600,
    // sync: a kiosk may lose power at any moment; the log must be on disk when the line is written.
    sync: true,
  });
  return pino({ level, base }, dest);
}

/** A logger that drops everything (tests, and the Electron stand-in). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
