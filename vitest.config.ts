import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// One runner for unit, integration and end-to-end tests. Tests live under test/, by concern.
export default defineConfig({
  // The renderer imports the shared API types as @api/... (as in tsconfig.json and vite.config.ts).
  resolve: { alias: { '@api': fileURLToPath(new URL('./src/api', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: run files in forked workers so native modules (SQLite, serial) stay isolated.
    pool: 'forks',
    reporters: ['default'],
  },
});
