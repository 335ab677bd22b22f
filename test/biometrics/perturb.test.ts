// The --perturb evaluation tool: the spec parser, the seeded warp and the ROI-error diagnostics. No images needed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  backgroundLevel,
  drawSimilarity,
  forwardPoint,
  geometryError,
  parsePerturb,
  PerturbSpecError,
  warpGeometry,
  warpSimilarity,
} from '../../src/biometrics/eval/perturb.ts';
import { main } from '../../src/cli/main.ts';
import { PalmPayError } from '../../src/util/errors.ts';
import type { GreyFrame, RoiGeometry } from '../../src/biometrics/types.ts';

describe('parsePerturb', () => {
  it('reads rotation, a scale range or a single scale, and the seed, in any order', () => {
    expect(parsePerturb('rotate=30,scale=0.85-1.1,seed=1')).toEqual({ rotateDeg: 30, scaleMin: 0.85, scaleMax: 1.1, seed: 1 });
    expect(parsePerturb(' seed=7 , scale=1.05 ')).toEqual({ rotateDeg: 0, scaleMin: 1.05, scaleMax: 1.05, seed: 7 });
    expect(parsePerturb('rotate=12.5')).toEqual({ rotateDeg: 12.5, scaleMin: 1, scaleMax: 1, seed: 1 });
  });

  it('round-trips every valid spec', () => {
    const dec = fc.integer({ min: 0, max: 10_000 }).map((v) => v / 100); // two decimals
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 18_000 }), dec, dec, fc.integer({ min: 0, max: 0xffffffff }), (r10, a, b, seed) => {
        const lo = 0.25 + Math.min(a, b) / 40;
        const hi = 0.25 + Math.max(a, b) / 40;
        const text = `rotate=${r10 / 100},scale=${lo}-${hi},seed=${seed}`;
        expect(parsePerturb(text)).toEqual({ rotateDeg: r10 / 100, scaleMin: lo, scaleMax: hi, seed });
      }),
    );
  });

  const bad = [
    '', ' , ', 'rotate', 'tilt=3', 'rotate=', 'rotate=-5', 'rotate=200', 'rotate=1e1', 'rotate=0x10', 'rotate=NaN',
    'scale=1.2-0.9', 'scale=0.1', 'scale=5', 'scale=0.9-', 'scale=-0.9', 'scale=0.9-1-1.1', 'scale=a-b',
    'seed=1.5', 'seed=-1', 'seed=4294967296', 'seed=', 'rotate=10,rotate=20', 'rotate=10;seed=2',
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} with a typed usage error`, () => {
      let err: unknown;
      try {
        parsePerturb(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PerturbSpecError);
      expect(err).toBeInstanceOf(PalmPayError);
      expect((err as PalmPayError).code).toBe('EVAL_USAGE');
      expect((err as Error).message).toMatch(/^bad --perturb: /);
    });
  }
});

describe('palmpay eval --perturb', () => {
  afterEach(() => vi.restoreAllMocks());
  it('a bad spec is one line on stderr and exit code 1, before any data is read', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const code = await main(['node', 'palmpay', 'eval', '--data', '/nonexistent-palmpay-data', '--perturb', 'rotate=abc']);
    expect(code).toBe(1);
    expect(lines).toEqual(['palmpay: bad --perturb: rotate=abc (0..180 degrees)']);
  });
});

/** A dark frame with one bright 3 × 3 square centred on (x, y). */
function dot(w: number, h: number, x: number, y: number): GreyFrame {
  const px = new Uint8Array(w * h).fill(20);
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) px[(y + dy) * w + x + dx] = 220;
  return { width: w, height: h, pixels: px };
}

function brightCentroid(f: GreyFrame): { x: number; y: number } {
  let sx = 0, sy = 0, s = 0;
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const v = Math.max(0, f.pixels[y * f.width + x]! - 20);
      sx += v * x; sy += v * y; s += v;
    }
  }
  return { x: sx / s, y: sy / s };
}

describe('the seeded warp', () => {
  const spec = parsePerturb('rotate=30,scale=0.85-1.1,seed=1');

  it('is drawn from the seed and the key alone, within the spec', () => {
    expect(drawSimilarity(spec, '001/001_l_940_01', 768, 576)).toEqual(drawSimilarity(spec, '001/001_l_940_01', 768, 576));
    expect(drawSimilarity(spec, '001/001_l_940_01', 768, 576)).not.toEqual(drawSimilarity(spec, '001/001_l_940_02', 768, 576));
    expect(drawSimilarity(spec, 'k', 768, 576)).not.toEqual(drawSimilarity({ ...spec, seed: 2 }, 'k', 768, 576));
    const draws = Array.from({ length: 400 }, (_, i) => drawSimilarity(spec, `id/${i}`, 768, 576));
    const deg = draws.map((d) => (d.angle * 180) / Math.PI);
    const sc = draws.map((d) => d.scale);
    expect(Math.min(...deg)).toBeGreaterThanOrEqual(-30);
    expect(Math.max(...deg)).toBeLessThanOrEqual(30);
    expect(Math.min(...deg)).toBeLessThan(-27); // the whole range is used
    expect(Math.max(...deg)).toBeGreaterThan(27);
    expect(Math.min(...sc)).toBeGreaterThanOrEqual(0.85);
    expect(Math.max(...sc)).toBeLessThanOrEqual(1.1);
    expect(draws[0]!.cx).toBe(383.5);
    expect(draws[0]!.cy).toBe(287.5);
  });

  it('the identity warp leaves the frame unchanged', () => {
    const f = dot(40, 30, 12, 9);
    expect(warpSimilarity(f, { angle: 0, scale: 1, cx: 19.5, cy: 14.5 }).pixels).toEqual(f.pixels);
  });

  it('moves image content where forwardPoint says, and fills the uncovered border with the background', () => {
    for (const t of [
      { angle: (25 * Math.PI) / 180, scale: 1.1, cx: 79.5, cy: 59.5 },
      { angle: (-30 * Math.PI) / 180, scale: 0.85, cx: 79.5, cy: 59.5 },
    ]) {
      const p = { x: 110, y: 40 };
      const warped = warpSimilarity(dot(160, 120, p.x, p.y), t);
      const got = brightCentroid(warped);
      const want = forwardPoint(t, p);
      expect(Math.hypot(got.x - want.x, got.y - want.y)).toBeLessThan(0.3);
      // Anticlockwise on screen (y down) for a positive angle: a point right of the centre moves up.
      if (t.angle > 0) expect(forwardPoint(t, { x: 100, y: 59.5 }).y).toBeLessThan(59.5);
      expect(backgroundLevel(warped)).toBe(20);
    }
  });

  it('an ROI carried exactly through the warp has zero error; a turned or resized one shows it', () => {
    const ref: RoiGeometry = { valleyA: { x: 300, y: 200 }, valleyB: { x: 420, y: 215 }, centre: { x: 352, y: 300 }, side: 150, angle: Math.atan2(15, 120) };
    const t = drawSimilarity(spec, 'some/sample', 768, 576);
    const exact = warpGeometry(ref, t);
    const e = geometryError(ref, exact, t);
    for (const v of [e.angleDeg, e.scale, e.centreCells, e.valleyCells]) expect(Math.abs(v)).toBeLessThan(1e-9);
    const off = geometryError(ref, { ...exact, angle: exact.angle + (2 * Math.PI) / 180, side: exact.side * 1.03, centre: { x: exact.centre.x + exact.side / 32, y: exact.centre.y } }, t);
    expect(off.angleDeg).toBeCloseTo(2, 9);
    expect(off.scale).toBeCloseTo(0.03, 9);
    expect(off.centreCells).toBeCloseTo(1 / 1.03, 9);
  });
});
