// Builds what the terminal runs: the renderer (Vite → dist/renderer) and the Electron main + preload
// (esbuild → dist/electron/*.cjs). `ensureBuilt` rebuilds only when a source is newer than its output, so a
// fresh clone's `npm start` builds once and later starts are instant.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PalmPayError } from '../util/errors.ts';

export interface BuildTargets {
  renderer?: boolean;
  electron?: boolean;
  /** The command line as plain JavaScript (dist/cli), which bin/palmpay.js runs instead of compiling the sources. */
  cli?: boolean;
}

/** Native or optional modules the Electron main must load from node_modules at run time (asarUnpack'd). */
export const ELECTRON_EXTERNALS = ['electron', 'better-sqlite3', 'node-hid', 'usb', 'serialport', '@serialport/*', 'usearch', 'pg-native'];

export function rendererOutput(root: string): string {
  return join(root, 'dist', 'renderer');
}
export function electronOutput(root: string): string {
  return join(root, 'dist', 'electron');
}
/** Two levels below the root on purpose: src/util/repo-root.ts finds the root as '../../' of the running module. */
export function cliOutput(root: string): string {
  return join(root, 'dist', 'cli');
}
/** What the CLI bundle is built from (bin/palmpay.js checks the same folders before using it). */
export const cliInputs = (root: string) => [join(root, 'src'), join(root, 'drivers'), join(root, 'bench'), join(root, 'package.json')];

const rendererInputs = (root: string) => [join(root, 'renderer'), join(root, 'src', 'api'), join(root, 'vite.config.ts')];
const electronInputs = (root: string) => [join(root, 'electron'), join(root, 'src')];

