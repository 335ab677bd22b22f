// Paints a receipt as the picture the ESC/POS printer prints: the renderer's own receipt page
// (dist/renderer/receipt.html, the screen's ReceiptView) opened in headless Chromium at the paper's width, one
// CSS pixel per printer dot, and photographed. The browser shapes Arabic and lays it right to left (HarfBuzz and
// the DejaVu fonts), which printer code pages cannot; a canvas library would need its own copy of the layout and
// wording, and Chromium is already what the kiosk runs on. One short-lived browser per receipt (about 1–3 s here),
// with a throw-away profile and no network; the receipt reaches it over the DevTools pipe, not its command line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { GreyPicture } from '../../../drivers/printer/escpos.ts';
import type { Digits, Language } from '../../api/schemas.ts';
import type { Receipt } from '../../flows/types.ts';
import { PalmPayError } from '../../util/errors.ts';
import { NO_NETWORK_FLAGS } from '../chromium.ts';
import { spawnWithPipe } from '../devtools-pipe.ts';

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
        const png = await photograph(opts.browser, work, `${pathToFileURL(page).href}#${fragment}`, opts.paperDots, opts.timeoutMs ?? 30_000, signal);
        return trim(toGrey(PNG.sync.read(png)), opts.paperDots);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}

/** Waits for the receipt page to render (receipt-print.tsx sets data-ready) and its fonts, at most READY_MS: a page
 * that never gets ready is photographed as it is, and a blank picture is refused (trim). */
const READY_MS = 10_000;
const READY = `new Promise((resolve) => {
  const started = Date.now();
  const check = () => {
    if (document.body && document.body.dataset.ready === 'true') document.fonts.ready.then(() => requestAnimationFrame(() => resolve(true)));
    else if (Date.now() - started > ${READY_MS}) resolve(false);
    else setTimeout(check, 20);
  };
  check();
})`;

/**
 * Opens `url` in a short-lived headless Chromium and returns a PNG of the page at `width` CSS pixels. The URL (the
 * receipt is in its fragment) goes over the DevTools pipe, never on the command line, which other users can read.
 */
async function photograph(browser: string, work: string, url: string, width: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  signal?.throwIfAborted();
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const args = [
    '--headless',
    '--disable-gpu',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--window-size=${width},${MAX_HEIGHT}`,
    '--allow-file-access-from-files', // its module scripts load from file://
    `--user-data-dir=${join(work, 'profile')}`,
    ...NO_NETWORK_FLAGS,
    ...(asRoot ? ['--no-sandbox'] : []),
    'about:blank',
  ];
  const { child, devtools } = spawnWithPipe(browser, args, { stderr: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // never started: no exit follows
  });
  const kill = () => child.kill('SIGKILL');
  const timer = setTimeout(kill, timeoutMs);
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const session = await devtools.attachFirstPage(timeoutMs);
    await devtools.send('Emulation.setDeviceMetricsOverride', { width, height: MAX_HEIGHT, deviceScaleFactor: 1, mobile: false }, session);
    await devtools.navigate(session, url);
    await devtools.send('Runtime.evaluate', { expression: READY, awaitPromise: true }, session);
    const shot = (await devtools.send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width, height: MAX_HEIGHT, scale: 1 } }, session)) as { data: string };
    return Buffer.from(shot.data, 'base64');
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const last = stderr.trim().split('\n').pop() ?? '';
    throw new PalmPayError('RECEIPT_RENDER_FAILED', `the browser painting the receipt failed: ${(err as Error).message}${last ? ` (${last})` : ''}`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', kill);
    kill();
    await exited;
  }
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
