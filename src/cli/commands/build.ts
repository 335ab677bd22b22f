// `palmpay build`: the renderer (Vite) and the Electron main + preload (esbuild) into dist/.
import type { Command } from 'commander';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build the renderer (dist/renderer), the Electron main + preload (dist/electron) and the command line as JavaScript (dist/cli, which bin/palmpay.js then runs)')
    .option('--renderer-only', 'build only the renderer')
    .action(async (opts: { rendererOnly?: boolean }) => {
      const { buildAll } = await import('../../host/app-build.ts');
      const { REPO_ROOT } = await import('../../util/repo-root.ts');
      const started = performance.now();
      await buildAll(REPO_ROOT, { renderer: true, electron: !opts.rendererOnly, cli: !opts.rendererOnly });
      console.log(`palmpay build: done in ${((performance.now() - started) / 1000).toFixed(1)} s (dist/)`);
    });
}
