// The bundled dist/electron/main.cjs (what electron-builder packs) starts against the stand-in `electron`
// module: proves the esbuild bundle loads and wires the real host.
import { mkdtempSync, rmSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { ensureBuilt } from '../../src/host/app-build.ts';
import { START_URL } from '../../electron/security.ts';
import { ipcChannel } from '../../src/api/index.ts';
import { createElectronStandIn } from './stand-in.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const data = mkdtempSync(join(tmpdir(), 'palmpay-bundle-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

it('loads the bundled main process and answers IPC', async () => {
  await ensureBuilt(ROOT, { renderer: true, electron: true });
  const e = createElectronStandIn();
  const M = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = M._load;
  const originalArgv = process.argv;
  M._load = (request, ...rest) => (request === 'electron' ? e.asElectron : originalLoad(request, ...rest));
  process.argv = ['electron', 'main.cjs', '--data', data];
  try {
    createRequire(import.meta.url)(join(ROOT, 'dist', 'electron', 'main.cjs'));
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    M._load = originalLoad;
    process.argv = originalArgv;
  }
  const win = e.BrowserWindow.instances[0]!;
  expect(win.loadedUrl).toBe(START_URL);
  expect((win.options as { webPreferences: { preload: string } }).webPreferences.preload).toBe(join(ROOT, 'dist', 'electron', 'preload.cjs'));
  const reply = await e.ipcMain.handlers.get(ipcChannel('status.get'))!({ senderFrame: win.webContents.mainFrame });
  expect(reply).toMatchObject({ ok: true, output: { mode: 'electron' } });
  const page = await e.protocol.handlers.get('app')!({ url: START_URL });
  expect(await page.text()).toContain('<div id="root">');
});
