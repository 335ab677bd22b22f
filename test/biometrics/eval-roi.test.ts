// palmpay eval --roi on a small generated set of pre-cropped ROIs (no real images in the repository): each palm is
// a smooth random texture of dark lines, each sample the same texture, moved by a pixel or two and with fresh noise.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxBlur } from '../../src/biometrics/image.ts';
import { registerEval } from '../../src/cli/commands/eval.ts';
import { mulberry32, normal } from '../../src/util/random.ts';

const SIDE = 128;
const dir = mkdtempSync(join(tmpdir(), 'palmpay-roi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function palmTexture(seed: number): Float32Array {
  const rng = mulberry32(seed);
  const big = SIDE + 8;
  const noise = Float32Array.from({ length: big * big }, () => normal(rng));
  const smooth = boxBlur(boxBlur(noise, big, big, 3), big, big, 3);
  let sd = 0;
  for (const v of smooth) sd += v * v;
  sd = Math.sqrt(sd / smooth.length);
  return smooth.map((v) => v / sd);
}

function writeSample(path: string, texture: Float32Array, seed: number): void {
  const rng = mulberry32(seed);
  const big = SIDE + 8;
  const ox = 4 + Math.floor(rng() * 3) - 1;
  const oy = 4 + Math.floor(rng() * 3) - 1;
  const png = new PNG({ width: SIDE, height: SIDE });
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = 120 + 30 * texture[(y + oy) * big + x + ox]! + 6 * normal(rng);
      const i = 4 * (y * SIDE + x);
      png.data[i] = png.data[i + 1] = png.data[i + 2] = Math.max(0, Math.min(255, Math.round(v)));
      png.data[i + 3] = 255;
    }
  }
  writeFileSync(path, PNG.sync.write(png));
}

describe('palmpay eval --roi (pre-cropped ROIs, generated fixture)', () => {
  const root = join(dir, 'rois');
  beforeAll(() => {
    for (let p = 1; p <= 8; p++) {
      const id = String(p).padStart(4, '0');
      mkdirSync(join(root, id), { recursive: true });
      const tex = palmTexture(p * 101);
      for (let s = 1; s <= 4; s++) writeSample(join(root, id, `${String(s).padStart(2, '0')}.png`), tex, p * 1000 + s);
    }
  });

  const run = async (args: string[]): Promise<void> => {
    const p = new Command('palmpay').exitOverride();
    registerEval(p);
    await p.parseAsync(['node', 'palmpay', 'eval', ...args]);
  };

  it('codes each crop directly, with the same protocols, folds and JSON', async () => {
    for (const protocol of ['all-pairs', 'cross-session']) {
      const json = join(dir, `${protocol}.json`);
      await run(['--roi', '--data', root, '--protocol', protocol, '--folds', '4', '--bootstrap', '50', '--matcher', 'elastic', '--json', json]);
      const r = JSON.parse(readFileSync(json, 'utf8'));
      expect(r.identities).toBe(8);
      expect(r.images).toBe(32);
      expect(r.fta_count).toBe(0);
      if (protocol === 'all-pairs') {
        expect(r.genuine_comparisons).toBe(8 * 6);
        expect(r.impostor_comparisons).toBe((32 * 31) / 2 - 48);
      } else {
        expect(r.genuine_comparisons).toBe(8 * 2);
        expect(r.impostor_comparisons).toBe(8 * 2 * 7);
      }
      // The same palm scores far below other palms: the crop reached the coder undistorted.
      expect(r.eer).toBe(0);
      expect(r.identification.rank1).toBe(1);
      const h = r.held_out;
      expect(h.folds).toBe(4);
      const people = h.fold_details.flatMap((d: { people: string[] }) => d.people);
      expect(new Set(people).size).toBe(8);
      expect(people).toHaveLength(8);
      expect(h.settings.some((s: { setting: string }) => /elastic/.test(s.setting))).toBe(true);
    }
  }, 60_000);

  it('--enrolment: template update (own capture admitted, no other palm admitted) and pose selection rows, on the held folds', async () => {
    const json = join(dir, 'enrolment.json');
    await run(['--roi', '--data', root, '--protocol', 'cross-session', '--folds', '4', '--bootstrap', '20', '--enrolment', '--json', json]);
    const u = JSON.parse(readFileSync(json, 'utf8')).held_out.template_update;
    // Samples 01–02 are session 1, 03–04 session 2: 03 is offered as the update, 04 probes.
    expect(u.rows.map((r: { enrol_captures: number; update: string }) => `${r.enrol_captures}/${r.update}`)).toEqual(['1/none', '1/strong', '1/pin', '3/none', '3/strong', '3/pin']);
    for (const r of u.rows) {
      expect(r.held.genuine).toBe(8);
      expect(r.offered).toBe(r.update === 'none' ? 0 : 8);
      // False accepts are counted for every row (the README's "updates on vs off" figure): every impostor pair counted.
      expect(r.held.false_accepts.impostors).toBe(8 * 7);
      expect(r.held.false_accepts.at_decision_threshold).toBeGreaterThanOrEqual(0);
    }
    // On this fixture, turning updates on changes no false-accept count (what the README measures on the full sets).
    for (const k of [1, 3]) {
      const rows = u.rows.filter((r: { enrol_captures: number }) => r.enrol_captures === k);
      for (const r of rows) expect(r.held.false_accepts.at_decision_threshold).toBe(rows[0].held.false_accepts.at_decision_threshold);
    }
    expect(u.rows.find((r: { update: string }) => r.update === 'pin').admitted).toBeGreaterThan(0);
    expect(u.poisoning[0]).toEqual({ enrol_captures: 1, attempts: 8 * 7, admitted: 0 });
    await expect(run(['--roi', '--data', root, '--protocol', 'all-pairs', '--enrolment'])).rejects.toMatchObject({ code: 'EVAL_USAGE' });
  }, 60_000);

  it('refuses what --roi cannot do, with a usage error', async () => {
    await expect(run(['--roi', '--data', root, '--perturb', 'rotate=10,scale=0.9-1.1,seed=1'])).rejects.toMatchObject({ code: 'EVAL_USAGE' });
    await expect(run(['--roi', '--data', root, '--matcher', 'bendy'])).rejects.toMatchObject({ code: 'EVAL_USAGE' });
  });
});
