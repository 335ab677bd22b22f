import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSettingsStore } from '../../src/host/settings-file.ts';
import { silentLogger } from '../../src/util/log.ts';
import { defaultDataDir, prepareDataDir } from '../../src/util/paths.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-settings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('settings file', () => {
  it('defaults to Arabic with Arabic-Indic digits, persists changes, survives a corrupt file', () => {
    const dir = prepareDataDir(join(scratch, 'a'));
    const store = fileSettingsStore(dir, silentLogger());
    expect(store.get()).toEqual({ language: 'ar', digits: 'arab' });
    store.update({ language: 'en' });
    expect(fileSettingsStore(dir, silentLogger()).get()).toEqual({ language: 'en', digits: 'arab' });
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'))).toEqual({ language: 'en', digits: 'arab' });
    writeFileSync(join(dir, 'settings.json'), '{"language":"xx"');
    expect(fileSettingsStore(dir, silentLogger()).get()).toEqual({ language: 'ar', digits: 'arab' });
    expect(() => store.update({ language: 'fr' as never })).toThrow();
  });
});

describe('data folder', () => {
  it('uses the platform user-data folder', () => {
    expect(defaultDataDir({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.config/PalmPay');
    expect(defaultDataDir({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/PalmPay');
    expect(defaultDataDir({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Application Support/PalmPay');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toMatch(/Roaming.PalmPay$/);
  });

  it('creates the override and reports an unusable one with a code', () => {
    expect(prepareDataDir(join(scratch, 'new', 'deep'))).toBe(join(scratch, 'new', 'deep'));
    writeFileSync(join(scratch, 'file'), '');
    expect(() => prepareDataDir(join(scratch, 'file', 'sub'))).toThrow(expect.objectContaining({ code: 'DATA_DIR_UNWRITABLE' }));
  });
});
