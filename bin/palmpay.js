#!/usr/bin/env node
// The one command-line entry. Runs the built JavaScript (dist/cli, from `palmpay build`) when it is newer than every
// source it was built from; otherwise the TypeScript sources through tsx, so no build step is needed. Compiling
// the sources costs seconds at each start, which a counter's cold start cannot spend.
// PALMPAY_FROM_SOURCE=1 always runs the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'dist', 'cli', 'main.mjs');

/** Newest modification time under `path` (the same walk as src/host/app-build.ts isStale). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    t = Math.max(t, newest(join(path, e.name)));
  }
  return t;
}

function builtIsFresh() {
  if (process.env.PALMPAY_FROM_SOURCE === '1' || !existsSync(built)) return false;
  const at = statSync(built).mtimeMs;
  return ['src', 'drivers', 'bench', 'package.json'].every((p) => newest(join(root, p)) <= at);
}

let main;
if (builtIsFresh()) {
  ({ main } = await import(built));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
