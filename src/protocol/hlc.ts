// Hybrid logical clock (Kulkarni et al.): wall milliseconds that never run backwards, plus a counter that
// orders events within one millisecond. Pure. A terminal's clock may be wrong or reset; the HLC never goes back,
// and the last server-signed time seen is a floor, so a clock reset to 1970 still yields sensible times.
import type { Hlc } from './record.ts';

export const HLC_ZERO: Hlc = { ms: 0, c: 0 };

/** The HLC for a new local event, given the last one issued, the wall clock, and a floor (the last server-signed time). */
export function hlcNext(last: Hlc, nowMs: number, floorMs = 0): Hlc {
  const wall = Math.max(Math.trunc(nowMs), floorMs);
  if (wall > last.ms) return { ms: wall, c: 0 };
  return { ms: last.ms, c: last.c + 1 };
}

/** The HLC after receiving a remote timestamp (e.g. from the centre): ahead of both. */
export function hlcReceive(last: Hlc, remote: Hlc, nowMs: number): Hlc {
  const wall = Math.trunc(nowMs);
  const ms = Math.max(wall, last.ms, remote.ms);
  if (ms === last.ms && ms === remote.ms) return { ms, c: Math.max(last.c, remote.c) + 1 };
  if (ms === last.ms) return { ms, c: last.c + 1 };
  if (ms === remote.ms) return { ms, c: remote.c + 1 };
  return { ms, c: 0 };
}

/** Total order: negative if a before b. */
export function hlcCompare(a: Hlc, b: Hlc): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.c - b.c;
}
