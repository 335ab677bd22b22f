// Logging: pino JSON lines into <data>/logs/palmpay.log (the console is kept for the few lines a person reads).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LogOptions {
  /** Data folder; logs go to <dataDir>/logs/palmpay.log. Without it, logs go to stderr. */
  dataDir?: string;
  level?: string;
  name?: string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.PALMPAY_LOG_LEVEL ?? 'info';
  const base = { name: opts.name ?? 'palmpay' };
  if (!opts.dataDir) return pino({ level, base }, pino.destination({ fd: 2, sync: true }));
  const dir = join(opts.dataDir, 'logs');
  mkdirSync(dir, { recursive: true });
  // sync: a kiosk may lose power at any moment; the log must be on disk when the line is written.
  return pino({ level, base }, pino.destination({ dest: join(dir, 'palmpay.log'), sync: true, mkdir: true }));
}

/** A logger that drops everything (tests, and the Electron stand-in). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
