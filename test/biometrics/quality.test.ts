import { describe, expect, it } from 'vitest';
import { extract } from '../../src/biometrics/extract.ts';
import { boxBlur } from '../../src/biometrics/image.ts';
import { ftaMessage, guidanceFor } from '../../src/biometrics/quality.ts';
import { synthHand } from '../../src/biometrics/synth.ts';
import { BadFrameError, type GreyFrame } from '../../src/biometrics/types.ts';

function blurred(f: GreyFrame, r: number): GreyFrame {
  const src = Float32Array.from(f.pixels);
  let out = boxBlur(src, f.width, f.height, r);
  out = boxBlur(out, f.width, f.height, r);
  return { ...f, pixels: Uint8Array.from(out, (v) => Math.round(v)) };
}

function scaled(f: GreyFrame, k: number): GreyFrame {
  return { ...f, pixels: Uint8Array.from(f.pixels, (v) => Math.min(255, Math.round(v * k))) };
}

function reason(f: GreyFrame): string {
  const r = extract(f);
  return r.ok ? 'ok' : r.reason;
}

function guidance(f: GreyFrame): string {
  const r = extract(f);
  return r.ok ? 'ok' : r.guidance;
}

describe('quality and failure to acquire', () => {
  it('accepts a good capture with a high score', () => {
    const r = extract(synthHand({ seed: 2 }).frame);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.quality.score).toBeGreaterThan(0.5);
  });

  it('an empty frame is "no hand"', () => {
    const f = synthHand().frame;
    expect(reason({ ...f, pixels: new Uint8Array(f.pixels.length).fill(20) })).toBe('no-hand');
  });

  it('closed fingers ask to spread the fingers', () => {
    expect(reason(synthHand({ fingerGap: 0 }).frame)).toBe('fingers-closed');
    expect(reason(synthHand({ fingerGap: -6, angle: 0.3 }).frame)).toBe('fingers-closed');
    expect(ftaMessage('fingers-closed')).toMatch(/spread/i);
  });

  it('a small, distant hand asks to move closer', () => {
    expect(reason(synthHand({ scale: 0.4 }).frame)).toBe('too-far');
  });

  it('a hand leaving the frame is partial', () => {
    const r = reason(synthHand({ cx: 60, cy: 330 }).frame);
    expect(['hand-partial', 'fingers-closed']).toContain(r);
  });

  it('a blurred capture is rejected, a dark one too', () => {
    expect(reason(blurred(synthHand({ seed: 3 }).frame, 4))).toBe('blurred');
    expect(reason(scaled(synthHand({ seed: 3 }).frame, 0.18))).toBe('too-dark');
  });

  it('a capture without visible veins is low-contrast', () => {
    expect(reason(synthHand({ seed: 4, veinDepth: 0 }).frame)).toMatch(/low-contrast|blurred/);
  });

  it('each kind of failure asks for its own correction (guidance code for the screens)', () => {
    expect(guidance(synthHand({ fingerGap: 0 }).frame)).toBe('open-fingers');
    expect(guidance(synthHand({ scale: 0.4 }).frame)).toBe('move-closer');
    expect(guidance(blurred(synthHand({ seed: 3 }).frame, 4))).toBe('hold-still');
    expect(guidance(scaled(synthHand({ seed: 3 }).frame, 0.18))).toBe('adjust-light');
    const f = synthHand().frame;
    expect(guidance({ ...f, pixels: new Uint8Array(f.pixels.length).fill(20) })).toBe('place-hand');
    // Distinct corrections never share a code; the two exposure failures share "adjust the light".
    expect(guidanceFor('low-contrast')).toBe('hold-flat');
    expect(guidanceFor('too-close')).toBe('move-back');
    expect(guidanceFor('hand-partial')).toBe('centre-hand');
    const reasons = ['no-hand', 'hand-partial', 'fingers-closed', 'too-far', 'too-close', 'blurred', 'low-contrast', 'too-dark'] as const;
    expect(new Set(reasons.map(guidanceFor)).size).toBe(reasons.length);
  });

  it('rejects malformed frames with a typed error', () => {
    expect(() => extract({ width: 100, height: 100, pixels: new Uint8Array(10) })).toThrow(BadFrameError);
    expect(() => extract({ width: 10, height: 10, pixels: new Uint8Array(100) })).toThrow(BadFrameError);
  });
});
