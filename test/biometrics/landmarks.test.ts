// Landmark details that hand placement exposes: the palm radius (the ROI's scale unit) to a fraction of a pixel,
// and finger valleys when a fingertip leaves the frame. Synthetic shapes with known geometry; no images needed.
import { describe, expect, it } from 'vitest';
import { extract } from '../../src/biometrics/extract.ts';
import { palmCentre, refineCentre, segmentHand, traceContour } from '../../src/biometrics/landmarks.ts';
import { synthHand } from '../../src/biometrics/synth.ts';
import type { GreyFrame } from '../../src/biometrics/types.ts';

const deg = Math.PI / 180;

/**
 * A small (landmark-size) image of a bright disc of radius r centred on (cx, cy), area-sampled so that its edge
 * falls between pixels, with a strip (the arm) running from its centre off the bottom edge.
 */
function discHand(cx: number, cy: number, r: number): GreyFrame {
  const w = 192;
  const h = 144;
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let cover = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const X = x - 0.5 + (sx + 0.5) / 4;
          const Y = y - 0.5 + (sy + 0.5) / 4;
          if ((X - cx) ** 2 + (Y - cy) ** 2 <= r * r || (Y > cy && Math.abs(X - cx) <= 0.6 * r)) cover++;
        }
      }
      px[y * w + x] = Math.round(30 + (130 * cover) / 16);
    }
  }
  return { width: w, height: h, pixels: px };
}

describe('palm radius', () => {
  it('is the inscribed radius to within 0.15 px at any sub-pixel position and size', () => {
    // Whole-pixel outline points were off by 0.2–0.5 px here (1–3 % of R), depending on where the edge fell.
    for (const r of [18.3, 22, 25.7, 29.25, 31.6]) {
      for (const f of [0, 0.25, 0.5, 0.75]) {
        const hm = segmentHand(discHand(90 + f, 60 + 0.6 * f, r));
        const c = refineCentre(traceContour(hm), hm, palmCentre(hm));
        expect(Math.abs(c.radius - r), `r ${r}, offset ${f}`).toBeLessThan(0.15);
        expect(Math.hypot(c.x - 90 - f, c.y - 60 - 0.6 * f), `r ${r}, offset ${f}`).toBeLessThan(1.5);
      }
    }
  });
});

describe('a fingertip beyond the frame edge', () => {
  // Hands high in the frame, straight or turned, so that one or more fingertips leave the top edge (the arm
  // leaves the bottom). The fingers are still there: the valleys between them must still be found.
  const cases = [
    { angle: 0, cy: 300 },
    { angle: 0, cy: 260 },
    { angle: 15, cy: 280 },
    { angle: -15, cy: 300 },
    { angle: 30, cy: 280 },
    { angle: -30, cy: 260 },
  ];
  for (const c of cases) {
    it(`still gives the index–middle and ring–little valleys: rotated ${c.angle}°, centre at y ${c.cy}`, () => {
      const s = synthHand({ seed: 3, angle: c.angle * deg, cy: c.cy, scale: 1.1 });
      let cut = 0;
      for (let x = 0; x < s.frame.width; x++) if (s.frame.pixels[x]! > 60) cut++;
      expect(cut, 'a finger reaches the top edge').toBeGreaterThan(30);
      const r = extract(s.frame);
      expect(r.ok ? 'ok' : r.reason).toBe('ok');
      if (!r.ok) return;
      const found = [r.geometry.valleyA, r.geometry.valleyB];
      for (const truth of s.valleys) expect(Math.min(...found.map((f) => Math.hypot(f.x - truth.x, f.y - truth.y)))).toBeLessThan(8);
    });
  }
});
