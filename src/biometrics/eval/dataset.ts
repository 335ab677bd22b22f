// I/O edge: lists an evaluation data set and decodes its images into grey frames.
// Layouts: CASIA multispectral names (`<id>_<l|r>_<band>_<sample>.jpg`, samples 01–03 session 1, 04–06
// session 2) in one folder, or generic `<identity>/<sample>.<jpg|jpeg|png>` folders.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { PalmPayError } from '../../util/errors.ts';
import type { GreyFrame, Hand } from '../types.ts';

export interface Sample {
  /** Identity label: CASIA `<id>_<hand>` or the generic folder name. */
  identity: string;
  /** Sample label within the identity (file name without extension). */
  sample: string;
  /** 1-based position of the sample within its identity, in sorted order (CASIA: the sample number). */
  index: number;
  /** Session (CASIA: 1 for samples 1–3, 2 for 4–6; generic: 1 for the first half, 2 for the rest). */
  session: number;
  hand: Hand;
  path: string;
}

export interface DataSet {
  layout: 'casia' | 'generic';
  samples: Sample[];
  /** Byte-identical duplicates left out (path of the kept file → path dropped). */
  duplicates: Array<{ kept: string; dropped: string }>;
}

export class DataSetError extends PalmPayError {
  constructor(message: string) {
    super('EVAL_DATASET', message);
  }
}

const CASIA = /^(\d+)_([lr])_(\d+)_(\d+)\.(jpe?g|png)$/i;
const IMAGE = /\.(jpe?g|png)$/i;

export function listDataSet(dir: string): DataSet {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    throw new DataSetError(`cannot read data folder ${dir}`);
  }
  const casia = entries.filter((e) => CASIA.test(e));
  let samples: Sample[];
  let layout: DataSet['layout'];
  if (casia.length > 0) {
    layout = 'casia';
    samples = casia.map((name) => {
      const m = CASIA.exec(name)!;
      const index = Number(m[4]);
      return {
        identity: `${m[1]}_${m[2]!.toLowerCase()}`,
        sample: name.replace(IMAGE, ''),
        index,
        session: index <= 3 ? 1 : 2,
        hand: m[2]!.toLowerCase() === 'l' ? 'left' : 'right',
        path: join(dir, name),
      } satisfies Sample;
    });
  } else {
    layout = 'generic';
    samples = [];
    for (const id of entries) {
      const sub = join(dir, id);
      if (!statSync(sub).isDirectory()) continue;
      const files = readdirSync(sub).filter((f) => IMAGE.test(f)).sort();
      files.forEach((f, i) => {
        samples.push({
          identity: id,
          sample: f.replace(IMAGE, ''),
          index: i + 1,
          session: i < Math.ceil(files.length / 2) ? 1 : 2,
          hand: 'unknown',
          path: join(sub, f),
        });
      });
    }
  }
  if (samples.length === 0) throw new DataSetError(`no images found in ${dir} (expected <id>_l_940_<n>.jpg or <identity>/<sample>.jpg)`);
  const duplicates = dropDuplicates(samples);
  const dropped = new Set(duplicates.map((d) => d.dropped));
  return { layout, samples: samples.filter((s) => !dropped.has(s.path)), duplicates };
}

/** Byte-identical files within one identity would be trivial genuine matches: keep the first of each. */
function dropDuplicates(samples: Sample[]): DataSet['duplicates'] {
  const seen = new Map<string, string>();
  const out: DataSet['duplicates'] = [];
  for (const s of samples) {
    const key = `${s.identity}/${createHash('sha256').update(readFileSync(s.path)).digest('hex')}`;
    const kept = seen.get(key);
    if (kept) out.push({ kept, dropped: s.path });
    else seen.set(key, s.path);
  }
  return out;
}

/** Decodes a JPEG or PNG file into an 8-bit grey frame (the green channel, which is the grey for grey images). */
export function loadFrame(path: string): GreyFrame {
  const buf = readFileSync(path);
  try {
    if (/\.png$/i.test(path)) {
      const png = PNG.sync.read(buf);
      return rgbaToGrey(png.width, png.height, png.data);
    }
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    return rgbaToGrey(img.width, img.height, img.data);
  } catch (err) {
    throw new DataSetError(`cannot decode ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function rgbaToGrey(width: number, height: number, rgba: Uint8Array | Buffer): GreyFrame {
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const o = i * 4;
    pixels[i] = (rgba[o]! * 77 + rgba[o + 1]! * 150 + rgba[o + 2]! * 29) >> 8;
  }
  return { width, height, pixels };
}
