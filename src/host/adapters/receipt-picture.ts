// Paints a receipt as the picture the ESC/POS printer prints: the renderer's own receipt page
// (dist/renderer/receipt.html, the screen's ReceiptView) opened in headless Chromium at the paper's width, one
// CSS pixel per printer dot, and photographed. The browser shapes Arabic and lays it right to left (HarfBuzz and
// the DejaVu fonts), which printer code pages cannot; a canvas library would need its own copy of the layout and
// wording, and Chromium is already what the kiosk runs on. One short-lived browser per receipt (about 1–3 s here),
// with a throw-away profile and no network.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { GreyPicture } from '../../../drivers/printer/escpos.ts';
import type { Digits, Language } from '../../api/schemas.ts';
import type { Receipt } from '../../flows/types.ts';
import { PalmPayError } from '../../util/errors.ts';
import { NO_NETWORK_FLAGS } from '../chromium.ts';

export interface PaintOptions {
  language: Language;
  digits: Digits;
  /** A reprint: the receipt says COPY / نسخة. */
  copy: boolean;
}

export interface ReceiptPainter {
  paint(receipt: Receipt, opts: PaintOptions, signal?: AbortSignal): Promise<GreyPicture>;
}

/** The tallest receipt painted (a long Z-report fits; the picture is trimmed to its content). */
const MAX_HEIGHT = 6000;
/** Blank paper kept under the last line before the cut. */
const BOTTOM_MARGIN = 24;

export function chromiumReceiptPainter(opts: { browser: string; rendererDir: string; paperDots: number; timeoutMs?: number }): ReceiptPainter {
  const page = join(opts.rendererDir, 'receipt.html');
  return {
    async paint(receipt, paint, signal) {
      if (!existsSync(page)) throw new PalmPayError('RENDERER_NOT_BUILT', `the receipt page is not built (${page}); run: npm run build`);
      const fragment = Buffer.from(JSON.stringify({ receipt, ...paint, paperDots: opts.paperDots }), 'utf8').toString('base64url');
      const work = mkdtempSync(join(tmpdir(), 'palmpay-receipt-'));
      try {
        const shot = join(work, 'receipt.png');
        const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
        const args = [
          '--headless',
          '--disable-gpu',
          '--hide-scrollbars',
          '--force-device-scale-factor=1',
          `--window-size=${opts.paperDots},${MAX_HEIGHT}`,
          '--virtual-time-budget=10000', // the page renders before the picture is taken
          '--allow-file-access-from-files', // its module scripts load from file://
          `--user-data-dir=${join(work, 'profile')}`,
          `--screenshot=${shot}`,
          ...NO_NETWORK_FLAGS,
          ...(asRoot ? ['--no-sandbox'] : []),
          `${pathToFileURL(page).href}#${fragment}`,
        ];
        await run(opts.browser, args, opts.timeoutMs ?? 30_000, signal);
        if (!existsSync(shot)) throw new PalmPayError('RECEIPT_RENDER_FAILED', 'the browser took no picture of the receipt');
        return trim(toGrey(PNG.sync.read(readFileSync(shot))), opts.paperDots);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}

function run(browser: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn(browser, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => reject(new PalmPayError('RECEIPT_RENDER_FAILED', `cannot start ${browser}: ${err.message}`, { cause: err })));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) return reject(signal.reason);
      if (code === 0) return resolve();
      reject(new PalmPayError('RECEIPT_RENDER_FAILED', `the browser painting the receipt ${sig ? `was stopped (${sig})` : `exited ${code}`}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}

function toGrey(png: PNG): GreyPicture {
  const pixels = new Uint8Array(png.width * png.height);
  for (let i = 0; i < pixels.length; i++) {
    const o = i * 4;
    pixels[i] = Math.round(0.299 * png.data[o]! + 0.587 * png.data[o + 1]! + 0.114 * png.data[o + 2]!);
  }
  return { width: png.width, height: png.height, pixels };
}

/** Cuts the blank paper below the last printed row (and any width beyond the paper). */
function trim(p: GreyPicture, paperDots: number): GreyPicture {
  const width = Math.min(p.width, paperDots);
  let last = -1;
  for (let y = p.height - 1; y >= 0 && last < 0; y--) {
    for (let x = 0; x < width; x++) {
      if (p.pixels[y * p.width + x]! < 250) {
        last = y;
        break;
      }
    }
  }
  // A blank page means the receipt page did not render (not built, a script error): never print blank paper.
  if (last < 0) throw new PalmPayError('RECEIPT_RENDER_FAILED', 'the receipt page painted nothing');
  const height = Math.min(p.height, last + 1 + BOTTOM_MARGIN);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) pixels.set(p.pixels.subarray(y * p.width, y * p.width + width), y * width);
  return { width, height, pixels };
}
