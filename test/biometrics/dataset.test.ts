import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { listDataSet, loadFrame } from '../../src/biometrics/eval/dataset.ts';
import { evaluateProtocol, extractDataSet } from '../../src/biometrics/eval/runner.ts';
import { synthHand } from '../../src/biometrics/synth.ts';
import { Command } from 'commander';
import { registerEval } from '../../src/cli/commands/eval.ts';
import { existsSync, readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-bio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeHand(path: string, seed: number, noiseSeed: number, angle: number): void {
  const f = synthHand({ seed, noiseSeed, angle }).frame;
  const png = new PNG({ width: f.width, height: f.height });
  for (let i = 0; i < f.pixels.length; i++) {
    png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = f.pixels[i]!;
    png.data[4 * i + 3] = 255;
  }
  writeFileSync(path, PNG.sync.write(png));
}

describe('evaluation data sets', () => {
  it('reads the generic <identity>/<sample>.png layout, drops byte-identical duplicates, and evaluates it', async () => {
    const root = join(dir, 'generic');
    for (let id = 1; id <= 3; id++) {
      mkdirSync(join(root, `person${id}`), { recursive: true });
      for (let s = 1; s <= 4; s++) writeHand(join(root, `person${id}`, `s${s}.png`), id * 17, s, (s - 2) * 0.1);
    }
    writeHand(join(root, 'person1', 's5.png'), 17, 1, -0.1); // same bytes as s1
    const ds = listDataSet(root);
    expect(ds.layout).toBe('generic');
    expect(ds.samples).toHaveLength(12);
    expect(ds.duplicates).toHaveLength(1);
    // Sessions split each identity's files in sorted order, before duplicates are dropped (person1: s1–s3 | s4, s5).
    expect(ds.samples.filter((s) => s.session === 2)).toHaveLength(5);
    expect(loadFrame(ds.samples[0]!.path).width).toBe(768);

    const set = await extractDataSet({ data: root });
    const all = evaluateProtocol(set, 'all-pairs');
    expect(all.identities).toBe(3);
    expect(all.genuine_comparisons).toBe(3 * 6);
    expect(all.impostor_comparisons).toBe(66 - 18);
    const xs = evaluateProtocol(set, 'cross-session');
    expect(xs.genuine_comparisons).toBe(5);
    expect(xs.impostor_comparisons).toBe(10);
    expect(xs.identification.rank1).toBe(1);
  }, 60_000);

  it('palmpay eval writes the JSON report, the DET curve and the ROI dumps', async () => {
    const root = join(dir, 'generic');
    const json = join(dir, 'report.json');
    const det = join(dir, 'det.svg');
    const rois = join(dir, 'rois');
    // Only the eval command, so this test does not depend on other commands' modules.
    const program = (): Command => {
      const p = new Command('palmpay').exitOverride();
      registerEval(p);
      return p;
    };
    await program().parseAsync(['node', 'palmpay', 'eval', '--data', root, '--protocol', 'cross-session', '--json', json, '--det', det, '--dump-roi', rois, '--folds', '0']);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.protocol).toBe('cross-session');
    expect(report.identities).toBe(3);
    expect(typeof report.eer).toBe('number');
    expect(report.fnmr_at_fmr.map((p: { fmr: number }) => p.fmr)).toEqual([0.01, 0.001, 0.0001]);
    expect(readFileSync(det, 'utf8')).toMatch(/^<svg/);
    expect(existsSync(join(rois, 'person2__s1.png'))).toBe(true);
    await expect(program().parseAsync(['node', 'palmpay', 'eval', '--data', root, '--protocol', 'sideways'])).rejects.toMatchObject({ code: 'EVAL_USAGE' });
    // Three people cannot fill the default 5 person-disjoint folds: a clear error, not a figure.
    await expect(program().parseAsync(['node', 'palmpay', 'eval', '--data', root])).rejects.toMatchObject({ code: 'EVAL_FOLDS' });
    await expect(program().parseAsync(['node', 'palmpay', 'eval', '--data', root, '--folds', '1'])).rejects.toMatchObject({ code: 'EVAL_USAGE' });
  }, 60_000);

  it('parses CASIA names into identity, sample and session', () => {
    const root = join(dir, 'casia');
    mkdirSync(root);
    writeHand(join(root, '007_l_940_01.png'), 1, 1, 0);
    writeHand(join(root, '007_l_940_05.png'), 1, 2, 0);
    const ds = listDataSet(root);
    expect(ds.layout).toBe('casia');
    expect(ds.samples.map((s) => [s.identity, s.index, s.session, s.hand])).toEqual([
      ['007_l', 1, 1, 'left'],
      ['007_l', 5, 2, 'left'],
    ]);
  });

  it('fails with a typed error on an empty or missing folder', () => {
    expect(() => listDataSet(join(dir, 'missing'))).toThrow(/cannot read/);
    mkdirSync(join(dir, 'empty'));
    expect(() => listDataSet(join(dir, 'empty'))).toThrow(/no images/);
  });
});