export async function buildRenderer(root: string): Promise<void> {
  const { build } = await import('vite');
  try {
    await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'error' });
  } catch (err) {
    throw new PalmPayError('BUILD_FAILED', `renderer build failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

export async function buildElectron(root: string): Promise<void> {
  const esbuild = await import('esbuild');
  const out = electronOutput(root);
  const common = { bundle: true, minify: true, format: 'cjs', sourcemap: true, logLevel: 'error', outExtension: { '.js': '.cjs' }, outdir: out } as const;
  try {
    await Promise.all([
      esbuild.build({ ...common, entryPoints: { main: join(root, 'electron', 'main.ts') }, platform: 'node', target: 'node22', external: ELECTRON_EXTERNALS }),
      // The preload runs sandboxed: only `electron` may be required, everything else is bundled in.
      esbuild.build({ ...common, entryPoints: { preload: join(root, 'electron', 'preload.ts') }, platform: 'browser', target: 'chrome120', external: ['electron'] }),
    ]);
  } catch (err) {
    throw new PalmPayError('BUILD_FAILED', `Electron bundle failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/**
 * Packages the CLI bundle leaves to node_modules: native addons and the packages that load them (their binaries are
 * found next to their own files), and the build, test and browser tools only a developer command loads.
 */
export const CLI_EXTERNALS = [...ELECTRON_EXTERNALS, 'tsx', 'vite', '@vitejs/*', 'esbuild', 'playwright-core', 'typescript', 'assemblyscript', 'vitest', 'xmllint-wasm', 'electron-builder', '@electron/*', 'fast-check', 'axe-core'];

/**
 * The CLI (src/cli/main.ts and everything it imports) as ES modules in dist/cli, split at each command's dynamic
 * import so a command loads only what it runs. Starting from it saves compiling the TypeScript sources at every
 * start (tsx), and the pure-JavaScript packages are bundled in (a few files instead of hundreds to resolve and
 * compile: fastify, zod, pino and pino-roll cost a counter's cold start about 1 s each way from node_modules).
 */
export async function buildCli(root: string): Promise<void> {
  const esbuild = await import('esbuild');
  const out = cliOutput(root);
  rmSync(out, { recursive: true, force: true });
  try {
    await esbuild.build({
      entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
      bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', external: CLI_EXTERNALS,
      sourcemap: true, logLevel: 'error', outdir: out, outExtension: { '.js': '.mjs' }, chunkNames: '[name]-[hash]',
      // CommonJS packages inside an ES module bundle still call require() for node's own modules.
      banner: { js: "import { createRequire as __palmpayRequire } from 'node:module'; const require = __palmpayRequire(import.meta.url);" },
      plugins: [dateFnsSubset(root), dynamicPackagesExternal],
    });
  } catch (err) {
    throw new PalmPayError('BUILD_FAILED', `CLI bundle failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/**
 * pino-roll require()s all of date-fns (hundreds of modules as CommonJS) for five functions: give it the ES module
 * build, which the bundler trims to those five.
 */
const dateFnsSubset = (root: string) => ({
  name: 'date-fns-subset',
  setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string; importer: string }) => { path: string; namespace: string } | undefined): void; onLoad(o: { filter: RegExp; namespace: string }, cb: () => { contents: string; resolveDir: string; loader: 'js' }): void }) {
    b.onResolve({ filter: /^date-fns$/ }, (a) => (/pino-roll/.test(a.importer) ? { path: 'date-fns-subset', namespace: 'palmpay' } : undefined));
    b.onLoad({ filter: /^date-fns-subset$/, namespace: 'palmpay' }, () => ({
      contents: "export { format } from 'date-fns/format'; export { addDays } from 'date-fns/addDays'; export { addHours } from 'date-fns/addHours'; export { parse } from 'date-fns/parse'; export { isValid } from 'date-fns/isValid';",
      resolveDir: root,
      loader: 'js',
    }));
  },
});

/**
 * A package a command loads with import() stays in node_modules: split out of the bundle, a CommonJS package would
 * keep only its default export (`const { SingleBar } = await import('cli-progress')` would be undefined), while node
 * itself gives it its named exports. Loaded late anyway, it costs the cold start nothing.
 */
const dynamicPackagesExternal = {
  name: 'dynamic-packages-external',
  setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string; kind: string }) => { path: string; external: true } | undefined): void }) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (a.kind === 'dynamic-import' && !a.path.startsWith('node:') ? { path: a.path, external: true } : undefined));
  },
};

export async function buildAll(root: string, targets: BuildTargets = { renderer: true, electron: true, cli: true }): Promise<void> {
  if (targets.renderer) await buildRenderer(root);
  if (targets.electron) await buildElectron(root);
  if (targets.cli) await buildCli(root);
}

/** Builds each requested target whose output is missing or older than its sources. Returns what was built. */
export async function ensureBuilt(root: string, targets: BuildTargets): Promise<string[]> {
  const needed = () =>
    (targets.renderer && isStale(join(rendererOutput(root), 'index.html'), rendererInputs(root))) ||
    (targets.electron && isStale(join(electronOutput(root), 'main.cjs'), electronInputs(root)));
  if (!needed()) return [];
  // Two terminals (or two test files) starting at once must not build into dist/ together.
  return withLock(join(root, 'dist', '.build-lock'), () => buildStale(root, targets));
}

async function buildStale(root: string, targets: BuildTargets): Promise<string[]> {
  const built: string[] = [];
  if (targets.renderer && isStale(join(rendererOutput(root), 'index.html'), rendererInputs(root))) {
    await buildRenderer(root);
    built.push('renderer');
  }
  if (targets.electron && isStale(join(electronOutput(root), 'main.cjs'), electronInputs(root))) {
    await buildElectron(root);
    built.push('electron');
  }
  return built;
}

export function isStale(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return true;
  const builtAt = statSync(output).mtimeMs;
  return inputs.some((input) => newestMtime(input) > builtAt);
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

async function withLock<T>(lockDir: string, work: () => Promise<T>, staleMs = 120_000): Promise<T> {
  mkdirSync(join(lockDir, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // Someone else is building; a lock older than staleMs was left by a crash.
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > staleMs) rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
