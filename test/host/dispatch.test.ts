// The dispatcher: the table decides what is callable; input and output are checked; errors become codes.
import { describe, expect, it } from 'vitest';
import { calls, type Handlers } from '../../src/api/index.ts';
import { createDispatcher, missingHandlers } from '../../src/host/dispatch.ts';
import { createEventHub } from '../../src/host/event-hub.ts';
import { placeholderQueue, placeholderReferenceServer, placeholderScanner } from '../../src/host/placeholders.ts';
import { createHostService } from '../../src/host/service.ts';
import { memorySettingsStore } from '../../src/host/settings-file.ts';
import { PalmPayError } from '../../src/util/errors.ts';
import { silentLogger } from '../../src/util/log.ts';

function service(now = () => new Date('2026-01-02T03:04:05Z')) {
  const events = createEventHub();
  const host = createHostService({
    mode: 'browser',
    version: 't',
    settings: memorySettingsStore(),
    scanner: placeholderScanner(),
    link: placeholderReferenceServer(),
    queue: placeholderQueue(),
    events,
    now,
  });
  return { host, events };
}

describe('host service', () => {
  it('implements every call in the table', () => {
    expect(missingHandlers(service().host.handlers)).toEqual([]);
    expect(Object.keys(service().host.handlers).sort()).toEqual(Object.keys(calls).sort());
  });

  it('flags every placeholder part in its status', () => {
    const status = service().host.status();
    expect(status.placeholders.map((p) => p.part).sort()).toEqual(['printer', 'queue', 'scanner', 'server']);
    expect(status.scanner).toMatchObject({ kind: 'simulated', placeholder: true });
    expect(status.link).toMatchObject({ server: 'in-process', placeholder: true });
  });

  it('emits a settings event on change', async () => {
    const { host, events } = service();
    const seen: unknown[] = [];
    events.subscribe((e) => seen.push(e));
    const dispatch = createDispatcher(host.handlers, silentLogger());
    await dispatch('settings.setDigits', { digits: 'latn' });
    expect(seen).toEqual([{ type: 'settings', settings: { language: 'ar', digits: 'latn' } }]);
  });
});

describe('dispatcher', () => {
  const dispatch = createDispatcher(service().host.handlers, silentLogger());

  it('passes valid input and returns the output', async () => {
    expect(await dispatch('session.ping', { nonce: 'abc' })).toEqual({ ok: true, output: { nonce: 'abc', hostTime: '2026-01-02T03:04:05.000Z' } });
  });

  it('refuses names that are not in the table, including inherited properties', async () => {
    for (const name of ['nope', 'toString', '__proto__', 'hasOwnProperty', 42, null, undefined]) {
      expect(await dispatch(name, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    }
  });

  it('refuses bad input before the handler runs', async () => {
    for (const input of [undefined, {}, { nonce: '' }, { nonce: 'x'.repeat(65) }, { nonce: 1 }, { nonce: 'a', more: 1 }, 'text']) {
      expect(await dispatch('session.ping', input)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
  });

  it('turns typed errors into their code and hides everything else', async () => {
    const base = service().host.handlers;
    const broken: Handlers = {
      ...base,
      'settings.get': () => {
        throw new PalmPayError('SETTINGS_LOCKED', 'settings are locked by the supervisor');
      },
      'status.get': () => {
        throw new Error('secret detail /etc/shadow');
      },
      // A host bug: output that breaks the schema must not leave the host.
      'session.ping': () => ({ nonce: 1 }) as never,
    };
    const d = createDispatcher(broken, silentLogger());
    expect(await d('settings.get', undefined)).toEqual({ ok: false, error: { code: 'SETTINGS_LOCKED', message: 'settings are locked by the supervisor' } });
    const hidden = await d('status.get', undefined);
    expect(hidden).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(hidden)).not.toContain('shadow');
    expect(await d('session.ping', { nonce: 'a' })).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});
