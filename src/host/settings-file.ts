// Terminal settings (language, digits) in <data>/settings.json. Atomic write; a corrupt file falls back to
// defaults rather than stopping the counter.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, Settings } from '../api/index.ts';
import type { Logger } from '../util/log.ts';

export interface SettingsStore {
  get(): Settings;
  update(patch: Partial<Settings>): Settings;
}

export function fileSettingsStore(dataDir: string, log: Logger, initial: Partial<Settings> = {}): SettingsStore {
  const file = join(dataDir, 'settings.json');
  let current: Settings = { ...load(file, log), ...initial };
  return {
    get: () => current,
    update(patch) {
      const next = Settings.parse({ ...current, ...patch });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n');
      renameSync(tmp, file);
      current = next;
      return current;
    },
  };
}

function load(file: string, log: Logger): Settings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_SETTINGS;
  }
  try {
    return Settings.parse(JSON.parse(text));
  } catch (err) {
    log.warn({ file, err }, 'settings file is unreadable; using defaults');
    return DEFAULT_SETTINGS;
  }
}

/** In-memory settings (tests). */
export function memorySettingsStore(initial: Partial<Settings> = {}): SettingsStore {
  let current: Settings = { ...DEFAULT_SETTINGS, ...initial };
  return {
    get: () => current,
    update(patch) {
      current = Settings.parse({ ...current, ...patch });
      return current;
    },
  };
}
