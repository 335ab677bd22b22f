// The counter with a real ESC/POS printer path end to end, against the virtual printer on a socat pty
// (test/support/virtual-printer.ts): the receipt is painted from the renderer's receipt page in headless Chromium,
// sent as raster, decoded back into a picture that matches what was painted dot for dot, and laid out right to left
// in Arabic (left to right in English). The drawer pulse comes only after the payout record is committed; paper out
// is reported to the screen as the printer reported it, the payout stays recorded, and printing again works once
// paper is loaded (marked as a copy).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreyPicture } from '../../drivers/printer/escpos.ts';
import type { Digits, Language } from '../../src/api/schemas.ts';
import { chromiumReceiptPainter, type ReceiptPainter } from '../../src/host/adapters/receipt-picture.ts';
import { ensureBuilt, rendererOutput } from '../../src/host/app-build.ts';
import { findChromium } from '../../src/host/chromium.ts';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { parsePrinter } from '../../src/host/terminal-config.ts';
import { REPO_ROOT } from '../../src/util/repo-root.ts';
import { VirtualPrinter, writePicturePng, type MonoPicture, type Pulse } from '../support/virtual-printer.ts';

const browser = findChromium();
const OUT = join(REPO_ROOT, 'test-results', 'printer');

/** Text bands of a receipt picture: runs of rows with ink, with the leftmost and rightmost inked column. */
function bands(p: MonoPicture): Array<{ top: number; bottom: number; left: number; right: number }> {
  const out: Array<{ top: number; bottom: number; left: number; right: number }> = [];
  let cur: { top: number; bottom: number; left: number; right: number } | null = null;
  for (let y = 0; y < p.height; y++) {
    let left = -1;
    let right = -1;
    for (let x = 0; x < p.width; x++) {
      if (p.ink[y * p.width + x]) {
        if (left < 0) left = x;
        right = x;
      }
    }
    // A rule (a line across the paper) is not text.
    const rule = left >= 0 && right - left > p.width * 0.9 && p.ink.subarray(y * p.width + left, y * p.width + right + 1).reduce((s, v) => s + v, 0) > (right - left) * 0.4;
    if (left < 0 || rule) {
      if (cur) out.push(cur);
      cur = null;
      continue;
    }
    if (!cur) cur = { top: y, bottom: y, left, right };
    else cur = { top: cur.top, bottom: y, left: Math.min(cur.left, left), right: Math.max(cur.right, right) };
  }
  if (cur) out.push(cur);
  return out.filter((b) => b.bottom - b.top >= 8); // text lines, not dashes
}

/** Lines that start at one edge only: 'right' in a right-to-left layout, 'left' in a left-to-right one. */
function anchoring(p: MonoPicture, paperDots: number) {
  const edge = 40;
  const b = bands(p);
  return {
    rightOnly: b.filter((x) => x.right >= paperDots - edge && x.left > edge).length,
    leftOnly: b.filter((x) => x.left <= edge && x.right < paperDots - edge).length,
  };
}

function sameDots(printed: MonoPicture, painted: GreyPicture): number {
  let wrong = 0;
  for (let y = 0; y < printed.height; y++) {
    for (let x = 0; x < printed.width; x++) {
      const want = x < painted.width && y < painted.height && painted.pixels[y * painted.width + x]! <= 160 ? 1 : 0;
      if (printed.ink[y * printed.width + x] !== want) wrong++;
    }
  }
  return wrong;
}

