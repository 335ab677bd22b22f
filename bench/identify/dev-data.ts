// Reads the dev images (CASIA MS 940 nm, ../shared/data) and extracts their templates with the recogniser.
// I/O at the edge: used by the benchmark, the calibration of the synthetic gallery and the dev-data test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { extract } from '../../src/biometrics/extract.ts';
import { DEFAULT_QUALITY_LIMITS, type QualityLimits } from '../../src/biometrics/quality.ts';
import type { Template } from '../../src/biometrics/types.ts';

export const DEV_DATA_DIR = process.env.PALMPAY_DEV_DATA ?? '/work/shared/data/casia-ms-940-dev';

export interface DevSample {
  file: string;
  identity: string;
  /** 1..6; 1–3 first session, 4–6 a month later. */
  sample: number;
  template: Template | null;
  /** Why extraction failed (failure to acquire), when it did. */
  fta?: string;
}

export function devDataPresent(dir = DEV_DATA_DIR): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.jpg'));
}

/**
 * Image-quality gates are the recogniser's business (and still being tuned): identification is calibrated and
 * tested on every palm the extractor can code, so detail, contrast, uniformity, palm size and valley plausibility do not gate here. Geometry still does.
 */
export const DEV_LIMITS: QualityLimits = { ...DEFAULT_QUALITY_LIMITS, minDetail: 0, minVeinContrast: 0, minUniformity: 0, minPalmSize: 0, minPlausibility: 0, minMean: 0, maxMean: 255, maxSaturated: 1 };

/** Every dev image, extracted. Skips 001_l_940_03 (byte-identical to _02, see the data README). */
export function loadDevSamples(dir = DEV_DATA_DIR, onProgress?: (done: number, total: number) => void, limits = DEV_LIMITS): DevSample[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_l_940_\d{2}\.jpg$/.test(f) && f !== '001_l_940_03.jpg')
    .sort();
  return files.map((file, i) => {
    const img = jpeg.decode(readFileSync(join(dir, file)), { useTArray: true, formatAsRGBA: true });
    const pixels = new Uint8Array(img.width * img.height);
    for (let p = 0; p < pixels.length; p++) pixels[p] = img.data[p * 4]!;
    const r = extract({ width: img.width, height: img.height, pixels }, { hand: 'left', limits });
    onProgress?.(i + 1, files.length);
    return {
      file,
      identity: file.slice(0, 3),
      sample: Number(file.slice(10, 12)),
      template: r.ok ? r.template : null,
      ...(r.ok ? {} : { fta: r.reason }),
    };
  });
}
