// The second sensor (PolyU multispectral NIR, pre-cropped 128 × 128 ROIs) through `--roi`, on a subsample of the
// first 60 palms to keep CI short (the full 250-palm run is in README). Nothing was tuned on this set.
// Skips where the data is absent.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateProtocol, extractDataSet, type ExtractedSet } from '../../src/biometrics/eval/runner.ts';

const DATA = resolve(import.meta.dirname, '../../../shared/data/polyu-ms-nir-roi-dev');
const present = existsSync(DATA);
if (!present) console.warn(`[biometrics] skipping the PolyU --roi evaluation: ${DATA} is absent (research-only data, never in the repo)`);

describe.skipIf(!present)('PolyU NIR ROIs (--roi), first 60 palms × 12', () => {
  let set: ExtractedSet;
  beforeAll(async () => {
    set = await extractDataSet({ data: DATA, roi: true, identities: 60 });
  }, 240_000);

  it('acquires every crop and separates palms on held folds (EER ≤ 0.3 %)', () => {
    expect(set.samples).toHaveLength(720);
    expect(set.fails).toHaveLength(0);
    const r = evaluateProtocol(set, 'all-pairs', { folds: 5, seed: 1, bootstrap: 100 });
    expect(r.genuine_comparisons).toBe(60 * 66);
    const h = r.held_out!;
    expect(h.eer.value).toBeLessThanOrEqual(0.003);
    expect(h.identification.rank1.value).toBeGreaterThanOrEqual(0.995);
  });
});
