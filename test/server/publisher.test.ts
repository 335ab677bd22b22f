// The per-process publisher (sequencer.ts): a commit's request is served by a run that starts after it, and the
// requests made while a run is in progress share one next run (so commits do not each wait for the counter lock).
import { expect, it } from 'vitest';
import { Publisher, type Published } from '../../src/server/sequencer.ts';

it('serves each request by a run started after it, and coalesces the requests made during a run', async () => {
  const runs: Array<{ what: Published[]; release: () => void }> = [];
  let started = 0;
  const p = new Publisher(
    (what) =>
      new Promise<void>((release) => {
        started++;
        runs.push({ what, release });
      }),
  );
  const first = p.request(['feed']);
  await new Promise((r) => setTimeout(r, 0));
  expect(started).toBe(1);
  // Three commits during the first run: none is served by it (it may have read before they committed).
  let doneA = false;
  const a = p.request(['feed']).then(() => (doneA = true));
  const b = p.request(['persons']);
  const c = p.request(['feed']);
  runs[0]!.release();
  await first;
  await new Promise((r) => setTimeout(r, 0));
  expect(doneA).toBe(false);
  expect(started).toBe(2);
  expect(runs[1]!.what.sort()).toEqual(['feed', 'persons']);
  runs[1]!.release();
  await Promise.all([a, b, c]);
  expect(started).toBe(2);
});

it('passes a failed run on to the requests it served, and runs again for the next', async () => {
  let fail = true;
  const p = new Publisher(async () => {
    if (fail) throw new Error('database gone');
  });
  await expect(p.request(['feed'])).rejects.toThrow('database gone');
  fail = false;
  await expect(p.request(['feed'])).resolves.toBeUndefined();
});
