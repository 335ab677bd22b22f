// Record a live session into a readable fixture, replay it, and fail on unexpected/unconsumed exchanges.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ScannerClient } from '../../drivers/client/client.ts';
import { ReplayTransport, parseFixture, type Fixture } from '../../drivers/replay/fixture.ts';
import { recordSession } from './fixtures/record-session.ts';

async function replay(f: Fixture, steps: Array<'info' | 'capture' | 'indicator'>) {
  const t = new ReplayTransport(parseFixture(JSON.parse(JSON.stringify(f))));
  const client = await new ScannerClient(t, { serial: { exchangeTimeoutMs: 200, attempts: 1 }, hid: { exchangeTimeoutMs: 200, attempts: 1 } }).open();
  const out: unknown[] = [];
  try {
    for (const s of steps) out.push(s === 'info' ? await client.info() : s === 'capture' ? await client.capture() : await client.setIndicator('ok'));
  } finally {
    await client.close();
  }
  return { out, t };
}

describe.each(['serial', 'hid'] as const)('record & replay (%s)', (protocol) => {
  it('replays a recorded session to the same result, and fails on unexpected or unconsumed exchanges', async () => {
    const { fixture, pixels } = await recordSession(protocol);
    expect(fixture.exchanges.length).toBeGreaterThan(2);
    expect(fixture.exchanges.some((e) => e.says?.length)).toBe(true);

    const ok = await replay(fixture, ['info', 'capture']);
    expect(ok.out[1]).toMatchObject({ kind: 'frame', width: 32, height: 24, pixels });
    expect(() => ok.t.assertConsumed()).not.toThrow();

    await expect(replay(fixture, ['info', 'indicator'])).rejects.toMatchObject({ code: 'REPLAY_UNEXPECTED' });

    const partial = await replay(fixture, ['info']);
    expect(() => partial.t.assertConsumed()).toThrow(expect.objectContaining({ code: 'REPLAY_UNCONSUMED' }));
  });
});

describe('checked-in fixture', () => {
  it('the recorded serial session still replays against today\'s driver', async () => {
    const f = parseFixture(JSON.parse(await readFile(new URL('./fixtures/serial-session.json', import.meta.url), 'utf8')));
    const { out, t } = await replay(f, ['info', 'capture']);
    expect(out[0]).toMatchObject({ kind: 'serial-module', width: 32, height: 24 });
    expect(out[1]).toMatchObject({ kind: 'frame', width: 32, height: 24 });
    t.assertConsumed();
  });

  it('rejects a file that is not a fixture', () => {
    expect(() => parseFixture({ format: 'x' })).toThrow(expect.objectContaining({ code: 'REPLAY_BAD_FIXTURE' }));
    expect(() => parseFixture({ format: 'palmpay-scanner-fixture', version: 1, protocol: 'serial', exchanges: [{ host: 'zz', device: [] }] })).toThrow(expect.objectContaining({ code: 'REPLAY_BAD_FIXTURE' }));
  });
});
