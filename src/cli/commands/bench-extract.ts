// `palmpay bench extract`: milliseconds per frame for ROI + features on one core, with peers measured in the
// same run (JPEG decode of the same frame; one 3×3 box-blur pass over the frame).
import type { Command } from 'commander';

interface BenchExtractOptions {
  data?: string;
  frames: string;
  rounds: string;
  json?: string;
}

const DEFAULT_DATA = '../shared/data/casia-ms-940-dev';

export function registerBenchExtract(bench: Command): void {
  bench
    .command('extract')
    .description('palm-vein extraction (ROI + features) in ms per frame, one core')
    .option('--data <dir>', `images to time (default ${DEFAULT_DATA} when present, else synthetic hands)`)
    .option('--frames <n>', 'frames to use', '40')
    .option('--rounds <n>', 'timed passes over the frames', '5')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (o: BenchExtractOptions) => {
      const { existsSync, writeFileSync, readFileSync } = await import('node:fs');
      const { SingleBar, Presets } = await import('cli-progress');
      const jpeg = (await import('jpeg-js')).default;
      const { extract } = await import('../../biometrics/extract.ts');
      const { listDataSet } = await import('../../biometrics/eval/dataset.ts');
      const { synthHand } = await import('../../biometrics/synth.ts');
      const { DEFAULT_EXTRACT } = await import('../../biometrics/config.ts');
      type Frame = { width: number; height: number; pixels: Uint8Array };
      const nFrames = Math.max(1, Number(o.frames) || 40);
      const rounds = Math.max(1, Number(o.rounds) || 5);
      const dataDir = o.data ?? (existsSync(DEFAULT_DATA) ? DEFAULT_DATA : undefined);

      // Inputs: decoded frames plus, for real data, the JPEG bytes (the decode is one peer).
      const frames: Frame[] = [];
      const jpegs: Uint8Array[] = [];
      if (dataDir) {
        const samples = listDataSet(dataDir).samples;
        const step = Math.max(1, Math.floor(samples.length / nFrames));
        for (let i = 0; i < samples.length && frames.length < nFrames; i += step) {
          const bytes = readFileSync(samples[i]!.path);
          if (!/\.jpe?g$/i.test(samples[i]!.path)) continue;
          const img = jpeg.decode(bytes, { useTArray: true });
          const px = new Uint8Array(img.width * img.height);
          for (let k = 0; k < px.length; k++) px[k] = img.data[k * 4]!;
          frames.push({ width: img.width, height: img.height, pixels: px });
          jpegs.push(bytes);
        }
      } else {
        for (let i = 0; i < nFrames; i++) frames.push(synthHand({ seed: i + 1, angle: (i % 5) * 0.1 - 0.2 }).frame);
      }

      const extractMs: number[] = [];
      const blurMs: number[] = [];
      const decodeMs: number[] = [];
      let failures = 0;
      let sink = 0;
      const bar = new SingleBar({ format: 'bench extract [{bar}] {value}/{total}', stream: process.stderr }, Presets.shades_classic);
      bar.start(rounds * frames.length, 0);
      // One warm-up pass so the JIT has compiled the hot loops.
      for (const f of frames) extract(f);
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < frames.length; i++) {
          const f = frames[i]!;
          let t = performance.now();
          const res = extract(f);
          extractMs.push(performance.now() - t);
          if (!res.ok) failures++;
          t = performance.now();
          sink += boxBlurPass(f);
          blurMs.push(performance.now() - t);
          if (jpegs[i]) {
            t = performance.now();
            sink += jpeg.decode(jpegs[i]!, { useTArray: true }).width;
            decodeMs.push(performance.now() - t);
          }
          bar.increment();
        }
      }
      bar.stop();
      const p50 = (a: number[]): number => quantile(a, 0.5);
      const result = {
        what: 'extract(): segmentation, landmarks, ROI, quality, Gabor features, code packing; one core (single JS thread)',
        source: dataDir ? `${dataDir} (${frames.length} JPEG frames)` : `${frames.length} synthetic hands`,
        frame: `${frames[0]!.width}×${frames[0]!.height}`,
        coder: DEFAULT_EXTRACT.coder,
        coder_params: DEFAULT_EXTRACT.params,
        runs: extractMs.length,
        failures_to_acquire: failures,
        p50_ms: round(p50(extractMs)),
        p95_ms: round(quantile(extractMs, 0.95)),
        mean_ms: round(extractMs.reduce((s, v) => s + v, 0) / extractMs.length),
        target_ms: 30,
        peer_box_blur_p50_ms: round(p50(blurMs)),
        ratio_to_box_blur: round(p50(extractMs) / p50(blurMs)),
        peer_jpeg_decode_p50_ms: decodeMs.length ? round(p50(decodeMs)) : null,
        ratio_to_jpeg_decode: decodeMs.length ? round(p50(extractMs) / p50(decodeMs)) : null,
      };
      console.log(
        `extract: ${result.p50_ms} ms per frame (p50; p95 ${result.p95_ms}, mean ${result.mean_ms}; target ≤ ${result.target_ms}) over ${result.runs} runs of ${result.source}\n` +
          `peers:   3×3 box blur of the frame ${result.peer_box_blur_p50_ms} ms (extract = ${result.ratio_to_box_blur}×)` +
          (result.peer_jpeg_decode_p50_ms !== null ? `, JPEG decode ${result.peer_jpeg_decode_p50_ms} ms (extract = ${result.ratio_to_jpeg_decode}×)` : ''),
      );
      if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2));
      if (sink === -1) console.log('');
    });
}

/** A plain 3×3 box blur over the whole frame: the simplest full-frame pass, as a floor to compare with. */
function boxBlurPass(f: { width: number; height: number; pixels: Uint8Array }): number {
  const { width: w, height: h, pixels: p } = f;
  const out = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      out[i] = (p[i - w - 1]! + p[i - w]! + p[i - w + 1]! + p[i - 1]! + p[i]! + p[i + 1]! + p[i + w - 1]! + p[i + w]! + p[i + w + 1]!) / 9;
    }
  }
  return out[(h >> 1) * w + (w >> 1)]!;
}

function quantile(a: number[], q: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
