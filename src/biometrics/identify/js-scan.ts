// The same stage-1 search in plain JavaScript: the peer the benchmark compares the WebAssembly kernel against,
// and the tests' reference for the screened search (same blocks, same sample, same cut-off, same result).
import { BLOCK_SLOTS, CODE_BYTES, ENTRY_CODE_BYTES } from './kernel/kernel.ts';
import { cutoff, HIST_BINS, keepCount, SAMPLE_STEP, type ScreenPolicy } from './kernel/screen-cutoff.ts';

const POP16 = Uint8Array.from({ length: 65536 }, (_, i) => {
  let c = 0;
  for (let x = i; x; x >>= 1) c += x & 1;
  return c;
});

const WORDS = CODE_BYTES / 4;
const SLOT_WORDS = ENTRY_CODE_BYTES / 4;

/** The gallery as the index lays it out: per slot the plain code's words, then the unstable mask's. */
export interface JsGallery {
  codes: Uint32Array;
  count: number;
}

function exact(g: JsGallery, slot: number, probes: Uint32Array[]): number {
  let d = Infinity;
  const o = slot * SLOT_WORDS;
  for (const probe of probes) {
    let e = 0;
    for (let w = 0; w < WORDS; w++) {
      const x = g.codes[o + w]! ^ probe[w]!;
      e += POP16[x & 0xffff]! + POP16[x >>> 16]!;
    }
    if (e < d) d = e;
  }
  return d;
}

function screenDistance(g: JsGallery, slot: number, probe: Uint32Array): number {
  const o = slot * SLOT_WORDS;
  let e = 0;
  for (let w = 0; w < WORDS; w++) {
    const x = (g.codes[o + w]! ^ probe[w]!) & ~g.codes[o + WORDS + w]!;
    e += POP16[x & 0xffff]! + POP16[x >>> 16]!;
  }
  return e;
}

/** Keeps the k smallest (distance, slot) pairs, sorted. */
function offer(best: Array<{ distance: number; slot: number }>, k: number, distance: number, slot: number): void {
  if (best.length === k && (distance > best[k - 1]!.distance || (distance === best[k - 1]!.distance && slot > best[k - 1]!.slot))) return;
  let j = best.length;
  while (j > 0 && (best[j - 1]!.distance > distance || (best[j - 1]!.distance === distance && best[j - 1]!.slot > slot))) j--;
  best.splice(j, 0, { distance, slot });
  if (best.length > k) best.pop();
}

/**
 * The k smallest (exact distance, slot) pairs, a slot's exact distance being the smallest over the probes; with a
 * screen policy, only over the slots the screen keeps, block by block, exactly as ScanKernel.screenedScan does.
 */
export function jsTopK(g: JsGallery, probes: Uint32Array[], k: number, screen: ScreenPolicy | null): Array<{ distance: number; slot: number }> {
  const best: Array<{ distance: number; slot: number }> = [];
  for (let from = 0; from < g.count; from += BLOCK_SLOTS) {
    const to = Math.min(g.count, from + BLOCK_SLOTS);
    const len = to - from;
    const keep = screen ? keepCount(len, g.count, screen) : len;
    if (keep >= len) {
      for (let s = from; s < to; s++) offer(best, k, exact(g, s, probes), s);
      continue;
    }
    const d = new Uint16Array(len);
    for (let s = from; s < to; s++) d[s - from] = screenDistance(g, s, probes[0]!);
    const hist = new Uint32Array(HIST_BINS);
    for (let i = 0; i < len; i += SAMPLE_STEP) hist[d[i]!]!++;
    const tau = cutoff(hist, keep, len);
    for (let s = from; s < to; s++) if (d[s - from]! <= tau) offer(best, k, exact(g, s, probes), s);
  }
  return best;
}