describe.skipIf(!browser)('ESC/POS receipt printer and cash drawer on a pty (virtual printer)', () => {
  let dir: string;
  let vp: VirtualPrinter;
  let k: Kiosk;
  let settings: { language: Language; digits: Digits } = { language: 'ar', digits: 'arab' };
  const painted: GreyPicture[] = [];

  beforeAll(async () => {
    await ensureBuilt(REPO_ROOT, { renderer: true });
    dir = mkdtempSync(join(tmpdir(), 'palmpay-printer-'));
    vp = await VirtualPrinter.onPty();
    const real = chromiumReceiptPainter({ browser: browser!, rendererDir: rendererOutput(REPO_ROOT), paperDots: 576 });
    const painter: ReceiptPainter = {
      async paint(...a) {
        const p = await real.paint(...a);
        painted.push(p);
        return p;
      },
    };
    k = await createKiosk({
      dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: false, backupDir: false,
      printer: parsePrinter(vp.spec), printSettings: () => settings, receiptPainter: painter,
    });
    k.host.sessionSend({ type: 'login.start' });
    k.present({ identity: 'op-cashier' });
    await k.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin');
    k.host.sessionSend({ type: 'auth.submit', pin: '1234' });
    await k.host.waitForSession((s) => s.step === 'active');
  }, 120_000);
  afterAll(async () => {
    await k?.close();
    await vp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const payouts = () => k.terminal.store.db.prepare(`SELECT count(*) FROM journal WHERE type='salary_payout'`).pluck().get() as number;

  /** Pays `who` up to the receipt step; returns what was true in the store when the drawer pulse arrived. */
  async function pay(who: string) {
    const before = payouts();
    const pulses0 = vp.pulses.length;
    const atPulse: Array<{ pulse: Pulse; payouts: number }> = [];
    const listener = (pulse: Pulse) => atPulse.push({ pulse, payouts: payouts() });
    vp.onPulse(listener);
    const f = k.host.start('payout');
    k.present({ identity: who });
    await k.host.waitFor(f.flowId, (s) => s.step === 'review');
    expect(vp.pulses.length).toBe(pulses0); // nothing before the cash is confirmed
    k.host.send(f.flowId, { type: 'cash.confirmed' });
    await k.host.waitFor(f.flowId, (s) => s.step === 'confirm', 20_000);
    k.present({ identity: who });
    const receipt = await k.host.waitFor(f.flowId, (s) => s.step === 'receipt', 20_000);
    vp.offPulse(listener);
    return { flowId: f.flowId, before, atPulse, receipt };
  }

  it('the drawer pulse comes only after the payout record is committed', async () => {
    const pulsesBefore = vp.pulses.length;
    const { before, atPulse } = await pay('emp-ahmad');
    expect(vp.pulses.length).toBe(pulsesBefore + 1);
    expect(atPulse).toHaveLength(1);
    expect(atPulse[0]!.pulse).toEqual({ kind: 'esc-p', pin: 2 });
    expect(atPulse[0]!.payouts).toBe(before + 2); // both periods' payout records were committed before the pulse
    // The "drawer not yet opened" marker (written with the records) is cleared once the pulse is sent.
    expect(k.terminal.store.db.prepare(`SELECT count(*) FROM drawer_pending`).pluck().get()).toBe(0);
    expect(k.status.printer.status()).toMatchObject({ kind: 'escpos', state: 'ready' });
  }, 60_000);

  it('a receipt decodes to the painted picture dot for dot, laid out right to left in Arabic and left to right in English', async () => {
    const { flowId } = await pay('emp-hevi');
    const next = vp.nextReceipt(30_000);
    k.host.send(flowId, { type: 'print' });
    const ar = await next;
    const shown = await k.host.waitFor(flowId, (s) => s.step === 'receipt' && s.print?.state === 'printed', 30_000);
    expect(shown.step === 'receipt' && shown.print).toEqual({ state: 'printed', copy: false });
    expect(vp.decoder.errors).toEqual([]);
    expect(ar.whileOffline).toBe(false);
    expect(sameDots(ar.picture, painted.at(-1)!)).toBe(0);
    writePicturePng(join(OUT, 'receipt-ar.png'), ar.picture);
    const arAnchors = anchoring(ar.picture, 576);
    expect(arAnchors.rightOnly).toBeGreaterThanOrEqual(4); // receipt no., terminal, time, name … start at the right
    expect(arAnchors.leftOnly).toBe(0);

    settings = { language: 'en', digits: 'latn' };
    const again = vp.nextReceipt(30_000);
    k.host.send(flowId, { type: 'print' });
    const en = await again;
    await k.host.waitFor(flowId, (s) => s.step === 'receipt' && s.print?.state === 'printed' && s.print.copy, 30_000);
    writePicturePng(join(OUT, 'receipt-en-copy.png'), en.picture);
    const enAnchors = anchoring(en.picture, 576);
    expect(enAnchors.leftOnly).toBeGreaterThanOrEqual(4);
    expect(enAnchors.rightOnly).toBe(0);
    settings = { language: 'ar', digits: 'arab' };
  }, 90_000);

  it('paper out: the payout stays recorded, the drawer still opens (real-time pulse), the screen says paper out and printing again works', async () => {
    vp.paperOut = true;
    const received = vp.receipts.length;
    const { flowId, before, atPulse } = await pay('emp-rojin');
    expect(payouts()).toBe(before + 1);
    expect(atPulse.at(-1)!.pulse).toEqual({ kind: 'realtime', pin: 2 });
    k.host.send(flowId, { type: 'print' });
    const failed = await k.host.waitFor(flowId, (s) => s.step === 'receipt' && s.print?.state === 'failed', 30_000);
    expect(failed.step === 'receipt' && failed.print).toEqual({ state: 'failed', reason: 'paper-out' });
    expect(vp.receipts.length).toBe(received); // nothing was sent
    expect(k.status.printer.status().state).toBe('paper-out');
    expect(payouts()).toBe(before + 1);

    vp.paperOut = false;
    const next = vp.nextReceipt(30_000);
    k.host.send(flowId, { type: 'print' });
    await next;
    // Nothing came out the first time, so this is the original, not a copy.
    expect(await k.host.waitFor(flowId, (s) => s.step === 'receipt' && s.print?.state === 'printed', 30_000)).toMatchObject({ print: { state: 'printed', copy: false } });
    expect(k.status.printer.status().state).toBe('ready');
  }, 90_000);

  it('the cover opened: reported as cover open', async () => {
    const { flowId } = await pay('emp-karim');
    vp.coverOpen = true;
    k.host.send(flowId, { type: 'print' });
    expect(await k.host.waitFor(flowId, (s) => s.step === 'receipt' && s.print?.state === 'failed', 30_000)).toMatchObject({ print: { state: 'failed', reason: 'cover-open' } });
    vp.coverOpen = false;
  }, 90_000);
});

describe.skipIf(!browser)('receipt painter', () => {
  it('a receipt page that paints nothing is RECEIPT_RENDER_FAILED, never a blank receipt', async () => {
    const blank = mkdtempSync(join(tmpdir(), 'palmpay-blank-renderer-'));
    try {
      writeFileSync(join(blank, 'receipt.html'), '<!doctype html><html><body></body></html>');
      const painter = chromiumReceiptPainter({ browser: browser!, rendererDir: blank, paperDots: 576 });
      const receipt = { kind: 'payout' as const, recordId: 'r', seq: 1, terminalId: 'T', at: '2026-12-05T10:00:00.000Z', operatorId: 'op', lines: [] };
      await expect(painter.paint(receipt, { language: 'ar', digits: 'arab', copy: false })).rejects.toMatchObject({ code: 'RECEIPT_RENDER_FAILED' });
      await expect(chromiumReceiptPainter({ browser: browser!, rendererDir: join(blank, 'nope'), paperDots: 576 }).paint(receipt, { language: 'ar', digits: 'arab', copy: false })).rejects.toMatchObject({ code: 'RENDERER_NOT_BUILT' });
    } finally {
      rmSync(blank, { recursive: true, force: true });
    }
  }, 60_000);
});
