import { defineConfig } from 'vitest/config';

// One runner for unit, integration and end-to-end tests. Tests live under test/, by concern.
export default defineConfig({
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
