// Lint rules, including the import boundaries between the top folders (see each folder's README).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Import boundaries: who may import what. Exported so the boundary test can assert them. */
export const boundaries = {
  // The core and the drivers never reach the Electron shell or the renderer.
  core: {
    paths: [{ name: 'electron', message: 'src/ and drivers/ must not import electron: only electron/ may.' }],
    patterns: [
      { group: ['electron/*'], message: 'src/ and drivers/ must not import electron.' },
      { regex: '(^|/)(renderer|electron)(/|$)', message: 'src/ and drivers/ must not import the renderer or the Electron shell.' },
    ],
  },
  // The drivers are also free of SQLite and of the core.
  drivers: {
    paths: [
      { name: 'electron', message: 'drivers/ must not import electron.' },
      { name: 'better-sqlite3', message: 'drivers/ must not touch SQLite.' },
    ],
    patterns: [
      { regex: '(^|/)(renderer|electron|src)(/|$)', message: 'drivers/ imports only itself and node packages.' },
    ],
  },
  // The renderer reaches the core only through the shared API types in src/api.
  renderer: {
    paths: [{ name: 'electron', message: 'the renderer talks to the host only through the typed API.' }],
    patterns: [
      { regex: '^(node:|fs$|path$|child_process$|better-sqlite3$|serialport$|node-hid$|usb$)', message: 'the renderer is sandboxed: no Node modules.' },
      { regex: '(^|/)(src|drivers|electron|test|bin)(/|$)', message: 'renderer/ imports only itself and the shared API types (import them as @api/...).' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', '**/assembly/**', 'build/wasm/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/**/*.{ts,tsx}'], rules: { 'no-restricted-imports': ['error', boundaries.core] } },
  { files: ['drivers/**/*.{ts,tsx}'], rules: { 'no-restricted-imports': ['error', boundaries.drivers] } },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', boundaries.renderer] },
  },
);
