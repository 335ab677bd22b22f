// ExchangeSlot.windowed: several chunk requests in flight, answers placed by what they name. A scripted peer
// answers (or loses, repeats, reorders) requests; the test checks the window is never exceeded and every item
// is taken exactly once.
import { describe, expect, it } from 'vitest';
import { ExchangeSlot, type WindowedOptions } from '../../drivers/client/exchange.ts';
import type { DriverSink } from '../../drivers/client/types.ts';
import { DriverError } from '../../drivers/errors.ts';

type Msg = { item: number; bad?: boolean };

function harness(peer: (item: number, answer: (m: Msg) => void, sendNo: number) => void) {
  const faults: string[] = [];
  let retries = 0;
  const sink: DriverSink = { fault: (e) => faults.push(e.code), retry: () => void retries++, palm: () => {}, deviceReady: () => {}, unresponsive: () => {}, trailingBytes: () => {} };
  let inFlight = 0;
  let maxInFlight = 0;
  let sends = 0;
  let writes = 0;
  // One write may carry several requests (one byte each here), as the windowed exchange batches them.
  const slot: ExchangeSlot<Msg> = new ExchangeSlot<Msg>(sink, async (bytes) => {
    writes++;
    for (const item of bytes) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      peer(item, (m) => {
        inFlight = Math.max(0, inFlight - 1);
        setImmediate(() => slot.offer(m));
      }, ++sends);
    }
  });
  const got: number[] = [];
  const run = (o: Partial<WindowedOptions<Msg>> = {}) =>
    slot.windowed('test', {
      count: 20,
      window: 4,
      attempts: 3,
      timeoutMs: 50,
      encode: (i) => new Uint8Array([i]),
      match: (m) => (m.bad ? new DriverError('PROTO_BAD_MESSAGE', 'damaged') : { item: m.item }),
      accept: (i) => got.push(i),
      ...o,
    });
  return { slot, run, got, faults, stats: () => ({ maxInFlight, sends, retries, writes }) };
}

describe('windowed exchanges', () => {
  it('keeps at most `window` requests in flight and takes every item once', async () => {
    const h = harness((item, answer) => setTimeout(() => answer({ item }), 1));
    await h.run();
    expect([...h.got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(h.stats().maxInFlight).toBe(4);
    expect(h.stats().sends).toBe(20);
    expect(h.stats().writes).toBeLessThan(20); // the first window went out in one write
  });

  it('asks again for a lost answer, passes over a duplicate, accepts answers out of order', async () => {
    const lost = new Set([3, 11]);
    const h = harness((item, answer, n) => {
      if (lost.delete(item)) return; // the first answer for 3 and 11 never comes
      const delay = item % 2 === 0 ? 5 : 1; // odd items overtake even ones
      setTimeout(() => answer({ item }), delay);
      if (n === 5) setTimeout(() => answer({ item }), delay + 2); // one answer comes twice
    });
    await h.run();
    expect([...h.got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(h.faults).toContain('SCANNER_TIMEOUT');
    expect(h.stats().retries).toBeGreaterThanOrEqual(2);
  });

  it('a damaged answer sends the oldest outstanding request again at once', async () => {
    let damaged = false;
    const h = harness((item, answer) => {
      if (item === 7 && !damaged) {
        damaged = true;
        return answer({ item, bad: true });
      }
      answer({ item });
    });
    const t0 = performance.now();
    await h.run({ timeoutMs: 5000 });
    expect(performance.now() - t0).toBeLessThan(2000); // not after the timeout
    expect(h.faults).toContain('PROTO_BAD_MESSAGE');
    expect(h.got).toHaveLength(20);
  });

  it('a write that timed out counts as a lost request, asked again; a failed link ends the request', async () => {
    let slow = true;
    const h = harness((item, answer) => {
      if (item === 4 && slow) {
        slow = false;
        throw new DriverError('SCANNER_TIMEOUT', 'write: no answer within 50 ms');
      }
      answer({ item });
    });
    await h.run();
    expect(h.got).toHaveLength(20);
    const broken = harness((item, answer) => {
      if (item === 4) throw new DriverError('TRANSPORT_WRITE_FAILED', 'the port went away');
      answer({ item });
    });
    await expect(broken.run()).rejects.toMatchObject({ code: 'TRANSPORT_WRITE_FAILED' });
    expect(broken.slot.busy).toBe(false);
  });

  it('gives up typed when an item is never answered', async () => {
    const h = harness((item, answer) => (item === 2 ? undefined : answer({ item })));
    await expect(h.run()).rejects.toMatchObject({ code: 'SCANNER_UNRESPONSIVE' });
    expect(h.slot.busy).toBe(false);
  });

  it('ends at once on a module restart, and frees the slot', async () => {
    const h = harness((item, answer) => (item === 5 ? h.slot.fail(new DriverError('DEVICE_RESTARTED', 'ready note')) : answer({ item })));
    await expect(h.run({ timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DEVICE_RESTARTED' });
    expect(h.slot.busy).toBe(false);
  });

  it('is aborted by its signal', async () => {
    const ac = new AbortController();
    const h = harness(() => setTimeout(() => ac.abort(), 5));
    await expect(h.run({ signal: ac.signal, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'SCANNER_ABORTED' });
    expect(h.slot.busy).toBe(false);
  });
});
