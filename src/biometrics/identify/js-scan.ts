// The same stage-1 search in plain JavaScript: the peer the benchmark compares the WebAssembly kernel against.
import { CODE_BYTES } from './kernel/kernel.ts';

const POP16 = Uint8Array.from({ length: 65536 }, (_, i) => {
  let c = 0;
  for (let x = i; x; x >>= 1) c += x & 1;
  return c;
});

/**
 * The k smallest (distance, slot) pairs of `count` codes laid out like the index, a slot's distance being the
 * smallest over the probes; ties break on the slot.
 */
export function jsTopK(codes: Uint32Array, count: number, probes: Uint32Array[], k: number): Array<{ distance: number; slot: number }> {
  const words = CODE_BYTES / 4;
  const best: Array<{ distance: number; slot: number }> = [];
  let worst = Infinity;
  for (let i = 0, o = 0; i < count; i++, o += words) {
    let d = Infinity;
    for (const probe of probes) {
      let e = 0;
      for (let w = 0; w < words; w++) {
        const x = codes[o + w]! ^ probe[w]!;
        e += POP16[x & 0xffff]! + POP16[x >>> 16]!;
      }
      if (e < d) d = e;
    }
    if (best.length < k || d < worst) {
      // Sorted insertion: k is small and insertions are rare after the first few thousand codes.
      let j = best.length;
      while (j > 0 && best[j - 1]!.distance > d) j--;
      best.splice(j, 0, { distance: d, slot: i });
      if (best.length > k) best.pop();
      if (best.length === k) worst = best[k - 1]!.distance;
    }
  }
  return best;
}
