// Prints a self-contained HTML page to PDF in a short-lived headless Chromium (DevTools `Page.printToPDF`): the
// person's financial report (`palmpay server report --pdf`) comes from the same printable HTML as on screen. The
// browser shapes Arabic and lays it right to left (HarfBuzz, the DejaVu fonts), which a PDF library drawing glyph
// by glyph would need its own shaper for. The page goes through a private temporary file and the DevTools pipe,
// never the command line (readable by every local user); no network, a throw-away profile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PalmPayError } from '../util/errors.ts';
import { findChromium, NO_NETWORK_FLAGS } from './chromium.ts';
import { spawnWithPipe } from './devtools-pipe.ts';

export interface HtmlPdfOptions {
  /** The browser; default: PALMPAY_BROWSER or an installed Chromium/Chrome/Edge (findChromium). */
  browser?: string;
  timeoutMs?: number;
}

/** The PDF bytes of `html` (A4, backgrounds printed). Throws PDF_RENDER_FAILED / BROWSER_NOT_FOUND. */
export async function htmlToPdf(html: string, opts: HtmlPdfOptions = {}): Promise<Buffer> {
  const browser = opts.browser ?? findChromium();
  if (!browser) throw new PalmPayError('BROWSER_NOT_FOUND', 'no Chromium, Chrome or Edge found to print the PDF: install one or set PALMPAY_BROWSER');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const work = mkdtempSync(join(tmpdir(), 'palmpay-pdf-'));
  const page = join(work, 'page.html');
  writeFileSync(page, html, { mode: 0o600 });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const { child, devtools } = spawnWithPipe(browser, ['--headless', '--disable-gpu', `--user-data-dir=${join(work, 'profile')}`, ...NO_NETWORK_FLAGS, ...(asRoot ? ['--no-sandbox'] : []), 'about:blank'], { stderr: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const kill = () => child.kill('SIGKILL');
  const timer = setTimeout(kill, timeoutMs);
  try {
    const session = await devtools.attachFirstPage(timeoutMs);
    await devtools.send('Page.enable', {}, session);
    await devtools.navigate(session, pathToFileURL(page).href);
    // The page has no scripts: loaded and its fonts ready is printable.
    await devtools.send('Runtime.evaluate', { expression: `new Promise((r) => { const go = () => document.fonts.ready.then(() => r(true)); if (document.readyState === 'complete') go(); else addEventListener('load', go); })`, awaitPromise: true }, session);
    const pdf = (await devtools.send('Page.printToPDF', { printBackground: true, paperWidth: 8.27, paperHeight: 11.69, marginTop: 0.6, marginBottom: 0.6, marginLeft: 0.5, marginRight: 0.5 }, session)) as { data: string };
    const bytes = Buffer.from(pdf.data, 'base64');
    if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw new PalmPayError('PDF_RENDER_FAILED', 'the browser returned no PDF');
    return bytes;
  } catch (err) {
    if (err instanceof PalmPayError && err.code === 'PDF_RENDER_FAILED') throw err;
    const last = stderr.trim().split('\n').pop() ?? '';
    throw new PalmPayError('PDF_RENDER_FAILED', `the browser printing the PDF failed: ${(err as Error).message}${last ? ` (${last})` : ''}`, { cause: err });
  } finally {
    clearTimeout(timer);
    // Close the browser in order first, so its helper processes stop writing to the profile; kill only if it hangs.
    const grace = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    await Promise.race([devtools.send('Browser.close', {}).catch(() => undefined), grace(5_000)]);
    await Promise.race([exited, grace(5_000)]);
    kill();
    await exited;
    // Chromium's helper processes can still be writing to the profile for a moment after the browser exits
    // (ENOTEMPTY under load): retry, since the folder holds the person's report page.
    rmSync(work, { recursive: true, force: true, maxRetries: 30, retryDelay: 100 });
  }
}
