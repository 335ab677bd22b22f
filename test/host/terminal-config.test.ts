// What a terminal runs on: scanner and centre specs, the file in the data folder, flags over it, --demo's defaults.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE, parseCentre, parsePrinter, parseScanner, readConfigFile, resolveConfig, writeConfigFile } from '../../src/host/terminal-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scanner specs', () => {
  it.each([
    ['auto', { kind: 'auto' }],
    ['sim', { kind: 'sim' }],
    ['serial:/dev/ttyACM0', { kind: 'serial', path: '/dev/ttyACM0' }],
    ['hid:04C5:1A2b', { kind: 'hid', usbId: '04c5:1a2b' }],
  ])('%s', (spec, want) => expect(parseScanner(spec)).toEqual(want));

  it.each(['', 'serial:', 'hid:04c5', 'hid:xyz:1', 'usb:1:2', 'simulated'])('refuses %j with CONFIG_INVALID', (spec) => {
    expect(() => parseScanner(spec)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('centre specs', () => {
  it('https anywhere, http only to this machine, unless --insecure-http', () => {
    expect(parseCentre('https://centre.example:8470/')).toEqual({ kind: 'remote', url: 'https://centre.example:8470', insecureHttp: false });
    expect(parseCentre('http://127.0.0.1:8470')).toEqual({ kind: 'remote', url: 'http://127.0.0.1:8470', insecureHttp: false });
    expect(parseCentre('http://[::1]:8470').kind).toBe('remote');
    expect(() => parseCentre('http://10.1.2.3:8470')).toThrow(expect.objectContaining({ code: 'CENTRE_INSECURE' }));
    expect(() => parseCentre('http://127.0.0.1.evil.example')).toThrow(expect.objectContaining({ code: 'CENTRE_INSECURE' }));
    expect(parseCentre('http://10.1.2.3:8470', true)).toEqual({ kind: 'remote', url: 'http://10.1.2.3:8470', insecureHttp: true });
    expect(parseCentre('embedded')).toEqual({ kind: 'embedded' });
  });

  it.each(['ftp://centre', 'centre.example', 'https://user:pw@centre.example', 'https://centre.example/?x=1', 'file:///etc/passwd'])('refuses %j', (spec) => {
    expect(() => parseCentre(spec)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('printer specs', () => {
  it('auto, none, serial:PATH[@BAUD], tcp:HOST:PORT', () => {
    expect(parsePrinter('auto')).toEqual({ kind: 'auto' });
    expect(parsePrinter('none')).toEqual({ kind: 'none' });
    expect(parsePrinter('serial:/dev/ttyUSB1')).toEqual({ kind: 'serial', path: '/dev/ttyUSB1' });
    expect(parsePrinter('serial:/dev/ttyS0@9600')).toEqual({ kind: 'serial', path: '/dev/ttyS0', baudRate: 9600 });
    expect(parsePrinter('tcp:192.168.1.50:9100')).toEqual({ kind: 'tcp', host: '192.168.1.50', port: 9100 });
    expect(parsePrinter('tcp:[fe80::1]:9100')).toEqual({ kind: 'tcp', host: 'fe80::1', port: 9100 });
  });
  it('anything else is CONFIG_INVALID, naming the forms', () => {
    for (const bad of ['', 'usb', 'serial:', 'tcp:host', 'tcp:host:0', 'tcp:host:70000', 'tcp:a b:9100', 'lp0']) {
      expect(() => parsePrinter(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/serial:PATH/) }));
    }
  });
  it('the flag over the file; none by default', () => {
    expect(resolveConfig({ printer: 'tcp:10.0.0.9:9100' }, {}).printer).toEqual({ kind: 'tcp', host: '10.0.0.9', port: 9100 });
    expect(resolveConfig({ printer: 'tcp:10.0.0.9:9100' }, { printer: 'none' }).printer).toEqual({ kind: 'none' });
  });
});

describe('resolveConfig', () => {
  it('--demo: the simulator and the embedded centre', () => {
    expect(resolveConfig({}, { demo: true })).toEqual({ scanner: { kind: 'sim' }, centre: { kind: 'embedded' }, printer: { kind: 'none' } });
  });
  it('without --demo nothing simulated or embedded starts unless named: auto scanner, no centre until provisioned', () => {
    expect(resolveConfig({}, {})).toEqual({ scanner: { kind: 'auto' }, centre: { kind: 'none' }, printer: { kind: 'none' } });
  });
  it('the file, and flags over it', () => {
    const file = { scanner: 'serial:/dev/ttyUSB0', centre: 'https://c.example' };
    expect(resolveConfig(file, {})).toEqual({ scanner: { kind: 'serial', path: '/dev/ttyUSB0' }, centre: { kind: 'remote', url: 'https://c.example', insecureHttp: false }, printer: { kind: 'none' } });
    expect(resolveConfig(file, { scanner: 'hid:04c5:0001' }).scanner).toEqual({ kind: 'hid', usbId: '04c5:0001' });
    expect(resolveConfig(file, { demo: true, centre: 'https://d.example' })).toEqual({ scanner: { kind: 'sim' }, centre: { kind: 'remote', url: 'https://d.example', insecureHttp: false }, printer: { kind: 'none' } });
  });
});

describe('terminal-config.json', () => {
  it('is written atomically, 0600, merged, and read back', () => {
    writeConfigFile(dir, { centre: 'https://c.example' });
    writeConfigFile(dir, { scanner: 'serial:/dev/ttyACM0' });
    expect(readConfigFile(dir)).toEqual({ centre: 'https://c.example', scanner: 'serial:/dev/ttyACM0' });
    expect(statSync(join(dir, CONFIG_FILE)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8'))).toEqual({ centre: 'https://c.example', scanner: 'serial:/dev/ttyACM0' });
  });

  it('a damaged or wrong file stops the start with its own message', () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(bad, CONFIG_FILE), '{not json');
    expect(() => readConfigFile(bad)).toThrow(/is not JSON/);
    writeFileSync(join(bad, CONFIG_FILE), JSON.stringify({ centre: 'http://10.0.0.9' }));
    expect(() => readConfigFile(bad)).toThrow(expect.objectContaining({ code: 'CENTRE_INSECURE' }));
    writeFileSync(join(bad, CONFIG_FILE), JSON.stringify({ scanner: 'sim', limits: 9e9 }));
    expect(() => readConfigFile(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
